#include "runtime/options.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>

#include "ingest/dead_letter.h"
#include "serve/http_server.h"

namespace intentstream::runtime {

namespace {

using Spec = OptionSpec<ProcessorOptions>;
constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();
// What a Kafka record adds to its key and value (headers, lengths, attributes).
constexpr size_t kRecordOverheadBytes = 512;

Spec Str(std::string key, std::string def, std::string doc, std::string ProcessorOptions::*field) {
  return Spec{
      std::move(key), std::move(def), std::move(doc),
      [field](ProcessorOptions& o, const std::string&, const std::string& v) { o.*field = v; }};
}

Spec Topic(std::string key, std::string def, std::string doc, std::string TopicNames::*field) {
  return Spec{std::move(key), std::move(def), std::move(doc),
              [field](ProcessorOptions& o, const std::string& k, const std::string& v) {
                if (v.empty()) throw ConfigError(k, "topic name is empty");
                o.topics.*field = v;
              }};
}

template <typename Setter>
Spec Int(std::string key, std::string def, std::string doc, int64_t min, int64_t max, Setter set) {
  return Spec{std::move(key), std::move(def), std::move(doc),
              [min, max, set](ProcessorOptions& o, const std::string& k, const std::string& v) {
                set(o, ParseInt(k, v, min, max));
              }};
}

template <typename Setter>
Spec Bool(std::string key, std::string def, std::string doc, Setter set) {
  return Spec{std::move(key), std::move(def), std::move(doc),
              [set](ProcessorOptions& o, const std::string& k, const std::string& v) {
                set(o, ParseBool(k, v));
              }};
}

std::vector<Spec> BuildSpecs() {
  using O = ProcessorOptions;
  std::vector<Spec> s;
  s.push_back(Topic("topic.web", "web-events", "Input: pre-login web events, key anonymous_id",
                    &TopicNames::web));
  s.push_back(
      Topic("topic.app", "app-events", "Input: in-app events, key customer_id", &TopicNames::app));
  s.push_back(Topic("topic.links", "identity-links", "Input: identity links, key anonymous_id",
                    &TopicNames::links));
  s.push_back(Topic("topic.profiles", "customer-profiles",
                    "Input (compacted): customer profiles, key customer_id",
                    &TopicNames::profiles));
  s.push_back(Spec{"topic.handoff", "<group.id>-identity-handoff",
                   "Internal repartition topic for identity hand-offs and task watermarks, key "
                   "customer_id; same partition count as the inputs. Named after the consumer "
                   "group, so two groups never merge each other's hand-offs",
                   [](ProcessorOptions& o, const std::string& k, const std::string& v) {
                     if (v.empty()) throw ConfigError(k, "topic name is empty");
                     o.topics.handoff = v;
                   }});
  s.push_back(Topic("topic.decisions", "decisions", "Output: decisions", &TopicNames::decisions));
  s.push_back(
      Topic("topic.triggers", "triggers", "Output: marketing triggers", &TopicNames::triggers));
  s.push_back(Topic("topic.dead_letters", "dead-letters", "Output: rejected input with reason",
                    &TopicNames::dead_letters));
  s.push_back(Str("group.id", "intentstream", "Kafka consumer group id", &O::group_id));
  s.push_back(Spec{"state.dir", "./intentstream-state",
                   "RocksDB directory (one per process; created if missing)",
                   [](O& o, const std::string& k, const std::string& v) {
                     if (v.empty()) throw ConfigError(k, "path is empty");
                     o.store.dir = v;
                   }});
  s.push_back(Int("state.session_ttl_s", "2592000",
                  "Visitors not written for this many seconds are dropped in compaction", 0,
                  kMaxInt,
                  [](O& o, int64_t v) { o.store.session_ttl_s = static_cast<int32_t>(v); }));
  s.push_back(Int("state.dedup_ttl_s", "604800",
                  "Seen event ids are remembered at least this many seconds", 1, kMaxInt,
                  [](O& o, int64_t v) { o.store.dedup_ttl_s = static_cast<int32_t>(v); }));
  s.push_back(Int("state.block_cache_bytes", "67108864", "RocksDB block cache size, bytes", 1 << 20,
                  int64_t{1} << 40,
                  [](O& o, int64_t v) { o.store.block_cache_bytes = static_cast<size_t>(v); }));
  s.push_back(Bool("state.sync_commits", "false",
                   "fsync the WAL at every commit (survives power loss, slower)",
                   [](O& o, bool v) { o.store.sync_commits = v; }));
  s.push_back(Bool("state.rebuild_from_beginning", "true",
                   "Without a local offset, read a partition from its beginning",
                   [](O& o, bool v) { o.rebuild_from_beginning = v; }));
  s.push_back(Bool("state.changelog", "true",
                   "Write state changes to compacted changelog topics "
                   "(<group.id>-<store>-changelog) before they commit, and restore a partition "
                   "whose local state is missing or behind from them on assignment",
                   [](O& o, bool v) { o.changelog = v; }));
  s.push_back(Int("state.restore_batch_records", "5000",
                  "Changelog records per RocksDB write while restoring (the progress a "
                  "restore killed half-way keeps)",
                  1, 1 << 24,
                  [](O& o, int64_t v) { o.restore_batch_records = static_cast<int>(v); }));
  s.push_back(Int("state.standby_replicas", "0",
                  "Warm copies kept of other members' partitions: this process follows the "
                  "changelogs of the partitions of the next N members (range assignment), so "
                  "a failover to it restores only the tail; needs state.changelog",
                  0, 16, [](O& o, int64_t v) { o.standby_replicas = static_cast<int>(v); }));
  s.push_back(Int("state.standby_interval_ms", "500",
                  "How often a standby catches up with the changelogs it follows, ms", 10, 600000,
                  [](O& o, int64_t v) { o.standby_interval_ms = static_cast<int>(v); }));
  s.push_back(Int("session.gap_ms", "1800000", "Inactivity gap that starts a new session, ms", 1000,
                  int64_t{1} << 40, [](O& o, int64_t v) { o.session.session_gap_ms = v; }));
  s.push_back(Int("session.max_events", "64", "Events kept per visitor (encoder window)", 1, 4096,
                  [](O& o, int64_t v) { o.session.max_events = static_cast<int>(v); }));
  s.push_back(Int(
      "validation.max_payload_bytes", "65536", "Larger payloads are dead-lettered", 64, 64 << 20,
      [](O& o, int64_t v) { o.validation.max_payload_bytes = static_cast<size_t>(v); }));
  s.push_back(Int("validation.max_id_bytes", "128", "Longest accepted id, bytes", 8, 4096,
                  [](O& o, int64_t v) { o.validation.max_id_bytes = static_cast<size_t>(v); }));
  s.push_back(Int("validation.max_text_bytes", "2048",
                  "Longest accepted URL path, referrer, title or search query, bytes", 64, 65536,
                  [](O& o, int64_t v) { o.validation.max_text_bytes = static_cast<size_t>(v); }));
  s.push_back(Int("validation.max_label_bytes", "256",
                  "Longest accepted label (page category, channel, UTM campaign, screen), bytes", 8,
                  65536,
                  [](O& o, int64_t v) { o.validation.max_label_bytes = static_cast<size_t>(v); }));
  s.push_back(Int("validation.max_list_items", "64",
                  "Most items of a profile's products_held or opted_out_channels", 1, 4096,
                  [](O& o, int64_t v) { o.validation.max_list_items = static_cast<size_t>(v); }));
  s.push_back(Int("validation.max_dwell_ms", "86400000", "Largest accepted dwell_ms", 1000,
                  std::numeric_limits<uint32_t>::max(),
                  [](O& o, int64_t v) { o.validation.max_dwell_ms = static_cast<uint32_t>(v); }));
  s.push_back(Int("validation.max_dead_letter_payload_bytes", "16384",
                  "A dead letter keeps this many bytes of the rejected payload (plus its size "
                  "and SHA-256)",
                  0, 512 * 1024, [](O& o, int64_t v) {
                    o.validation.max_dead_letter_payload_bytes = static_cast<size_t>(v);
                  }));
  s.push_back(Int(
      "validation.max_dead_letter_key_bytes", "1024",
      "A dead letter keeps (and is keyed by) this many bytes of the rejected key", 64, 65536,
      [](O& o, int64_t v) { o.validation.max_dead_letter_key_bytes = static_cast<size_t>(v); }));
  s.push_back(Int("validation.max_future_skew_ms", "3600000",
                  "Event times further ahead of the processor clock are rejected, ms", 0,
                  int64_t{1} << 40, [](O& o, int64_t v) { o.validation.max_future_skew_ms = v; }));
  s.push_back(Int("validation.max_event_age_ms", "315360000000",
                  "Event times older than this are rejected, ms", 1000, int64_t{1} << 45,
                  [](O& o, int64_t v) { o.validation.max_event_age_ms = v; }));
  s.push_back(Int("state.visitor_cache_entries", "50000",
                  "Decoded visitor states cached in memory between batches (0: off)", 0,
                  int64_t{1} << 32,
                  [](O& o, int64_t v) { o.visitor_cache_entries = static_cast<size_t>(v); }));
  s.push_back(Int("processing.commit_interval_ms", "100",
                  "State and offsets are committed at least this often; hot visitors are "
                  "written once per interval",
                  0, 3600000, [](O& o, int64_t v) { o.commit_interval_ms = static_cast<int>(v); }));
  s.push_back(Int("processing.commit_max_visitors", "50000",
                  "Commit early when this many visitors changed since the last commit", 1,
                  int64_t{1} << 32,
                  [](O& o, int64_t v) { o.commit_max_visitors = static_cast<size_t>(v); }));
  s.push_back(Int("processing.batch_max_messages", "2000",
                  "Most messages applied as one poll batch", 1, 1000000,
                  [](O& o, int64_t v) { o.batch_max_messages = static_cast<int>(v); }));
  s.push_back(Int("processing.threads", "0",
                  "Processing threads (each a group member with its own partitions, encoder and "
                  "operator; one state store); 0 = the cores, capped by the partitions",
                  0, 256, [](O& o, int64_t v) { o.threads = static_cast<int>(v); }));
  s.push_back(Int("processing.poll_timeout_ms", "100", "Longest wait for a batch's first message",
                  1, 60000, [](O& o, int64_t v) { o.poll_timeout_ms = static_cast<int>(v); }));
  s.push_back(Int("processing.flush_timeout_ms", "30000",
                  "Longest wait for output delivery before a commit; past it the process "
                  "stops and resumes from its last commit",
                  100, 3600000, [](O& o, int64_t v) { o.flush_timeout_ms = static_cast<int>(v); }));
  s.push_back(Bool("processing.event_time_order", "true",
                   "Apply each task's input in event-time order (off: arrival order; for the "
                   "benchmark's comparison only)",
                   [](O& o, bool v) { o.event_time_order = v; }));
  s.push_back(Int("processing.max_task_idle_ms", "500",
                  "Longest wait for a partition that may hold older records, or for other "
                  "tasks' hand-off watermarks, before a task goes on without them (0: never "
                  "wait; decisions may then depend on fetch timing)",
                  0, 3600000, [](O& o, int64_t v) { o.max_task_idle_ms = v; }));
  s.push_back(Int("processing.end_wait_ms", "0",
                  "How long a partition that reached its end still holds its task back (0: "
                  "trust the end; records a producer delivers later are applied late)",
                  0, 3600000, [](O& o, int64_t v) { o.end_wait_ms = v; }));
  s.push_back(Int("processing.arrival_settle_ms", "2",
                  "After the consumer's queue runs dry, wait this long for the rest of a fetch "
                  "response before ordering what arrived (0: don't)",
                  0, 1000, [](O& o, int64_t v) { o.arrival_settle_ms = static_cast<int>(v); }));
  s.push_back(Int("processing.watermark_interval_ms", "10",
                  "Least time between two hand-off watermark publications of a task", 1, 60000,
                  [](O& o, int64_t v) { o.watermark_interval_ms = static_cast<int>(v); }));
  s.push_back(Int("processing.exit_when_idle_ms", "0",
                  "Exit when all partitions are drained and idle this long (0: never)", 0,
                  int64_t{1} << 40, [](O& o, int64_t v) { o.exit_when_idle_ms = v; }));
  s.push_back(Int("processing.shutdown_timeout_ms", "20000",
                  "After SIGTERM the process drains and exits within this bound, or exits anyway "
                  "(state stands at its last commit)",
                  100, 3600000, [](O& o, int64_t v) { o.shutdown_timeout_ms = v; }));
  s.push_back(Int("metrics.interval_ms", "1000", "Refresh period of lag and state metrics", 100,
                  3600000, [](O& o, int64_t v) { o.metrics_interval_ms = static_cast<int>(v); }));
  s.push_back(Str("http.listen", "127.0.0.1:9464",
                  "HTTP address for /metrics, /healthz, /readyz and /v1/... as host:port or "
                  "[v6]:port, port 0..65535 (empty: off; port 0: any)",
                  &O::http_listen));
  s.push_back(Int("http.threads", "4",
                  "Lookup API (/v1/...) requests handled at once; more are answered 503 "
                  "(health and metrics never wait for them)",
                  1, 64, [](O& o, int64_t v) { o.http_threads = static_cast<int>(v); }));
  s.push_back(Int("http.max_connections", "64",
                  "HTTP connections served at once, one thread each; more are answered 503 "
                  "and closed, never queued",
                  1, 4096, [](O& o, int64_t v) { o.http_max_connections = static_cast<int>(v); }));
  s.push_back(Int("http.read_timeout_ms", "5000",
                  "A request (and a TLS handshake) must arrive in full within this many ms "
                  "of the connection opening or the previous response, however its bytes are "
                  "paced; else 408 and the connection is closed",
                  100, 600000,
                  [](O& o, int64_t v) { o.http_read_timeout_ms = static_cast<int>(v); }));
  s.push_back(Int("http.write_timeout_ms", "5000",
                  "A response must be written within this many ms; else the connection is "
                  "closed",
                  100, 600000,
                  [](O& o, int64_t v) { o.http_write_timeout_ms = static_cast<int>(v); }));
  s.push_back(Str("http.auth_token_file", "",
                  "File holding the bearer token that /v1/... requires (or set the "
                  "environment variable INTENTSTREAM_HTTP_AUTH_TOKEN); required unless "
                  "http.listen is a loopback address. /metrics, /healthz, /readyz stay open",
                  &O::http_auth_token_file));
  s.push_back(Str("http.tls_cert_file", "",
                  "PEM certificate chain (leaf first): with http.tls_key_file the HTTP port "
                  "speaks TLS 1.2+ only",
                  &O::http_tls_cert_file));
  s.push_back(Str("http.tls_key_file", "", "PEM private key (unencrypted) of http.tls_cert_file",
                  &O::http_tls_key_file));
  s.push_back(Spec{"output.format", "protobuf",
                   "Encoding of decisions and triggers: protobuf (binary, "
                   "proto/intentstream/v1/decisions.proto) or json (protobuf's JSON mapping, "
                   "one object per message; readable with kcat)",
                   [](O& o, const std::string& k, const std::string& v) {
                     if (v != "protobuf" && v != "json") {
                       throw ConfigError(k, "must be protobuf or json");
                     }
                     o.output_json = v == "json";
                   }});
  s.push_back(Spec{"log.format", "text", "text or json",
                   [](O& o, const std::string& k, const std::string& v) {
                     if (v != "text" && v != "json") throw ConfigError(k, "must be text or json");
                     o.log_format = v;
                   }});
  s.push_back(Spec{"log.level", "info", "debug, info, warn or error",
                   [](O& o, const std::string& k, const std::string& v) {
                     if (v != "debug" && v != "info" && v != "warn" && v != "error") {
                       throw ConfigError(k, "must be debug, info, warn or error");
                     }
                     o.log_level = v;
                   }});
  s.push_back(Str("model.dir", "", "Session encoder artifact directory (empty: no embeddings)",
                  &O::model_dir));
  s.push_back(Str("model.offer_dir", "",
                  "Offer propensity model artifact directory (empty: online posteriors only); "
                  "needs model.dir",
                  &O::offer_model_dir));
  s.push_back(Int("model.cache_visitors", "8192",
                  "Visitors whose encoder keys/values stay cached (LRU); a miss re-encodes "
                  "the window from stored events",
                  0, int64_t{1} << 32,
                  [](O& o, int64_t v) { o.model_cache_visitors = static_cast<size_t>(v); }));
  s.push_back(Str("model.intent_head_dir", "",
                  "Distilled intent head artifact directory (needs model.dir; empty: "
                  "rule-based intent scores)",
                  &O::intent_head_dir));
  s.push_back(Bool("embedded", "false", "Start librdkafka's mock cluster in-process",
                   [](O& o, bool v) { o.embedded = v; }));
  s.push_back(Int("embedded.partitions", "4", "Partitions per topic in embedded mode", 1, 256,
                  [](O& o, int64_t v) { o.embedded_partitions = static_cast<int>(v); }));
  return s;
}

// RFC 6750's token68 characters: what a client can send after "Bearer ".
bool IsTokenCharacter(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
         c == '~' || c == '+' || c == '/' || c == '=';
}

constexpr size_t kMinTokenBytes = 16;

std::string CheckedToken(const std::string& key, std::string token) {
  if (token.empty()) throw ConfigError(key, "the bearer token is empty");
  for (char c : token) {
    if (!IsTokenCharacter(c)) {  // never echo the token: say what is wrong, not what it is
      throw ConfigError(key, "the bearer token may hold only A-Z a-z 0-9 - . _ ~ + / =");
    }
  }
  if (token.size() < kMinTokenBytes) {
    throw ConfigError(key, "the bearer token is shorter than " + std::to_string(kMinTokenBytes) +
                               " characters (e.g. `openssl rand -hex 32`)");
  }
  return token;
}

// The token from `file` or kAuthTokenVariable; "" when neither is set.
std::string LoadAuthToken(const std::string& file) {
  const char* from_env = std::getenv(kAuthTokenVariable);
  if (from_env != nullptr && !file.empty()) {
    throw ConfigError("http.auth_token_file",
                      std::string("set it or ") + kAuthTokenVariable + ", not both");
  }
  if (from_env != nullptr) return CheckedToken(kAuthTokenVariable, from_env);
  if (file.empty()) return "";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    throw ConfigError("http.auth_token_file", "'" + file + "' is not a readable file");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError("http.auth_token_file", "cannot read '" + file + "'");
  std::string token((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.empty()) throw ConfigError("http.auth_token_file", "'" + file + "' is empty");
  return CheckedToken("http.auth_token_file", std::move(token));
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.compare(0, 4, "127.") == 0;
}

void ValidateHttp(const ProcessorOptions& o) {
  if (o.http_listen.empty()) return;
  std::string error;
  const auto address = serve::ParseListenAddress(o.http_listen, &error);
  if (!address) throw ConfigError("http.listen", error + ", got '" + o.http_listen + "'");
  if (o.http_auth_token.empty() && !IsLoopback(address->host)) {
    throw ConfigError("http.auth_token_file",
                      std::string("required when http.listen is not a loopback address (") +
                          o.http_listen + "): /v1/... serves visitor state; or set " +
                          kAuthTokenVariable);
  }
  if (!o.http_tls_cert_file.empty() || !o.http_tls_key_file.empty()) {
    if (const auto problem = serve::CheckTlsFiles(o.http_tls_cert_file, o.http_tls_key_file)) {
      throw ConfigError(problem->file == serve::TlsProblem::File::kCertificate
                            ? "http.tls_cert_file"
                            : "http.tls_key_file",
                        problem->message);
    }
  }
}

}  // namespace

const std::vector<std::string>& OtherEnvironmentVariables() {
  // INTENTSTREAM_LLM_API_KEY is the LLM teacher's (llm/chat_client.h), not the processor's.
  static const std::vector<std::string> names = {kAuthTokenVariable, "INTENTSTREAM_PARTITIONS",
                                                 "INTENTSTREAM_LLM_API_KEY"};
  return names;
}

const std::vector<OptionSpec<ProcessorOptions>>& ProcessorOptionSpecs() {
  static const std::vector<Spec> specs = BuildSpecs();  // immutable table, built once
  return specs;
}

ProcessorOptions LoadProcessorOptions(const std::string& config_file,
                                      const std::vector<std::string>& assignments,
                                      const std::vector<std::string>& stage_keys) {
  Properties props;
  if (!config_file.empty()) props.MergeFile(config_file);
  std::vector<std::string> keys = stage_keys;
  for (const auto& s : ProcessorOptionSpecs()) keys.push_back(s.key);
  props.MergeEnvironment(keys, OtherEnvironmentVariables());
  for (const auto& a : assignments) props.MergeAssignment(a);

  ProcessorOptions options;
  std::vector<std::string> passthrough = {"kafka.consumer.", "kafka.producer.", "kafka."};
  for (const auto& p : StagePropertyPrefixes()) passthrough.push_back(p);
  ApplyProperties<ProcessorOptions>(props, ProcessorOptionSpecs(), passthrough, options,
                                    [](ProcessorOptions& o, const std::string& prefix,
                                       const std::string& rest, const std::string& value) {
                                      if (prefix.rfind("kafka.", 0) != 0) {
                                        o.stage_properties[prefix + rest] = value;
                                        return;
                                      }
                                      auto& target = prefix == "kafka.consumer." ? o.kafka_consumer
                                                     : prefix == "kafka.producer."
                                                         ? o.kafka_producer
                                                         : o.kafka_common;
                                      target[rest] = value;
                                    });
  options.http_auth_token = LoadAuthToken(options.http_auth_token_file);
  if (props.values().count("topic.handoff") == 0) {
    options.topics.handoff = HandoffTopicFor(options.group_id);
  }
  options.topics.changelog_group = options.group_id;
  Validate(options);
  return options;
}

void Validate(const ProcessorOptions& o) {
  namespace fs = std::filesystem;
  const fs::path state_dir(o.store.dir);
  std::error_code ec;
  if (fs::exists(state_dir, ec)) {
    if (!fs::is_directory(state_dir, ec))
      throw ConfigError("state.dir", "'" + o.store.dir + "' is not a directory");
  } else {
    const fs::path parent = fs::absolute(state_dir, ec).parent_path();
    if (!fs::is_directory(parent, ec)) {
      throw ConfigError("state.dir", "parent directory '" + parent.string() + "' does not exist");
    }
  }
  if (!o.model_dir.empty() && !fs::is_directory(o.model_dir, ec)) {
    throw ConfigError("model.dir", "'" + o.model_dir + "' is not a directory");
  }
  if (!o.offer_model_dir.empty()) {
    if (!fs::is_directory(o.offer_model_dir, ec)) {
      throw ConfigError("model.offer_dir", "'" + o.offer_model_dir + "' is not a directory");
    }
    if (o.model_dir.empty()) {
      throw ConfigError("model.offer_dir",
                        "needs model.dir: the offer model reads the session embedding");
    }
  }
  if (!o.intent_head_dir.empty()) {
    if (o.model_dir.empty()) {
      throw ConfigError("model.intent_head_dir", "needs model.dir (the head reads its embeddings)");
    }
    if (!fs::is_directory(o.intent_head_dir, ec)) {
      throw ConfigError("model.intent_head_dir", "'" + o.intent_head_dir + "' is not a directory");
    }
  }
  if (!o.embedded && o.kafka_common.count("bootstrap.servers") == 0 &&
      o.kafka_consumer.count("bootstrap.servers") == 0) {
    throw ConfigError("kafka.bootstrap.servers", "required unless running --embedded");
  }
  ValidateHttp(o);
  // A dead letter must fit in what the producer may send, or the rejected message would
  // stop the stream instead.
  for (const auto* producer : {&o.kafka_producer, &o.kafka_common}) {
    const auto it = producer->find("message.max.bytes");
    if (it == producer->end()) continue;
    const std::string key = (producer == &o.kafka_producer ? "kafka.producer." : "kafka.") +
                            std::string("message.max.bytes");
    const int64_t max_bytes = ParseInt(key, it->second, 1000, int64_t{1} << 31);
    const size_t needed = ingest::MaxDeadLetterBytes(o.validation) +
                          o.validation.max_dead_letter_key_bytes + kRecordOverheadBytes;
    if (static_cast<size_t>(max_bytes) < needed) {
      throw ConfigError("validation.max_dead_letter_payload_bytes",
                        "dead letters may take " + std::to_string(needed) + " bytes, more than " +
                            key + " = " + it->second);
    }
    break;
  }
  for (const auto* names :
       {&o.topics.web, &o.topics.app, &o.topics.links, &o.topics.profiles, &o.topics.handoff}) {
    for (const auto* other : {&o.topics.decisions, &o.topics.triggers, &o.topics.dead_letters}) {
      if (*names == *other) {
        throw ConfigError("topic.*", "input topic '" + *names + "' is also an output topic");
      }
    }
  }
}

}  // namespace intentstream::runtime
