// What the taxonomy says about single events: which intents a page, an app screen, a
// search term or a product is evidence of (catalog.h: each intent's example pages,
// screens, queries and offers). Shared by the rule-based intent scorer (online, and the
// teacher that labels sessions offline), the feature builder and the evaluation, so all
// of them read events the same way.
//
// Events are the compact SessionEvents kept in state: pages are categories (the URL
// path, lower-cased, at most three segments), search text is hashed terms; the matcher
// hashes the taxonomy's example queries the same way.
//
// Thread-safety: immutable after construction.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "catalog/catalog.h"
#include "intentstream/v1/state.pb.h"

namespace intentstream::decide {

// Evidence of one intent in one event.
struct IntentVote {
  int intent = -1;  // index into Catalog::intents()
  float weight = 0;
};

class IntentMatcher {
 public:
  explicit IntentMatcher(std::shared_ptr<const catalog::Catalog> catalog);

  // Appends the votes of one event (several intents when the evidence is shared, each
  // with its share of the weight). Tile impressions carry no evidence (the bank chose
  // them); clicks, applications, forms and calculators weigh more than page views.
  void Votes(const v1::SessionEvent& event, std::vector<IntentVote>* out) const;

  // The weight an event type carries (web and app types).
  static float TypeWeight(const v1::SessionEvent& event);

  const catalog::Catalog& catalog() const { return *catalog_; }

 private:
  struct Share {
    std::vector<int> intents;
  };
  void AddPage(std::string_view category, int intent);
  void Lookup(const std::unordered_map<std::string, Share>& map, const std::string& key,
              float weight, std::vector<IntentVote>* out) const;

  std::shared_ptr<const catalog::Catalog> catalog_;
  std::unordered_map<std::string, Share> pages_;     // category (prefix) -> intents
  std::unordered_map<std::string, Share> screens_;   // app screen -> intents
  std::unordered_map<uint32_t, Share> terms_;        // hashed query term -> intents
  std::unordered_map<std::string, Share> products_;  // product code or offer id -> intents
};

// Intent scores from rules: for each intent, 1 - exp(-evidence / scale), where the
// evidence is the visitor's votes decayed by age (half-life). The default scorer when
// no distilled intent head is loaded, and the rule-based teacher's scores.
struct RuleScorerOptions {
  double half_life_ms = 7.0 * 86'400'000;
  double scale = 3.0;  // evidence giving a score of 1 - 1/e
};

class RuleIntentScorer {
 public:
  RuleIntentScorer(std::shared_ptr<const IntentMatcher> matcher, RuleScorerOptions options = {});
  // Scores of every intent (catalogue order) from `events` as of `as_of_ms`.
  void Score(std::span<const v1::SessionEvent* const> events, int64_t as_of_ms,
             std::span<float> out) const;
  // The events that contributed most to `intent`, newest first (at most `max`).
  std::vector<const v1::SessionEvent*> Drivers(std::span<const v1::SessionEvent* const> events,
                                               int intent, size_t max) const;
  const IntentMatcher& matcher() const { return *matcher_; }
  static std::string Version() { return "rules-v1"; }

 private:
  std::shared_ptr<const IntentMatcher> matcher_;
  RuleScorerOptions options_;
};

}  // namespace intentstream::decide
