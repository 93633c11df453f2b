// Configuration of the decision stage. Every field documents its default and unit;
// DecisionOptionSpecs() is the table that parses, validates and prints them (keys
// `catalog.*`, `decision.*`, `triggers.*`; `intentstream help-config`).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/config.h"

namespace intentstream::decide {

inline constexpr int64_t kDayMs = 86'400'000;

// A contact cap: at most `count` contacts within `window_ms` (event time); 0 = no cap.
struct Cap {
  uint32_t count = 0;
  int64_t window_ms = 7 * kDayMs;
};

struct DecisionOptions {
  // Catalogue directory (models/catalog layout); empty: the built-in copy. A directory
  // is re-read when its files change (checked every reload_check_ms) or on SIGHUP; a
  // broken new version is refused and the old one stays.
  std::string catalog_dir;
  int64_t catalog_reload_check_ms = 2000;

  // Homepage: tiles per decision (k). Default: 3.
  int home_tiles = 3;
  // No second homepage decision for a customer within this much event time of the last
  // (LOGIN, then the home screen a second later, make one decision). Default: 60 s.
  int64_t home_min_interval_ms = 60'000;
  // Share of customers in the holdout arm (static ranking, for lift), percent.
  // Default: 5.
  double holdout_percent = 5;
  // Share of treated decisions ranked by Thompson samples instead of posterior means.
  // Default: 0.1.
  double exploration_share = 0.1;
  // Monte Carlo draws behind each decision's logging propensities. Default: 32.
  int propensity_draws = 32;

  // Beta prior of every offer's click-through rate (pseudo-clicks, pseudo-misses).
  // Default: Beta(1, 30), a prior mean of 3%.
  double prior_alpha = 1;
  double prior_beta = 30;
  // A segment's posterior borrows at most this many pseudo-observations from the
  // offer's all-customer posterior. Default: 50.
  double segment_prior_strength = 50;
  // Posteriors used by a decision are as of the start of its event-time bucket, so a
  // decision never depends on how its input was batched. Default: 15 min.
  int64_t posterior_bucket_ms = 15 * 60'000;
  // Buckets kept apart before they fold into the totals. Default: 8.
  int posterior_buckets = 8;

  // Contact policy (event time). Per offer: impressions of one offer to one customer.
  Cap offer_cap{5, 7 * kDayMs};
  Cap push_cap{2, 7 * kDayMs};
  Cap email_cap{3, 7 * kDayMs};
  Cap in_app_cap{5, kDayMs};
  // Every marketing contact but homepage tiles, per customer.
  Cap customer_cap{4, kDayMs};
  // Suppression after a dismissal, and after this many impressions without a click.
  int64_t suppress_after_dismiss_ms = 14 * kDayMs;
  uint32_t suppress_after_impressions = 6;
  // Homepage tiles of sales offers need marketing consent too (push and email always
  // do). Default: false (tiles inside the bank's own app are service content).
  bool tiles_require_consent = false;
  // A sensitive product (credit) is offered only when an intent it serves scores at
  // least this much (a confident signal). Default: 0.3.
  double sensitive_min_intent_score = 0.3;
  // An intent counts as active (for suitability blocks) from this score. Default: 0.5.
  double active_intent_score = 0.5;

  // Arbitration: priority = propensity x context weight x value x lever.
  // Context weight = placement weight x (1 + intent_weight x the best score among the
  // offer's intents).
  std::map<std::string, double> placement_weight = {
      {"home_tile", 1.0}, {"push", 1.0}, {"email", 1.0}, {"in_app", 1.0}};
  double intent_weight = 2.0;
  // Business levers per offer id (decision.lever.<offer_id>); default 1.
  std::map<std::string, double> levers;

  // Marketing triggers: an intent crossing its threshold (triggers.threshold, or
  // triggers.threshold.<intent>), at most once per cooldown per customer and intent.
  double trigger_threshold = 0.6;
  std::map<std::string, double> trigger_thresholds;
  int64_t trigger_cooldown_ms = 7 * kDayMs;
  std::map<std::string, int64_t> trigger_cooldowns;
  // Channels tried in order for a trigger. Default: push, email.
  std::vector<std::string> trigger_channels = {"push", "email"};

  double ThresholdOf(const std::string& intent) const;
  int64_t CooldownOf(const std::string& intent) const;
  double LeverOf(const std::string& offer_id) const;
  // A digest of everything above: decisions name the policy that made them.
  std::string Version() const;
};

const std::vector<OptionSpec<DecisionOptions>>& DecisionOptionSpecs();

// Applies `catalog.*`, `decision.*` and `triggers.*` properties. Throws ConfigError naming
// the key. Per-offer and per-intent keys are checked against the catalogue by the
// operator at start.
DecisionOptions LoadDecisionOptions(const std::map<std::string, std::string>& properties);

}  // namespace intentstream::decide
