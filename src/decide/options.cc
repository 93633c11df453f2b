#include "decide/options.h"

#include <cstdio>
#include <sstream>

#include "common/hash.h"

namespace intentstream::decide {

namespace {

using O = DecisionOptions;
using Spec = OptionSpec<DecisionOptions>;

double ParseDouble(const std::string& key, const std::string& v, double min, double max) {
  size_t used = 0;
  double out = 0;
  try {
    out = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || v.empty()) throw ConfigError(key, "invalid number '" + v + "'");
  if (!(out >= min && out <= max)) {
    throw ConfigError(key, "value " + v + " out of range [" + std::to_string(min) + ", " +
                               std::to_string(max) + "]");
  }
  return out;
}

template <typename Setter>
Spec Int(std::string key, std::string def, std::string doc, int64_t min, int64_t max, Setter set) {
  return Spec{std::move(key), std::move(def), std::move(doc),
              [min, max, set](O& o, const std::string& k, const std::string& v) {
                set(o, ParseInt(k, v, min, max));
              }};
}

template <typename Setter>
Spec Real(std::string key, std::string def, std::string doc, double min, double max, Setter set) {
  return Spec{std::move(key), std::move(def), std::move(doc),
              [min, max, set](O& o, const std::string& k, const std::string& v) {
                set(o, ParseDouble(k, v, min, max));
              }};
}

void AddCap(std::vector<Spec>& s, const std::string& name, const std::string& what, Cap O::*cap,
            const Cap& def) {
  s.push_back(Int("decision.cap." + name + ".count", std::to_string(def.count),
                  "Contact cap: at most this many " + what + " per window (0: no cap)", 0, 1000000,
                  [cap](O& o, int64_t v) { (o.*cap).count = static_cast<uint32_t>(v); }));
  s.push_back(Int("decision.cap." + name + ".window_ms", std::to_string(def.window_ms),
                  "Window of the " + name + " cap, ms of event time", 1, int64_t{1} << 42,
                  [cap](O& o, int64_t v) { (o.*cap).window_ms = v; }));
}

std::vector<Spec> BuildSpecs() {
  std::vector<Spec> s;
  const DecisionOptions d;
  s.push_back(Spec{"catalog.dir", "",
                   "Catalogue directory (models/catalog layout); empty: the built-in copy. "
                   "Reloaded without a restart when its files change or on SIGHUP",
                   [](O& o, const std::string&, const std::string& v) { o.catalog_dir = v; }});
  s.push_back(Int("catalog.reload_check_ms", "2000",
                  "How often the catalogue directory is checked for changes, ms", 100, 3600000,
                  [](O& o, int64_t v) { o.catalog_reload_check_ms = v; }));
  s.push_back(Int("decision.home.tiles", "3", "Homepage tiles per decision (k)", 1, 20,
                  [](O& o, int64_t v) { o.home_tiles = static_cast<int>(v); }));
  s.push_back(Int("decision.home.min_interval_ms", "60000",
                  "No second homepage decision for a customer within this much event time", 0,
                  int64_t{1} << 40, [](O& o, int64_t v) { o.home_min_interval_ms = v; }));
  s.push_back(Real("decision.holdout_percent", "5",
                   "Customers in the holdout arm (static ranking, for lift), percent", 0, 100,
                   [](O& o, double v) { o.holdout_percent = v; }));
  s.push_back(Real("decision.exploration.share", "0.1",
                   "Share of treated decisions ranked by Thompson samples", 0, 1,
                   [](O& o, double v) { o.exploration_share = v; }));
  s.push_back(Int("decision.exploration.propensity_draws", "32",
                  "Monte Carlo draws behind each decision's logging propensities", 1, 100000,
                  [](O& o, int64_t v) { o.propensity_draws = static_cast<int>(v); }));
  s.push_back(Real("decision.prior.alpha", "1", "Beta prior of every offer's CTR: pseudo-clicks",
                   1e-6, 1e6, [](O& o, double v) { o.prior_alpha = v; }));
  s.push_back(Real("decision.prior.beta", "30", "Beta prior of every offer's CTR: pseudo-misses",
                   1e-6, 1e6, [](O& o, double v) { o.prior_beta = v; }));
  s.push_back(Real("decision.prior.segment_strength", "50",
                   "Pseudo-observations a segment's posterior borrows from the offer's overall "
                   "posterior",
                   0, 1e9, [](O& o, double v) { o.segment_prior_strength = v; }));
  s.push_back(Int("decision.posterior.bucket_ms", "900000",
                  "Posteriors are as of the start of the decision's event-time bucket, ms", 1000,
                  int64_t{1} << 40, [](O& o, int64_t v) { o.posterior_bucket_ms = v; }));
  s.push_back(Int("decision.posterior.buckets", "8", "Buckets kept apart before they fold", 1, 1000,
                  [](O& o, int64_t v) { o.posterior_buckets = static_cast<int>(v); }));
  AddCap(s, "offer", "impressions of one offer to one customer", &O::offer_cap, d.offer_cap);
  AddCap(s, "push", "push messages to one customer", &O::push_cap, d.push_cap);
  AddCap(s, "email", "emails to one customer", &O::email_cap, d.email_cap);
  AddCap(s, "in_app", "in-app messages to one customer", &O::in_app_cap, d.in_app_cap);
  AddCap(s, "customer", "marketing contacts (all channels but tiles) to one customer",
         &O::customer_cap, d.customer_cap);
  s.push_back(Int("decision.suppress.after_dismiss_ms", std::to_string(d.suppress_after_dismiss_ms),
                  "An offer dismissed by a customer is not shown to them again for this long", 0,
                  int64_t{1} << 42, [](O& o, int64_t v) { o.suppress_after_dismiss_ms = v; }));
  s.push_back(
      Int("decision.suppress.after_impressions", "6",
          "An offer shown this many times without a click is suppressed (0: never)", 0, 1000000,
          [](O& o, int64_t v) { o.suppress_after_impressions = static_cast<uint32_t>(v); }));
  s.push_back(Spec{"decision.tiles_require_consent", "false",
                   "Homepage tiles of sales offers need marketing consent too",
                   [](O& o, const std::string& k, const std::string& v) {
                     o.tiles_require_consent = ParseBool(k, v);
                   }});
  s.push_back(Real("decision.sensitive.min_intent_score", "0.3",
                   "A sensitive product is offered only when an intent it serves scores at "
                   "least this much",
                   0, 1, [](O& o, double v) { o.sensitive_min_intent_score = v; }));
  s.push_back(Real("decision.active_intent_score", "0.5",
                   "An intent is active (suitability blocks apply) from this score", 0, 1,
                   [](O& o, double v) { o.active_intent_score = v; }));
  s.push_back(Real("decision.intent_weight", "2",
                   "Context weight = placement weight x (1 + this x the offer's best intent "
                   "score)",
                   0, 1e6, [](O& o, double v) { o.intent_weight = v; }));
  s.push_back(Spec{"decision.weight.<placement>", "1",
                   "Placement weight in the context weight (home_tile, push, email, in_app)",
                   nullptr});
  s.push_back(Spec{"decision.lever.<offer_id>", "1", "Business lever of an offer", nullptr});
  s.push_back(Real("triggers.threshold", "0.6",
                   "A marketing trigger fires when an intent's score crosses this", 0, 1,
                   [](O& o, double v) { o.trigger_threshold = v; }));
  s.push_back(Spec{"triggers.threshold.<intent>", "triggers.threshold", "Threshold of one intent",
                   nullptr});
  s.push_back(Int("triggers.cooldown_ms", std::to_string(d.trigger_cooldown_ms),
                  "At most one trigger per customer and intent within this much event time", 0,
                  int64_t{1} << 42, [](O& o, int64_t v) { o.trigger_cooldown_ms = v; }));
  s.push_back(Spec{"triggers.cooldown_ms.<intent>", "triggers.cooldown_ms",
                   "Cooldown of one intent, ms", nullptr});
  s.push_back(Spec{"triggers.channels", "push,email",
                   "Channels tried in order for a trigger (push, email, in_app)",
                   [](O& o, const std::string& k, const std::string& v) {
                     o.trigger_channels.clear();
                     std::stringstream in(v);
                     std::string c;
                     while (std::getline(in, c, ',')) {
                       if (c != "push" && c != "email" && c != "in_app") {
                         throw ConfigError(k, "unknown channel '" + c + "' (push, email, in_app)");
                       }
                       o.trigger_channels.push_back(c);
                     }
                     if (o.trigger_channels.empty()) throw ConfigError(k, "no channel");
                   }});
  return s;
}

}  // namespace

const std::vector<OptionSpec<DecisionOptions>>& DecisionOptionSpecs() {
  static const std::vector<Spec> specs = BuildSpecs();  // immutable table, built once
  return specs;
}

DecisionOptions LoadDecisionOptions(const std::map<std::string, std::string>& properties) {
  Properties props;
  for (const auto& [k, v] : properties) props.Set(k, v);
  // The table's templated keys ("decision.lever.<offer_id>") document prefixes; only the
  // entries with an apply function are real keys.
  std::vector<Spec> keys;
  for (const auto& s : DecisionOptionSpecs()) {
    if (s.apply) keys.push_back(s);
  }
  DecisionOptions o;
  ApplyProperties<DecisionOptions>(
      props, keys,
      {"decision.weight.", "decision.lever.", "triggers.threshold.", "triggers.cooldown_ms."}, o,
      [](DecisionOptions& o, const std::string& prefix, const std::string& rest,
         const std::string& value) {
        const std::string key = prefix + rest;
        if (prefix == "decision.weight.") {
          if (o.placement_weight.count(rest) == 0) {
            throw ConfigError(key, "unknown placement '" + rest + "'");
          }
          o.placement_weight[rest] = ParseDouble(key, value, 0, 1e6);
        } else if (prefix == "decision.lever.") {
          o.levers[rest] = ParseDouble(key, value, 0, 1e6);
        } else if (prefix == "triggers.threshold.") {
          o.trigger_thresholds[rest] = ParseDouble(key, value, 0, 1);
        } else {
          o.trigger_cooldowns[rest] = ParseInt(key, value, 0, int64_t{1} << 42);
        }
      });
  return o;
}

double DecisionOptions::ThresholdOf(const std::string& intent) const {
  const auto it = trigger_thresholds.find(intent);
  return it == trigger_thresholds.end() ? trigger_threshold : it->second;
}

int64_t DecisionOptions::CooldownOf(const std::string& intent) const {
  const auto it = trigger_cooldowns.find(intent);
  return it == trigger_cooldowns.end() ? trigger_cooldown_ms : it->second;
}

double DecisionOptions::LeverOf(const std::string& offer_id) const {
  const auto it = levers.find(offer_id);
  return it == levers.end() ? 1.0 : it->second;
}

std::string DecisionOptions::Version() const {
  std::ostringstream s;
  s << home_tiles << '|' << home_min_interval_ms << '|' << holdout_percent << '|'
    << exploration_share << '|' << propensity_draws << '|' << prior_alpha << '|' << prior_beta
    << '|' << segment_prior_strength << '|' << posterior_bucket_ms << '|' << posterior_buckets;
  for (const Cap* c : {&offer_cap, &push_cap, &email_cap, &in_app_cap, &customer_cap}) {
    s << '|' << c->count << '/' << c->window_ms;
  }
  s << '|' << suppress_after_dismiss_ms << '|' << suppress_after_impressions << '|'
    << tiles_require_consent << '|' << sensitive_min_intent_score << '|' << active_intent_score
    << '|' << intent_weight;
  for (const auto& [k, v] : placement_weight) s << '|' << k << '=' << v;
  for (const auto& [k, v] : levers) s << '|' << k << '=' << v;
  s << '|' << trigger_threshold << '|' << trigger_cooldown_ms;
  for (const auto& [k, v] : trigger_thresholds) s << '|' << k << '=' << v;
  for (const auto& [k, v] : trigger_cooldowns) s << '|' << k << '=' << v;
  for (const auto& c : trigger_channels) s << '|' << c;
  char buf[24];
  std::snprintf(buf, sizeof buf, "pol-%012llx",
                static_cast<unsigned long long>(Fnv1a64(s.str()) & 0xffffffffffffull));
  return buf;
}

}  // namespace intentstream::decide
