// The baselines' and the offer model's structured inputs at a decision point: the
// decision stage's own FeatureBuilder (decide/features.h) on the replayed state, so
// offline evaluation reads exactly what serving computes.
//
// Thread-safety: immutable after construction.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "decide/features.h"
#include "decide/intent_rules.h"
#include "eval/dataset.h"
#include "eval/replay.h"

namespace intentstream::eval {

class LoginFeatureBuilder {
 public:
  explicit LoginFeatureBuilder(std::shared_ptr<const catalog::Catalog> catalog);

  // Profile features then session features.
  size_t size() const { return features_.profile_size() + features_.session_size(); }
  std::vector<std::string> names() const;
  const decide::FeatureBuilder& features() const { return features_; }
  const decide::RuleIntentScorer& rules() const { return rules_; }
  const catalog::Catalog& catalog() const { return *catalog_; }

  // Profile + session features of `state` as of the decision point.
  void Build(const DecisionPoint& point, const v1::VisitorState& state,
             std::vector<float>* out) const;
  LoginFeatures Build(const DecisionPoint& point) const;
  // The processor's rule intent scores (catalogue order) of the customer's state.
  void IntentScores(const DecisionPoint& point, std::vector<float>* out) const;

 private:
  std::shared_ptr<const catalog::Catalog> catalog_;
  std::shared_ptr<const decide::IntentMatcher> matcher_;
  decide::FeatureBuilder features_;
  decide::RuleIntentScorer rules_;
};

}  // namespace intentstream::eval
