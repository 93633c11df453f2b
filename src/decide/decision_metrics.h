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
};

}  // namespace intentstream::decide
