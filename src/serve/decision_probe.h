// Prometheus metrics of the decision stage (decide::DecisionMetrics). Label sets are
// created when a catalogue is loaded (offers x arms, intents, rules), so recording is an
// array index and an atomic add. Thread-safe for the processing thread writing and the
// scrape reading; Catalogue() must not race with the recording calls (the operator calls
// both from its own thread).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <string>
#include <vector>

#include "decide/decision_metrics.h"

namespace intentstream::serve {

class DecisionProbe final : public decide::DecisionMetrics {
 public:
  explicit DecisionProbe(prometheus::Registry& registry);

  void Catalogue(const std::vector<std::string>& offer_ids,
                 const std::vector<std::string>& intent_ids,
                 const std::vector<std::string>& rules) override;
  void Decision(int placement, decide::Arm arm, bool explored, bool fallback,
                double seconds) override;
  void Shown(int offer, decide::Arm arm) override;
  void Removed(size_t rule) override;
  void FeedbackEvent(int offer, decide::Arm arm, decide::Feedback kind) override;
  void UnknownOfferFeedback() override;
  void Trigger(int intent) override;
  void TriggerSuppressed(int intent, const std::string& reason) override;
  void CatalogueReload(bool ok) override;

 private:
  prometheus::Family<prometheus::Counter>* decisions_;
  prometheus::Family<prometheus::Counter>* shown_;
  prometheus::Family<prometheus::Counter>* feedback_;
  prometheus::Family<prometheus::Counter>* removed_;
  prometheus::Family<prometheus::Counter>* triggers_;
  prometheus::Family<prometheus::Counter>* suppressed_;
  prometheus::Histogram* seconds_;
  prometheus::Counter* unknown_offer_;
  prometheus::Counter* reload_ok_;
  prometheus::Counter* reload_failed_;
  // [placement][arm][explored][fallback]
  std::array<std::array<std::array<std::array<prometheus::Counter*, 2>, 2>, 2>, 4> decision_{};
  // Keyed by offer id, kept across reloads (a series never disappears mid-run).
  std::map<std::string, std::array<prometheus::Counter*, decide::kArms>> shown_by_id_;
  std::map<std::string,
           std::array<std::array<prometheus::Counter*, decide::kFeedbackKinds>, decide::kArms>>
      feedback_by_id_;
  std::vector<std::array<prometheus::Counter*, decide::kArms>*> shown_index_;
  std::vector<std::array<std::array<prometheus::Counter*, decide::kFeedbackKinds>, decide::kArms>*>
      feedback_index_;
  std::vector<prometheus::Counter*> removed_index_;
  std::vector<prometheus::Counter*> trigger_index_;
  std::vector<std::string> intent_ids_;
  std::vector<std::string> suppression_reasons_;
  std::vector<std::vector<prometheus::Counter*>> suppressed_index_;  // [intent][reason]
};

}  // namespace intentstream::serve
