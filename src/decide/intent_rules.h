// What the taxonomy says about single events and whole sessions: which intents a page,
// an app screen, a search term or a product is evidence of (catalog.h: each intent's
// example pages, screens, queries and offers), how much each kind of behaviour weighs,
// how fast evidence fades per intent and when a need is met. ONE definition of the
// rules, shared by the online rule scorer (the default intent scores), the rule teacher
// that labels sessions offline (src/teach), the feature builder and the evaluation, so
// all of them read events the same way.
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

// Kinds of behaviour, for the evidence weights (RuleScorerOptions::kind_weight).
enum class Evidence : uint8_t {
  kPageView = 0,  // web page view without a product tag (a hub or help page)
  kProductPage,   // web page view the site tagged with a product
  kEngagement,    // web CTA click, download, chat
  kCalculator,    // web calculator use
  kForm,          // web application form started or sent
  kSearch,        // site or in-app search terms
  kScreen,        // app product screen (products/<slug>, the intent's screens)
  kOfferScreen,   // app offer screen (offers/<slug>), usually after a tile click
  kTileClick,     // app homepage tile click
  kApplication,   // app application started (or completed for a product that fulfils
                  // no intent)
};
inline constexpr size_t kEvidenceKinds = 10;
std::string_view EvidenceName(Evidence kind);

// Evidence of one intent in one event.
struct IntentVote {
  int intent = -1;   // index into Catalog::intents()
  float weight = 0;  // the event type's weight x this intent's share of the evidence
  Evidence kind = Evidence::kPageView;
};

class IntentMatcher {
 public:
  explicit IntentMatcher(std::shared_ptr<const catalog::Catalog> catalog);

  // Appends the votes of one event (several intents when the evidence is shared, each
  // with its share of the weight). Tile impressions carry no evidence (the bank chose
  // them); clicks, applications, forms and calculators weigh more than page views.
  void Votes(const v1::SessionEvent& event, std::vector<IntentVote>* out) const;

  // Intents whose need this event meets: a completed application of a product in their
  // "fulfilled_by" (appended; usually none).
  void Fulfils(const v1::SessionEvent& event, std::vector<int>* out) const;

  // The weight an event type carries (web and app types).
  static float TypeWeight(const v1::SessionEvent& event);
  // The kind of behaviour an event is.
  static Evidence KindOf(const v1::SessionEvent& event);

  // Known taxonomy query terms by hash (for readable summaries of hashed searches).
  const std::string* TermOf(uint32_t hash) const;

  const catalog::Catalog& catalog() const { return *catalog_; }

 private:
  struct Share {
    std::vector<int> intents;
  };
  void AddPage(std::string_view category, int intent);
  void Lookup(const std::unordered_map<std::string, Share>& map, const std::string& key,
              float weight, Evidence kind, std::vector<IntentVote>* out) const;

  std::shared_ptr<const catalog::Catalog> catalog_;
  std::unordered_map<std::string, Share> pages_;     // category (prefix) -> intents
  std::unordered_map<std::string, Share> screens_;   // app screen -> intents
  std::unordered_map<uint32_t, Share> terms_;        // hashed query term -> intents
  std::unordered_map<std::string, Share> products_;  // product code or offer id -> intents
  std::unordered_map<std::string, Share> fulfils_;   // product code -> intents it fulfils
  std::unordered_map<uint32_t, std::string> term_text_;
};

// Intent scores from rules: for each intent, 1 - exp(-evidence / scale), where the
// evidence is the visitor's votes, each times its kind's weight, decayed by age with the
// intent's half-life (taxonomy "half_life_days"); votes from before a completed
// application that fulfils the intent no longer count. The default scorer when no
// distilled intent head is loaded, and the rule teacher's scores.
struct RuleScorerOptions {
  // Multiplies the votes of each kind (Evidence order). Chosen on the validation period
  // of a generated world (docs/intents.md, "How the rules were set"): tagged product
  // pages, searches and product screens say most; hub pages, offer screens after a
  // click and tile clicks (many are idle taps) say less; form events come just before
  // an application that ends the need.
  std::array<float, kEvidenceKinds> kind_weight = {0.75f, 1.0f, 0.25f, 1.0f, 0.0f,
                                                   1.5f,  9.0f, 0.5f,  1.0f, 1.5f};
  double scale = 3.0;  // evidence giving a score of 1 - 1/e
};

// A session's labels from its scores (the rule teacher's answer).
struct IntentLabels {
  // Intents at or above their "label_threshold", by decreasing margin over it; the
  // default label (taxonomy "default_label") alone when none is.
  std::vector<int> labels;
  int top = -1;  // labels[0], or -1 when there is none (no default label in the taxonomy)
};

class RuleIntentScorer {
 public:
  RuleIntentScorer(std::shared_ptr<const IntentMatcher> matcher, RuleScorerOptions options = {});
  // Scores of every intent (catalogue order) from `events` (ascending) as of `as_of_ms`.
  void Score(std::span<const v1::SessionEvent* const> events, int64_t as_of_ms,
             std::span<float> out) const;
  // Labels from scores: the taxonomy's thresholds and default label.
  IntentLabels Label(std::span<const float> scores) const;
  // The events that contributed most to `intent`, newest first (at most `max`).
  std::vector<const v1::SessionEvent*> Drivers(std::span<const v1::SessionEvent* const> events,
                                               int intent, size_t max) const;
  const IntentMatcher& matcher() const { return *matcher_; }
  const RuleScorerOptions& options() const { return options_; }
  static std::string Version() { return "rules-v2"; }

 private:
  std::shared_ptr<const IntentMatcher> matcher_;
  RuleScorerOptions options_;
  std::vector<double> half_life_ms_;  // per intent
};

}  // namespace intentstream::decide
