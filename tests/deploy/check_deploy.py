#!/usr/bin/env python3
"""Offline checks of deploy/ (run by CTest, see tests/deploy/CMakeLists.txt).

Containers and clusters cannot run in CI, so this checks what can be checked without
them: every YAML and JSON file parses, the Grafana dashboard queries only known
intentstream metrics (every panel has one), the alert rules carry severities and runbook
links that resolve in docs/operations.md and are each covered by a firing and a quiet
promtool test case, the Kubernetes manifests and the compose file agree with each other
and with the properties files (ports, paths, probes, keys from docs/configuration.md).

  check_deploy.py files     [--root DIR]
  check_deploy.py promtool-kubernetes --promtool PROMTOOL [--root DIR]
  check_deploy.py promtool-dashboard --promtool PROMTOOL [--root DIR]
  check_deploy.py selftest  --promtool PROMTOOL [--root DIR]

`selftest` breaks copies of the files in known ways and requires each check (including
promtool's) to fail, so a check that can no longer fail is noticed.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:  # the CMake side already looks for a python3 with yaml; be explicit
    sys.exit("check_deploy.py: the Python 'yaml' module is missing "
             "(Debian: apt-get install python3-yaml)")

# The metrics the processor exports (docs/operations.md lists them). Histograms are
# queried through their _bucket/_sum/_count series.
COUNTERS = {
    "intentstream_input_messages_total", "intentstream_dead_letters_total",
    "intentstream_output_messages_total", "intentstream_identity_handoffs_sent_total",
    "intentstream_identity_handoffs_merged_total", "intentstream_state_commits_total",
    "intentstream_visitor_cache_requests_total", "intentstream_model_cache_requests_total",
    "intentstream_decisions_total", "intentstream_triggers_total",
    "intentstream_messages_total", "intentstream_message_rephrase_total",
    "intentstream_decision_offers_total", "intentstream_offer_feedback_total",
    "intentstream_policy_removals_total", "intentstream_triggers_suppressed_total",
    "intentstream_feedback_unknown_offer_total", "intentstream_catalogue_reloads_total",
    "intentstream_output_delivery_failures_total", "intentstream_task_idle_waits_total",
    "intentstream_changelog_records_total",
}
HISTOGRAMS = {
    "intentstream_state_commit_seconds", "intentstream_processing_latency_seconds",
    "intentstream_event_lag_seconds", "intentstream_stage_seconds",
    "intentstream_batch_messages", "intentstream_decision_seconds",
    "intentstream_late_events_lateness_seconds", "intentstream_decision_latency_seconds",
}
GAUGES = {
    "intentstream_consumer_lag_messages", "intentstream_assigned_partitions",
    "intentstream_ready", "intentstream_state_live_data_bytes", "intentstream_state_sst_bytes",
    "intentstream_state_memtable_bytes", "intentstream_state_sessions",
    "intentstream_state_pending_compaction_bytes", "intentstream_state_write_stopped",
    "intentstream_offer_parity_skew_ratio", "intentstream_fairness_window_tiles",
    "intentstream_build_info", "intentstream_task_stream_time_seconds",
    "intentstream_task_head_skew_seconds", "intentstream_task_buffered_records",
    "intentstream_restore_restored_records", "intentstream_restore_remaining_records",
}
KNOWN_SERIES = COUNTERS | GAUGES | {h + s for h in HISTOGRAMS for s in ("_bucket", "_sum", "_count")}
METRIC_RE = re.compile(r"\bintentstream_[a-z0-9_]+")
RECORDED_RE = re.compile(r"\bintentstream:[a-z0-9_:]+")
SEVERITIES = {"critical", "warning", "info"}
DASHBOARD_DATASOURCES = {"${DS_PROMETHEUS}", "prometheus"}
HTTP_PORT = 9464


class Checker:
    def __init__(self, root):
        self.root = root
        self.errors = []

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def rel(self, p):
        return os.path.relpath(p, self.root)

    def fail(self, where, msg):
        self.errors.append(f"{where}: {msg}")

    def load_yaml(self, rel_path):
        with open(self.path(rel_path), encoding="utf-8") as f:
            return yaml.safe_load(f)

    # ------------------------------------------------------------------ all files
    def check_parse_all(self):
        found = 0
        for dirpath, _, files in os.walk(self.path("deploy")):
            for name in sorted(files):
                p = os.path.join(dirpath, name)
                if name.endswith((".yml", ".yaml")):
                    found += 1
                    try:
                        with open(p, encoding="utf-8") as f:
                            docs = list(yaml.safe_load_all(f))
                    except yaml.YAMLError as e:
                        self.fail(self.rel(p), f"YAML does not parse: {e}")
                        continue
                    if not any(d is not None for d in docs):
                        self.fail(self.rel(p), "YAML file has no documents")
                elif name.endswith(".json"):
                    found += 1
                    try:
                        with open(p, encoding="utf-8") as f:
                            json.load(f)
                    except ValueError as e:
                        self.fail(self.rel(p), f"JSON does not parse: {e}")
        if found == 0:
            self.fail("deploy/", "no YAML or JSON files found")

    # ------------------------------------------------------------------ metrics
    def recorded(self):
        """Names of the recording rules in alerts.yml."""
        doc = self.load_yaml("deploy/prometheus/alerts.yml")
        return {r["record"] for g in doc.get("groups", []) for r in g.get("rules", []) if "record" in r}

    def check_metric_names(self, where, expr):
        for name in METRIC_RE.findall(expr):
            if name not in KNOWN_SERIES:
                self.fail(where, f"unknown metric '{name}' in: {expr}")

    # ------------------------------------------------------------------ dashboard
    def check_dashboard(self):
        where = "deploy/grafana/dashboards/intentstream.json"
        try:
            with open(self.path(where), encoding="utf-8") as f:
                dash = json.load(f)
        except (OSError, ValueError) as e:
            self.fail(where, f"cannot load: {e}")
            return
        if not isinstance(dash.get("schemaVersion"), int) or dash["schemaVersion"] < 37:
            self.fail(where, f"schemaVersion {dash.get('schemaVersion')!r} < 37")
        if not dash.get("uid") or not dash.get("title"):
            self.fail(where, "dashboard needs a uid and a title")
        variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
        ds_var = variables.get("DS_PROMETHEUS")
        if not ds_var or ds_var.get("type") != "datasource" or ds_var.get("query") != "prometheus":
            self.fail(where, "templating needs a 'DS_PROMETHEUS' variable of type datasource (prometheus)")

        panels = []
        for p in dash.get("panels", []):
            panels.append(p)
            panels.extend(p.get("panels", []))  # panels inside collapsed rows
        ids = [p.get("id") for p in panels]
        if len(ids) != len(set(ids)):
            self.fail(where, "panel ids are not unique")
        queried = set()
        count = 0
        for p in panels:
            if p.get("type") == "row":
                continue
            count += 1
            title = p.get("title", f"panel {p.get('id')}")
            pw = f"{where}: panel '{title}'"
            if "gridPos" not in p:
                self.fail(pw, "no gridPos")
            ds = (p.get("datasource") or {}).get("uid")
            if ds not in DASHBOARD_DATASOURCES:
                self.fail(pw, f"datasource uid {ds!r} is not one of {sorted(DASHBOARD_DATASOURCES)}")
            exprs = [t.get("expr", "") for t in p.get("targets", [])]
            if not any(METRIC_RE.search(e) or re.search(r"\bup\b", e) for e in exprs):
                if not any(RECORDED_RE.search(e) for e in exprs):
                    self.fail(pw, "no target queries an intentstream_ metric, a recording rule or up")
            for e in exprs:
                for name in RECORDED_RE.findall(e):
                    if name not in self.recorded():
                        self.fail(pw, f"'{name}' is not a recording rule in deploy/prometheus/alerts.yml")
            for t in p.get("targets", []):
                tds = (t.get("datasource") or {}).get("uid", ds)
                if tds not in DASHBOARD_DATASOURCES:
                    self.fail(pw, f"target datasource uid {tds!r} unknown")
                self.check_metric_names(pw, t.get("expr", ""))
                queried.update(METRIC_RE.findall(t.get("expr", "")))
        if count == 0:
            self.fail(where, "no panels")
        # The ops view the issue asks for: each of these must be on the dashboard.
        wanted = {
            "throughput": "intentstream_input_messages_total",
            "consumer lag": "intentstream_consumer_lag_messages",
            "end-to-end latency": "intentstream_event_lag_seconds_bucket",
            "processing latency": "intentstream_processing_latency_seconds_bucket",
            "decision latency": "intentstream_decision_latency_seconds_bucket",
            "per-stage latency": "intentstream_stage_seconds_bucket",
            "dead letters by reason": "intentstream_dead_letters_total",
            "model cache": "intentstream_model_cache_requests_total",
            "RocksDB size": "intentstream_state_live_data_bytes",
            "RocksDB stalls": "intentstream_state_write_stopped",
            "compaction": "intentstream_state_pending_compaction_bytes",
            "intent mix": "intentstream_decisions_total",
            "offer mix": "intentstream_triggers_total",
            "fairness skew": "intentstream_offer_parity_skew_ratio",
            "fairness window": "intentstream_fairness_window_tiles",
            "message sources and rephrase results": "intentstream_message_rephrase_total",
            "build info": "intentstream_build_info",
        }
        for what, metric in wanted.items():
            if metric not in queried:
                self.fail(where, f"no panel shows {what} ({metric})")

    # ------------------------------------------------------------------ alerts
    def anchors(self, rel_path):
        anchors = set()
        try:
            with open(self.path(rel_path), encoding="utf-8") as f:
                for line in f:
                    m = re.match(r"^#{1,6}\s+(.*?)\s*$", line)
                    if m:  # GitHub's slug: lower case, punctuation dropped, spaces to '-'
                        text = re.sub(r"[`*_]", "", m.group(1)).strip().lower()
                        anchors.add(re.sub(r"\s", "-", re.sub(r"[^\w\- ]", "", text)))
                    for a in re.findall(r'<a (?:id|name)="([^"]+)"', line):
                        anchors.add(a)
        except OSError as e:
            self.fail(rel_path, f"cannot read: {e}")
        return anchors

    def check_alerts(self):
        where = "deploy/prometheus/alerts.yml"
        try:
            rules_doc = self.load_yaml(where)
            tests_doc = self.load_yaml("deploy/prometheus/alerts_test.yml")
        except (OSError, yaml.YAMLError) as e:
            self.fail(where, f"cannot load: {e}")
            return
        anchors = self.anchors("docs/operations.md")
        alerts = []
        for g in rules_doc.get("groups", []):
            for r in g.get("rules", []):
                if "alert" not in r:
                    continue
                name = r["alert"]
                alerts.append(name)
                aw = f"{where}: {name}"
                self.check_metric_names(aw, str(r.get("expr", "")))
                sev = (r.get("labels") or {}).get("severity")
                if sev not in SEVERITIES:
                    self.fail(aw, f"severity label {sev!r} not in {sorted(SEVERITIES)}")
                ann = r.get("annotations") or {}
                for key in ("summary", "description", "runbook_url"):
                    if not ann.get(key):
                        self.fail(aw, f"no '{key}' annotation")
                url = ann.get("runbook_url", "")
                m = re.fullmatch(r"(?:.*/)?docs/operations\.md#([\w\-]+)", url)
                if not m:
                    self.fail(aw, f"runbook_url {url!r} does not point to docs/operations.md#anchor")
                elif m.group(1) not in anchors:
                    self.fail(aw, f"runbook anchor '#{m.group(1)}' is not a heading in docs/operations.md")
        required = {"IntentstreamConsumerLagGrowing", "IntentstreamDeadLetterRate",
                    "IntentstreamEndToEndLatencySLO", "IntentstreamProcessorDown",
                    "IntentstreamProcessorAbsent", "IntentstreamOfferParitySkew",
                    "IntentstreamStateWriteStall", "IntentstreamNoDecisions"}
        for name in sorted(required - set(alerts)):
            self.fail(where, f"alert {name} is missing")
        if len(alerts) != len(set(alerts)):
            self.fail(where, "duplicate alert names")
        # Every alert: one test case where it fires and one where it must stay quiet.
        fires, quiet = set(), set()
        for t in tests_doc.get("tests", []):
            for art in t.get("alert_rule_test", []):
                (fires if art.get("exp_alerts") else quiet).add(art.get("alertname"))
        for name in alerts:
            if name not in fires:
                self.fail("deploy/prometheus/alerts_test.yml", f"no test case where {name} fires")
            if name not in quiet:
                self.fail("deploy/prometheus/alerts_test.yml", f"no test case where {name} stays quiet")
        if "alerts.yml" not in tests_doc.get("rule_files", []):
            self.fail("deploy/prometheus/alerts_test.yml", "rule_files must list alerts.yml")

    def check_prometheus_configs(self):
        for rel_path in ("deploy/prometheus/prometheus.yml", "deploy/prometheus/prometheus-kubernetes.yml"):
            try:
                cfg = self.load_yaml(rel_path)
            except (OSError, yaml.YAMLError) as e:
                self.fail(rel_path, f"cannot load: {e}")
                continue
            if "alerts.yml" not in (cfg.get("rule_files") or []):
                self.fail(rel_path, "rule_files must list alerts.yml")
            jobs = {j.get("job_name"): j for j in cfg.get("scrape_configs", [])}
            if "intentstream" not in jobs:
                self.fail(rel_path, "no scrape job named 'intentstream' (the alerts select on it)")

    # ------------------------------------------------------------------ properties
    def documented_keys(self):
        keys = set()
        try:
            with open(self.path("docs/configuration.md"), encoding="utf-8") as f:
                for line in f:
                    m = re.match(r"^\|\s*`([a-z0-9_.]+)`\s*\|", line)
                    if m:
                        keys.add(m.group(1))
        except OSError as e:
            self.fail("docs/configuration.md", f"cannot read: {e}")
        return keys

    def parse_properties(self, where, text):
        props = {}
        keys = self.documented_keys()
        for n, line in enumerate(text.splitlines(), 1):
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            if "=" not in s:
                self.fail(where, f"line {n}: expected 'key = value': {s}")
                continue
            k, v = (x.strip() for x in s.split("=", 1))
            if k not in keys and not k.startswith("kafka."):
                self.fail(where, f"line {n}: key '{k}' is not in docs/configuration.md")
            props[k] = v
        for k in ("kafka.bootstrap.servers", "group.id", "state.dir", "http.listen"):
            if k not in props:
                self.fail(where, f"'{k}' is not set")
        if props.get("http.listen") != f"0.0.0.0:{HTTP_PORT}":
            self.fail(where, f"http.listen must be 0.0.0.0:{HTTP_PORT} in a container "
                             f"(got {props.get('http.listen')!r})")
        # The processor refuses a non-loopback listen address without a token; the
        # token comes from a mounted secret file, never from the properties themselves.
        if not props.get("http.auth_token_file", "").startswith("/"):
            self.fail(where, "http.auth_token_file must name the mounted secret with the lookup "
                             "API's bearer token (an absolute path)")
        return props

    # ------------------------------------------------------------------ kubernetes
    def check_kubernetes(self):
        base = "deploy/k8s"
        try:
            kust = self.load_yaml(f"{base}/kustomization.yaml")
        except (OSError, yaml.YAMLError) as e:
            self.fail(base, f"kustomization.yaml: {e}")
            return
        if kust.get("namespace"):
            self.fail(f"{base}/kustomization.yaml", "manifests must stay namespace-agnostic")
        objects = []
        for res in kust.get("resources", []):
            p = self.path(base, res)
            if not os.path.isfile(p):
                self.fail(f"{base}/kustomization.yaml", f"resource {res} does not exist")
                continue
            with open(p, encoding="utf-8") as f:
                for doc in yaml.safe_load_all(f):
                    if doc:
                        objects.append((f"{base}/{res}", doc))
        by_kind = {}
        for where, o in objects:
            if not o.get("apiVersion") or not o.get("kind") or not (o.get("metadata") or {}).get("name"):
                self.fail(where, "object without apiVersion, kind or metadata.name")
                continue
            if (o.get("metadata") or {}).get("namespace"):
                self.fail(where, "metadata.namespace set: manifests must be namespace-agnostic")
            by_kind.setdefault(o["kind"], []).append((where, o))

        def one(kind):
            items = by_kind.get(kind, [])
            if not items:
                self.fail(base, f"no {kind}")
            return items

        sts_items = one("StatefulSet")
        if not sts_items:
            return
        where, sts = sts_items[0]
        spec = sts.get("spec") or {}
        tmpl = spec.get("template") or {}
        pod = tmpl.get("spec") or {}
        labels = (tmpl.get("metadata") or {}).get("labels") or {}
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            self.fail(where, "selector.matchLabels does not match the pod template labels")
        if spec.get("podManagementPolicy") != "Parallel":
            self.fail(where, "podManagementPolicy must be Parallel")
        if int(pod.get("terminationGracePeriodSeconds") or 30) < 60:
            self.fail(where, "terminationGracePeriodSeconds < 60: too short to drain and commit")
        psc = pod.get("securityContext") or {}
        if not psc.get("runAsNonRoot"):
            self.fail(where, "pod securityContext.runAsNonRoot must be true")
        vcts = {(v.get("metadata") or {}).get("name"): v for v in spec.get("volumeClaimTemplates") or []}
        if not vcts:
            self.fail(where, "no volumeClaimTemplates (RocksDB state needs a volume per replica)")
        containers = pod.get("containers") or []
        if not containers:
            self.fail(where, "no containers")
            return
        c = containers[0]
        cw = f"{where}: container {c.get('name')}"
        ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}

        def probe_ok(kind, path):
            probe = c.get(kind) or {}
            get = probe.get("httpGet") or {}
            port = get.get("port")
            port = ports.get(port, port) if isinstance(port, str) else port
            if get.get("path") != path or port != HTTP_PORT:
                self.fail(cw, f"{kind} must be httpGet {path} on port {HTTP_PORT} (got {get or None})")

        probe_ok("livenessProbe", "/healthz")
        probe_ok("readinessProbe", "/readyz")
        for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
            get = (c.get(kind) or {}).get("httpGet") or {}
            if kind == "startupProbe" and get and get.get("path") not in ("/healthz", "/readyz"):
                self.fail(cw, f"startupProbe must use an open endpoint (/healthz or /readyz), got {get.get('path')!r}")
            if any(str(h.get("name", "")).lower() == "authorization" for h in get.get("httpHeaders") or []):
                self.fail(cw, f"{kind} sends an Authorization header: probes use the open endpoints")
        res = c.get("resources") or {}
        for part in ("requests", "limits"):
            for r in ("cpu", "memory") if part == "requests" else ("memory",):
                if not (res.get(part) or {}).get(r):
                    self.fail(cw, f"resources.{part}.{r} not set")
        csc = c.get("securityContext") or {}
        if csc.get("readOnlyRootFilesystem") is not True:
            self.fail(cw, "securityContext.readOnlyRootFilesystem must be true")
        if csc.get("allowPrivilegeEscalation") is not False:
            self.fail(cw, "securityContext.allowPrivilegeEscalation must be false")
        mounts = {m.get("name"): m for m in c.get("volumeMounts") or []}
        state_mounts = [m for n, m in mounts.items() if n in vcts and not m.get("readOnly")]
        if not state_mounts:
            self.fail(cw, "no writable volumeMount of a volumeClaimTemplate (the state volume)")

        # The ConfigMap's properties: the file the container reads, consistent with the pod.
        cms = {o["metadata"]["name"]: (w, o) for w, o in by_kind.get("ConfigMap", [])}
        vols = {v.get("name"): v for v in pod.get("volumes") or []}
        cm_vol = next((v for v in vols.values() if "configMap" in v), None)
        if not cm_vol or cm_vol["configMap"].get("name") not in cms:
            self.fail(where, "no volume from the ConfigMap with the properties file")
        else:
            cw2, cm = cms[cm_vol["configMap"]["name"]]
            data = cm.get("data") or {}
            if "intentstream.properties" not in data:
                self.fail(cw2, "ConfigMap has no intentstream.properties key")
            else:
                props = self.parse_properties(f"{cw2} (intentstream.properties)", data["intentstream.properties"])
                cfg_mount = mounts.get(cm_vol["name"])
                args = c.get("args") or []
                if not cfg_mount:
                    self.fail(cw, "the ConfigMap volume is not mounted")
                elif "--config" not in args or \
                        args[args.index("--config") + 1] != cfg_mount["mountPath"].rstrip("/") + "/intentstream.properties":
                    self.fail(cw, "args must pass --config <configmap mount>/intentstream.properties")
                sd = props.get("state.dir", "")
                if not any(sd.startswith(m["mountPath"].rstrip("/") + "/") or sd == m["mountPath"]
                           for m in state_mounts):
                    self.fail(cw2, f"state.dir {sd!r} is not on the state volume")
                self.check_token_volume(cw, props, mounts, vols)
                if props.get("http.tls_cert_file"):
                    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
                        get = (c.get(kind) or {}).get("httpGet") or {}
                        if get and get.get("scheme") != "HTTPS":
                            self.fail(cw, f"http.tls_cert_file is set: {kind} needs scheme: HTTPS")

        services = by_kind.get("Service", [])
        headless = [o for _, o in services if (o.get("spec") or {}).get("clusterIP") == "None"]
        if not headless:
            self.fail(base, "no headless Service (clusterIP: None)")
        elif spec.get("serviceName") != headless[0]["metadata"]["name"]:
            self.fail(where, "serviceName must name the headless Service")
        if not [o for _, o in services if (o.get("spec") or {}).get("clusterIP") != "None"]:
            self.fail(base, "no ClusterIP Service for metrics and the API")
        for sw, s in services:
            sel = (s.get("spec") or {}).get("selector") or {}
            if not sel or any(labels.get(k) != v for k, v in sel.items()):
                self.fail(sw, "Service selector does not match the pods")
        for pw, pdb in one("PodDisruptionBudget"):
            pspec = pdb.get("spec") or {}
            if pspec.get("maxUnavailable") != 1:
                self.fail(pw, "maxUnavailable must be 1")
            sel = (pspec.get("selector") or {}).get("matchLabels") or {}
            if not sel or any(labels.get(k) != v for k, v in sel.items()):
                self.fail(pw, "PodDisruptionBudget selector does not match the pods")
        ann = (tmpl.get("metadata") or {}).get("annotations") or {}
        if ann.get("prometheus.io/scrape") != "true" or ann.get("prometheus.io/port") != str(HTTP_PORT):
            self.fail(where, "pod template needs prometheus.io/scrape and prometheus.io/port annotations")

    def check_token_volume(self, cw, props, mounts, vols):
        """http.auth_token_file is a file of a read-only volume from a Secret."""
        tok = props.get("http.auth_token_file", "")
        for name, m in mounts.items():
            root = m.get("mountPath", "").rstrip("/") + "/"
            vol = vols.get(name) or {}
            if not tok.startswith(root) or "secret" not in vol:
                continue
            if not m.get("readOnly"):
                self.fail(cw, f"the Secret volume '{name}' with the token must be mounted readOnly")
            items = vol["secret"].get("items")
            if items and tok[len(root):] not in [i.get("path") for i in items]:
                self.fail(cw, f"http.auth_token_file {tok!r} is not one of the items of Secret volume '{name}'")
            if not vol["secret"].get("secretName"):
                self.fail(cw, f"volume '{name}' names no Secret")
            return
        self.fail(cw, f"http.auth_token_file {tok!r} is not on a volume mounted from a Secret")

    # ------------------------------------------------------------------ compose
    def check_compose(self):
        base = "deploy/compose"
        where = f"{base}/docker-compose.yml"
        try:
            comp = self.load_yaml(where)
        except (OSError, yaml.YAMLError) as e:
            self.fail(where, f"cannot load: {e}")
            return
        services = comp.get("services") or {}
        for s in ("kafka", "kafka-init", "intentstream", "prometheus", "grafana"):
            if s not in services:
                self.fail(where, f"no '{s}' service")
        if any(s not in services for s in ("kafka", "intentstream", "prometheus", "grafana")):
            return
        named_volumes = set((comp.get("volumes") or {}).keys())

        def mounts(svc):
            out = {}
            for v in services[svc].get("volumes") or []:
                parts = v.split(":") if isinstance(v, str) else [v.get("source"), v.get("target")]
                src, dst = parts[0], parts[1]
                if src.startswith((".", "/")):
                    p = os.path.normpath(os.path.join(self.path(base), src))
                    if not os.path.exists(p):
                        self.fail(where, f"{svc}: bind mount source {src} does not exist")
                    out[dst] = p
                else:
                    if src not in named_volumes:
                        self.fail(where, f"{svc}: volume '{src}' is not declared")
                    out[dst] = None
            return out

        kenv = services["kafka"].get("environment") or {}
        if "controller" not in str(kenv.get("KAFKA_PROCESS_ROLES", "")):
            self.fail(where, "kafka must run in KRaft mode (KAFKA_PROCESS_ROLES with controller)")
        init = services.get("kafka-init") or {}
        init_mounts = mounts("kafka-init") if init else {}
        if not any(p and p.endswith("create-topics.sh") for p in init_mounts.values()):
            self.fail(where, "kafka-init does not mount create-topics.sh")

        isvc = services["intentstream"]
        build = isvc.get("build") or {}
        dockerfile = os.path.normpath(os.path.join(self.path(base), build.get("context", "."),
                                                   build.get("dockerfile", "Dockerfile")))
        if not os.path.isfile(dockerfile):
            self.fail(where, f"intentstream: Dockerfile {self.rel(dockerfile)} does not exist")
        dep = (isvc.get("depends_on") or {})
        if (dep.get("kafka-init") or {}).get("condition") != "service_completed_successfully":
            self.fail(where, "intentstream must wait for kafka-init to complete")
        im = mounts("intentstream")
        cmd = isvc.get("command") or []
        cfg = cmd[cmd.index("--config") + 1] if "--config" in cmd else None
        if cfg not in im or not im[cfg]:
            self.fail(where, "intentstream: --config file is not a bind-mounted file")
        else:
            with open(im[cfg], encoding="utf-8") as f:
                props = self.parse_properties(self.rel(im[cfg]), f.read())
            sd = props.get("state.dir", "")
            if not any(sd.startswith(d.rstrip("/") + "/") for d, src in im.items() if src is None):
                self.fail(where, f"intentstream: state.dir {sd!r} is not on a named volume")
            if props.get("kafka.bootstrap.servers", "").split(":")[0] != "kafka":
                self.fail(self.rel(im[cfg]), "kafka.bootstrap.servers must point at the kafka service")
            self.check_compose_token(where, comp, isvc, props.get("http.auth_token_file", ""))
        test = " ".join(str(t) for t in ((isvc.get("healthcheck") or {}).get("test") or []))
        if "/healthz" not in test or "Authorization" in test:
            self.fail(where, "intentstream: the healthcheck must GET the open /healthz endpoint")
        if int(str(isvc.get("stop_grace_period", "10s")).rstrip("s")) < 60:
            self.fail(where, "intentstream: stop_grace_period < 60s: too short to drain and commit")

        pm = mounts("prometheus")
        pcmd = " ".join(services["prometheus"].get("command") or [])
        m = re.search(r"--config\.file=(\S+)", pcmd)
        cdir = os.path.dirname(m.group(1)) if m else None
        if cdir not in pm or pm[cdir] != self.path("deploy/prometheus"):
            self.fail(where, "prometheus must mount deploy/prometheus at the --config.file directory")
        else:
            pcfg = self.load_yaml("deploy/prometheus/prometheus.yml")
            targets = [t for j in pcfg.get("scrape_configs", []) if j.get("job_name") == "intentstream"
                       for sc in j.get("static_configs", []) for t in sc.get("targets", [])]
            if f"intentstream:{HTTP_PORT}" not in targets:
                self.fail("deploy/prometheus/prometheus.yml", f"intentstream job must scrape intentstream:{HTTP_PORT}")

        gm = mounts("grafana")
        if gm.get("/etc/grafana/provisioning") != self.path("deploy/grafana/provisioning"):
            self.fail(where, "grafana must mount deploy/grafana/provisioning at /etc/grafana/provisioning")
        dash_dirs = [d for d, src in gm.items() if src == self.path("deploy/grafana/dashboards")]
        try:
            prov = self.load_yaml("deploy/grafana/provisioning/dashboards/intentstream.yml")
            paths = [(p.get("options") or {}).get("path") for p in prov.get("providers", [])]
        except (OSError, yaml.YAMLError) as e:
            self.fail("deploy/grafana/provisioning/dashboards", str(e))
            paths = []
        if not dash_dirs or dash_dirs[0] not in paths:
            self.fail(where, "grafana's dashboard provider path is not where deploy/grafana/dashboards is mounted")
        try:
            dsp = self.load_yaml("deploy/grafana/provisioning/datasources/prometheus.yml")
            urls = [d.get("url") for d in dsp.get("datasources", []) if d.get("type") == "prometheus"]
            if "http://prometheus:9090" not in urls:
                self.fail("deploy/grafana/provisioning/datasources/prometheus.yml",
                          "no prometheus data source at http://prometheus:9090")
        except (OSError, yaml.YAMLError) as e:
            self.fail("deploy/grafana/provisioning/datasources", str(e))

    def check_compose_token(self, where, comp, isvc, tok):
        """http.auth_token_file is a compose secret of the service, read from a file that
        git ignores."""
        targets = {}
        for sec in isvc.get("secrets") or []:
            name = sec if isinstance(sec, str) else sec.get("source")
            target = name if isinstance(sec, str) else sec.get("target", name)
            targets[target if str(target).startswith("/") else f"/run/secrets/{target}"] = name
        if tok not in targets:
            self.fail(where, f"intentstream: http.auth_token_file {tok!r} is not one of its secrets "
                             f"({sorted(targets) or 'none'})")
            return
        spec = (comp.get("secrets") or {}).get(targets[tok]) or {}
        if not spec.get("file"):
            self.fail(where, f"secret '{targets[tok]}' must come from a file")
            return
        secret_file = os.path.normpath(os.path.join(self.path("deploy/compose"), spec["file"]))
        ignore = os.path.join(os.path.dirname(secret_file), ".gitignore")
        try:
            with open(ignore, encoding="utf-8") as f:
                patterns = [line.strip() for line in f if line.strip() and not line.startswith("#")]
        except OSError:
            patterns = []
        if "*" not in patterns or f"!{os.path.basename(secret_file)}" in patterns:
            self.fail(where, f"secret file {self.rel(secret_file)} is not kept out of git by a "
                             f"'*' in {self.rel(ignore)}")

    def run_all(self):
        self.check_parse_all()
        for check in (self.check_dashboard, self.check_alerts, self.check_prometheus_configs,
                      self.check_kubernetes, self.check_compose):
            try:
                check()
            except Exception as e:  # a malformed file must fail the check, not crash it
                self.fail(check.__name__, f"{type(e).__name__}: {e}")
        return self.errors


def run_files(root):
    errors = Checker(root).run_all()
    for e in errors:
        print(f"FAIL {e}")
    if not errors:
        print("deploy/: all files parse; dashboard, alerts, Kubernetes and compose files are consistent")
    return 1 if errors else 0


def promtool(promtool_bin, *args, cwd=None):
    p = subprocess.run([promtool_bin, *args], cwd=cwd, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def run_promtool_kubernetes(root, promtool_bin):
    """promtool check config on prometheus-kubernetes.yml. Debian's Prometheus is built
    without Kubernetes service discovery; then the kubernetes_sd_configs blocks are
    replaced by static targets and everything else (relabelling, rule files) is checked."""
    src = os.path.join(root, "deploy", "prometheus", "prometheus-kubernetes.yml")
    rc, out = promtool(promtool_bin, "check", "config", src)
    print(out)
    if rc == 0 or "kubernetes_sd_configs" not in out:
        return rc
    print("note: this promtool has no Kubernetes service discovery; checking the rest with "
          "kubernetes_sd_configs replaced by static_configs")
    with open(src, encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    for job in cfg.get("scrape_configs", []):
        if job.pop("kubernetes_sd_configs", None) is not None:
            job["static_configs"] = [{"targets": ["placeholder:9464"]}]
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(os.path.join(root, "deploy", "prometheus", "alerts.yml"), tmp)
        dst = os.path.join(tmp, "prometheus-kubernetes.yml")
        with open(dst, "w", encoding="utf-8") as f:
            yaml.safe_dump(cfg, f, sort_keys=False)
        rc, out = promtool(promtool_bin, "check", "config", dst)
        print(out)
        return rc


def dashboard_rules(root):
    """The dashboard's queries as recording rules, with Grafana's variables substituted,
    so promtool parses every one of them as PromQL."""
    with open(os.path.join(root, "deploy", "grafana", "dashboards", "intentstream.json"), encoding="utf-8") as f:
        dash = json.load(f)
    subst = [("$__rate_interval", "1m"), ("$__interval", "1m"), ("$__range", "1h"),
             ("${job}", "intentstream"), ("$job", "intentstream"),
             ("${instance}", ".*"), ("$instance", ".*")]
    rules = []
    panels = []
    for p in dash.get("panels", []):
        panels.append(p)
        panels.extend(p.get("panels", []))
    for p in panels:
        for t in p.get("targets", []):
            expr = t.get("expr", "")
            for a, b in subst:
                expr = expr.replace(a, b)
            if expr:
                rules.append({"record": f"dashboard:panel_{p.get('id')}:{t.get('refId', 'A')}", "expr": expr})
    return {"groups": [{"name": "dashboard-queries", "rules": rules}]}


def run_promtool_dashboard(root, promtool_bin):
    doc = dashboard_rules(root)
    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, "dashboard-queries.yml")
        with open(p, "w", encoding="utf-8") as f:
            yaml.safe_dump(doc, f, sort_keys=False)
        rc, out = promtool(promtool_bin, "check", "rules", p)
    print(out.replace(p, "dashboard queries"))
    print(f"{len(doc['groups'][0]['rules'])} dashboard queries parsed as PromQL" if rc == 0 else
          "some dashboard queries are not valid PromQL")
    return rc


def run_selftest(root, promtool_bin):
    """Each check must fail on a broken copy of the files."""
    results = []

    def case(name, mutate, check):
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copytree(os.path.join(root, "deploy"), os.path.join(tmp, "deploy"))
            os.makedirs(os.path.join(tmp, "docs"))
            for doc in ("operations.md", "configuration.md"):
                shutil.copy(os.path.join(root, "docs", doc), os.path.join(tmp, "docs", doc))
            mutate(tmp)
            failed, detail = check(tmp)
            results.append((name, failed, detail))

    def edit(tmp, rel_path, old, new):
        p = os.path.join(tmp, rel_path)
        with open(p, encoding="utf-8") as f:
            text = f.read()
        if old not in text:
            raise AssertionError(f"selftest: '{old}' not found in {rel_path}; update the selftest")
        with open(p, "w", encoding="utf-8") as f:
            f.write(text.replace(old, new, 1))

    def edit_json(tmp, rel_path, fn):
        p = os.path.join(tmp, rel_path)
        with open(p, encoding="utf-8") as f:
            d = json.load(f)
        fn(d)
        with open(p, "w", encoding="utf-8") as f:
            json.dump(d, f)

    def edit_yaml_docs(tmp, rel_path, fn):
        p = os.path.join(tmp, rel_path)
        with open(p, encoding="utf-8") as f:
            docs = list(yaml.safe_load_all(f))
        for d in docs:
            fn(d)
        with open(p, "w", encoding="utf-8") as f:
            yaml.safe_dump_all(docs, f)

    def files_check(tmp):
        errors = Checker(tmp).run_all()
        return bool(errors), "; ".join(errors[:2])

    def promtool_check(*args):
        def check(tmp):
            rc, out = promtool(promtool_bin, *args, cwd=os.path.join(tmp, "deploy", "prometheus"))
            return rc != 0, out.strip().splitlines()[-1] if out.strip() else f"rc={rc}"
        return check

    # The unmodified files pass every check (otherwise the cases below prove nothing).
    base_errors = Checker(root).run_all()
    if base_errors:
        print("FAIL the unmodified files do not pass: " + "; ".join(base_errors))
        return 1

    case("promtool test rules: dead-letter threshold 1% -> 50%",
         lambda t: edit(t, "deploy/prometheus/alerts.yml", "> 0.01\n", "> 0.5\n"),
         promtool_check("test", "rules", "alerts_test.yml"))
    case("promtool test rules: parity skew bound 0.15 -> 0.25",
         lambda t: edit(t, "deploy/prometheus/alerts.yml", "abs(intentstream_offer_parity_skew_ratio) > 0.15",
                        "abs(intentstream_offer_parity_skew_ratio) > 0.25"),
         promtool_check("test", "rules", "alerts_test.yml"))
    case("promtool test rules: parity skew without abs() (negative skew missed)",
         lambda t: edit(t, "deploy/prometheus/alerts.yml", "abs(intentstream_offer_parity_skew_ratio) > 0.15",
                        "intentstream_offer_parity_skew_ratio > 0.15"),
         promtool_check("test", "rules", "alerts_test.yml"))
    case("promtool test rules: processor-down 'for' 2m -> 10m",
         lambda t: edit(t, "deploy/prometheus/alerts.yml", "== 0\n        for: 2m", "== 0\n        for: 10m"),
         promtool_check("test", "rules", "alerts_test.yml"))
    case("promtool check rules: PromQL syntax error",
         lambda t: edit(t, "deploy/prometheus/alerts.yml", "intentstream_state_write_stopped == 1",
                        "intentstream_state_write_stopped == == 1"),
         promtool_check("check", "rules", "alerts.yml"))
    case("promtool check config: missing rule file",
         lambda t: os.remove(os.path.join(t, "deploy", "prometheus", "alerts.yml")),
         promtool_check("check", "config", "prometheus.yml"))
    case("promtool check config: unknown field",
         lambda t: edit(t, "deploy/prometheus/prometheus.yml", "scrape_interval: 15s", "scrape_intervall: 15s"),
         promtool_check("check", "config", "prometheus.yml"))
    case("files: YAML syntax error",
         lambda t: edit(t, "deploy/k8s/service.yaml", "  ports:\n", "  ports: [\n"),
         files_check)
    case("files: dashboard panel without an intentstream_ or up query",
         lambda t: edit_json(t, "deploy/grafana/dashboards/intentstream.json",
                             lambda d: [tg.update(expr="vector(1)") for tg in
                                        next(p for p in d["panels"] if p["type"] != "row")["targets"]]),
         files_check)
    case("files: dashboard uses an unknown metric name",
         lambda t: edit(t, "deploy/grafana/dashboards/intentstream.json",
                        "intentstream_dead_letters_total", "intentstream_dead_letter_total"),
         files_check)
    def dashboard_promql(tmp):
        rc = run_promtool_dashboard(tmp, promtool_bin)
        return rc != 0, f"rc={rc}"

    case("promtool check rules: dashboard query with a PromQL syntax error",
         lambda t: edit(t, "deploy/grafana/dashboards/intentstream.json",
                        "sum by (reason) (rate(", "sum by (reason) (rate(("),
         dashboard_promql)
    case("files: StatefulSet without readinessProbe",
         lambda t: edit_yaml_docs(t, "deploy/k8s/statefulset.yaml",
                                  lambda d: d["spec"]["template"]["spec"]["containers"][0].pop("readinessProbe")),
         files_check)
    case("files: liveness probe on the wrong path",
         lambda t: edit_yaml_docs(t, "deploy/k8s/statefulset.yaml",
                                  lambda d: d["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
                                  ["httpGet"].update(path="/readyz")),
         files_check)
    case("files: runbook anchor missing from docs/operations.md",
         lambda t: edit(t, "docs/operations.md", "### IntentstreamStateWriteStall", "### State write stall"),
         files_check)
    def drop_quiet_write_stall_cases(t):
        for at in ("1m", "7m   # resolved"):
            edit(t, "deploy/prometheus/alerts_test.yml",
                 f"      - eval_time: {at}\n        alertname: IntentstreamStateWriteStall\n"
                 "        exp_alerts: []\n", "")

    case("files: alert without a quiet test case", drop_quiet_write_stall_cases, files_check)
    case("files: compose properties with an undocumented key",
         lambda t: edit(t, "deploy/compose/intentstream.properties", "log.level = info", "log.levle = info"),
         files_check)
    case("files: properties without http.auth_token_file",
         lambda t: edit(t, "deploy/k8s/configmap.yaml",
                        "    http.auth_token_file = /var/run/secrets/intentstream/http-token\n", ""),
         files_check)
    case("files: token file not on the Secret volume",
         lambda t: edit(t, "deploy/k8s/statefulset.yaml",
                        "mountPath: /var/run/secrets/intentstream\n", "mountPath: /var/run/secrets/other\n"),
         files_check)
    case("files: compose token secret not given to the processor",
         lambda t: edit(t, "deploy/compose/docker-compose.yml", "    secrets:\n      - http_token\n", ""),
         files_check)
    case("files: compose state.dir off the volume",
         lambda t: edit(t, "deploy/compose/intentstream.properties",
                        "state.dir = /var/lib/intentstream/state", "state.dir = /tmp/state"),
         files_check)

    bad = 0
    for name, failed, detail in results:
        detail = " ".join(detail.split())[:200]
        print(f"{'ok  ' if failed else 'FAIL'} {name}: " + (f"detected ({detail})" if failed else "NOT detected"))
        bad += 0 if failed else 1
    print(f"{len(results) - bad}/{len(results)} broken variants detected")
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["files", "promtool-kubernetes", "promtool-dashboard", "selftest"])
    ap.add_argument("--root", default=os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..")))
    ap.add_argument("--promtool", default=shutil.which("promtool"))
    args = ap.parse_args()
    if args.mode == "files":
        return run_files(args.root)
    if not args.promtool or not os.access(args.promtool, os.X_OK):
        print("check_deploy.py: promtool not found (Debian: apt-get install prometheus; tools/setup.sh installs it)")
        return 1
    if args.mode == "promtool-kubernetes":
        return run_promtool_kubernetes(args.root, args.promtool)
    if args.mode == "promtool-dashboard":
        return run_promtool_dashboard(args.root, args.promtool)
    return run_selftest(args.root, args.promtool)


if __name__ == "__main__":
    sys.exit(main())
