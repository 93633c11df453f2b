// The one feature builder of the decision stage: structured profile features and
// session features from a visitor's state, as of an event time. Serving (the offer
// model's inputs, reason codes) and offline training and evaluation (tools) call this
// same code on the same state, so a model sees online what it was trained on.
//
// Protected attributes are out of reach by construction: ProfileFacts copies the
// fields a model or a policy may use, and nothing else; `CustomerProfile.monitoring`
// is read only by the fairness monitor.
//
// Thread-safety: immutable after construction.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "decide/intent_rules.h"
#include "intentstream/v1/events.pb.h"
#include "intentstream/v1/state.pb.h"

namespace intentstream::decide {

// The profile fields a model or a policy may read.
struct ProfileFacts {
  bool known = false;  // false: no profile
  int age_band = 0;    // v1::AgeBand, 0 = unknown
  int income_band = 0;
  int risk_appetite = 0;
  uint32_t tenure_months = 0;
  uint32_t credit_grade = 0;  // 1 (best) .. 10, 0 = unknown
  bool marketing_consent = false;
  std::vector<uint8_t> holds;  // per catalogue product: held
};
ProfileFacts FactsOf(const v1::CustomerProfile* profile, const catalog::Catalog& catalog);

class FeatureBuilder {
 public:
  explicit FeatureBuilder(std::shared_ptr<const IntentMatcher> matcher);

  size_t profile_size() const { return profile_names_.size(); }
  size_t session_size() const { return session_names_.size(); }
  const std::vector<std::string>& profile_names() const { return profile_names_; }
  const std::vector<std::string>& session_names() const { return session_names_; }

  // Standardised numerics and one-hot categoricals of the profile; all zero but the
  // "unknown" flags when `facts.known` is false.
  void Profile(const ProfileFacts& facts, std::span<float> out) const;
  // Per-intent evidence (web, app, tile clicks, tile dismissals, decayed by age) and
  // activity counts from the visitor's events at or before `as_of_ms`.
  void Session(const v1::VisitorState& state, int64_t as_of_ms, std::span<float> out) const;

  const IntentMatcher& matcher() const { return *matcher_; }

 private:
  std::shared_ptr<const IntentMatcher> matcher_;
  std::vector<std::string> profile_names_, session_names_;
};

}  // namespace intentstream::decide
