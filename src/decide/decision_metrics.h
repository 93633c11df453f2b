// What the decision stage reports (Redpanda-style probe seam): the operator calls these,
// never a metrics library. serve::DecisionProbe implements them for Prometheus with every
// label set created when the catalogue is (re)loaded, so the per-decision path is an
// array index and an atomic add. Offers and intents are catalogue indexes; arms are
// 0 = treated, 1 = holdout.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace intentstream::decide {

enum class Arm : int { kTreated = 0, kHoldout = 1 };
inline constexpr size_t kArms = 2;
const char* ArmName(Arm arm);

enum class Feedback : int { kImpression = 0, kClick, kDismissal, kConversion };
inline constexpr size_t kFeedbackKinds = 4;

// What became of one request to rephrase a message (rephrase.h): accepted, a failure of
// the endpoint, or the reason the guard refused the answer (message_check.h). The
// names (RephraseOutcomeName) are the metric's `result` label values.
enum class RephraseOutcome : int {
  kAccepted = 0,
  kTimeout,             // the endpoint did not answer in time
  kServerError,         // HTTP 5xx
  kClientError,         // HTTP 4xx (a bad request, authentication)
  kUnreachable,         // no connection
  kInvalidResponse,     // not a chat-completions answer
  kEmpty,               // an empty message
  kTooLong,             // over decision.messages.rephrase.max_bytes
  kMarkerLost,          // a citation marker of the template is missing
  kMarkerAdded,         // a marker the template does not have
  kNumberNotInPassage,  // a number that the sentence's cited passages do not contain
  kUncitedFact,         // a sentence that states a fact without a marker
  kForbiddenPhrase,
};
inline constexpr size_t kRephraseOutcomes = 13;
const char* RephraseOutcomeName(RephraseOutcome outcome);

class DecisionMetrics {
 public:
  virtual ~DecisionMetrics() = default;
  // Called when a catalogue is loaded, before any other call that names its indexes.
  virtual void Catalogue(const std::vector<std::string>& offer_ids,
                         const std::vector<std::string>& intent_ids,
                         const std::vector<std::string>& rules) = 0;
  virtual void Decision(int placement, Arm arm, bool explored, bool fallback, double seconds) = 0;
  virtual void Shown(int offer, Arm arm) = 0;  // ranked into a decision
  virtual void Removed(size_t rule) = 0;       // index into the rules given
  virtual void FeedbackEvent(int offer, Arm arm, Feedback kind) = 0;
  virtual void UnknownOfferFeedback() = 0;
  virtual void Trigger(int intent) = 0;
  virtual void TriggerSuppressed(int intent, const std::string& reason) = 0;
  virtual void CatalogueReload(bool ok) = 0;

  // Messages and fairness. Not pure, so that a metrics implementation that predates
  // them still builds; serve::DecisionProbe implements them.
  // A tile or trigger got its message: the template's, or an accepted rephrase.
  virtual void MessageShown(bool /*rephrased*/) {}
  // Called from the rephraser's background thread.
  virtual void Rephrase(RephraseOutcome /*outcome*/) {}
  // The fairness monitor's groups, once, before the first Catalogue().
  virtual void FairnessGroups(const std::vector<std::string>& /*groups*/) {}
  // Relative skew of an offer's share of a group's tiles against its share of all tiles
  // (NaN: too few tiles in the window), and the tiles each group has in the window.
  virtual void ParitySkew(int /*offer*/, size_t /*group*/, double /*skew*/) {}
  virtual void FairnessWindowTiles(size_t /*group*/, double /*tiles*/) {}
};

}  // namespace intentstream::decide
