#include "serve/decision_probe.h"

namespace intentstream::serve {

using prometheus::BuildCounter;
using prometheus::BuildHistogram;

namespace {
const char* kPlacements[] = {"home_tile", "push", "email", "in_app"};
const char* kFeedback[] = {"impression", "click", "dismissal", "conversion"};
}  // namespace

DecisionProbe::DecisionProbe(prometheus::Registry& registry) {
  decisions_ = &BuildCounter()
                    .Name("intentstream_decisions_total")
                    .Help(
                        "Decisions made, by placement, arm (treated, holdout), whether they "
                        "explored and whether they fell back")
                    .Register(registry);
  for (int p = 0; p < 4; ++p) {
    for (int a = 0; a < 2; ++a) {
      for (int e = 0; e < 2; ++e) {
        for (int f = 0; f < 2; ++f) {
          decision_[p][a][e][f] =
              &decisions_->Add({{"placement", kPlacements[p]},
                                {"arm", decide::ArmName(static_cast<decide::Arm>(a))},
                                {"explored", e ? "true" : "false"},
                                {"fallback", f ? "true" : "false"}});
        }
      }
    }
  }
  shown_ = &BuildCounter()
                .Name("intentstream_decision_offers_total")
                .Help("Offers ranked into decisions, by offer and arm")
                .Register(registry);
  feedback_ = &BuildCounter()
                   .Name("intentstream_offer_feedback_total")
                   .Help(
                       "Feedback on offers from the app, by offer, arm and kind (impression, "
                       "click, dismissal, conversion)")
                   .Register(registry);
  removed_ = &BuildCounter()
                  .Name("intentstream_policy_removals_total")
                  .Help("Candidate offers removed by the policy, by rule")
                  .Register(registry);
  triggers_ = &BuildCounter()
                   .Name("intentstream_triggers_total")
                   .Help("Marketing triggers sent, by intent")
                   .Register(registry);
  suppressed_ = &BuildCounter()
                     .Name("intentstream_triggers_suppressed_total")
                     .Help("Intent threshold crossings that sent no trigger, by intent and reason")
                     .Register(registry);
  seconds_ =
      &BuildHistogram()
           .Name("intentstream_decision_seconds")
           .Help("Time to make one decision (policy, scoring, arbitration, explanation)")
           .Register(registry)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.000005, 0.00001, 0.000025, 0.00005,
                                                            0.0001, 0.00025, 0.0005, 0.001, 0.005});
  unknown_offer_ = &BuildCounter()
                        .Name("intentstream_feedback_unknown_offer_total")
                        .Help("Tile feedback naming an offer the catalogue does not have")
                        .Register(registry)
                        .Add({});
  auto& reloads = BuildCounter()
                      .Name("intentstream_catalogue_reloads_total")
                      .Help("Catalogue reloads: ok (took over) or refused (invalid; kept the old)")
                      .Register(registry);
  reload_ok_ = &reloads.Add({{"result", "ok"}});
  reload_failed_ = &reloads.Add({{"result", "refused"}});
}

void DecisionProbe::Catalogue(const std::vector<std::string>& offer_ids,
                              const std::vector<std::string>& intent_ids,
                              const std::vector<std::string>& rules) {
  shown_index_.clear();
  feedback_index_.clear();
  for (const auto& id : offer_ids) {
    auto [s, new_shown] = shown_by_id_.try_emplace(id);
    if (new_shown) {
      for (size_t a = 0; a < decide::kArms; ++a) {
        s->second[a] =
            &shown_->Add({{"offer", id}, {"arm", decide::ArmName(static_cast<decide::Arm>(a))}});
      }
    }
    shown_index_.push_back(&s->second);
    auto [f, new_feedback] = feedback_by_id_.try_emplace(id);
    if (new_feedback) {
      for (size_t a = 0; a < decide::kArms; ++a) {
        for (size_t k = 0; k < decide::kFeedbackKinds; ++k) {
          f->second[a][k] = &feedback_->Add({{"offer", id},
                                             {"arm", decide::ArmName(static_cast<decide::Arm>(a))},
                                             {"kind", kFeedback[k]}});
        }
      }
    }
    feedback_index_.push_back(&f->second);
  }
  removed_index_.clear();
  for (const auto& r : rules) removed_index_.push_back(&removed_->Add({{"rule", r}}));
  trigger_index_.clear();
  intent_ids_ = intent_ids;
  for (const auto& i : intent_ids) trigger_index_.push_back(&triggers_->Add({{"intent", i}}));
  // Suppression reasons: "cooldown" and the policy's rules.
  suppression_reasons_ = rules;
  suppression_reasons_.insert(suppression_reasons_.begin(), "cooldown");
  suppressed_index_.assign(intent_ids.size(), {});
  for (size_t i = 0; i < intent_ids.size(); ++i) {
    for (const auto& r : suppression_reasons_) {
      suppressed_index_[i].push_back(&suppressed_->Add({{"intent", intent_ids[i]}, {"reason", r}}));
    }
  }
}

void DecisionProbe::Decision(int placement, decide::Arm arm, bool explored, bool fallback,
                             double seconds) {
  if (placement < 0 || placement > 3) return;
  decision_[static_cast<size_t>(placement)][static_cast<size_t>(arm)][explored ? 1 : 0]
           [fallback ? 1 : 0]
               ->Increment();
  seconds_->Observe(seconds);
}

void DecisionProbe::Shown(int offer, decide::Arm arm) {
  if (offer >= 0 && static_cast<size_t>(offer) < shown_index_.size()) {
    (*shown_index_[static_cast<size_t>(offer)])[static_cast<size_t>(arm)]->Increment();
  }
}

void DecisionProbe::Removed(size_t rule) {
  if (rule < removed_index_.size()) removed_index_[rule]->Increment();
}

void DecisionProbe::FeedbackEvent(int offer, decide::Arm arm, decide::Feedback kind) {
  if (offer >= 0 && static_cast<size_t>(offer) < feedback_index_.size()) {
    (*feedback_index_[static_cast<size_t>(offer)])[static_cast<size_t>(arm)]
                                                  [static_cast<size_t>(kind)]
                                                      ->Increment();
  }
}

void DecisionProbe::UnknownOfferFeedback() {
  unknown_offer_->Increment();
}

void DecisionProbe::Trigger(int intent) {
  if (intent >= 0 && static_cast<size_t>(intent) < trigger_index_.size()) {
    trigger_index_[static_cast<size_t>(intent)]->Increment();
  }
}

void DecisionProbe::TriggerSuppressed(int intent, const std::string& reason) {
  if (intent < 0 || static_cast<size_t>(intent) >= suppressed_index_.size()) return;
  for (size_t r = 0; r < suppression_reasons_.size(); ++r) {
    if (suppression_reasons_[r] == reason) {
      suppressed_index_[static_cast<size_t>(intent)][r]->Increment();
      return;
    }
  }
}

void DecisionProbe::CatalogueReload(bool ok) {
  (ok ? reload_ok_ : reload_failed_)->Increment();
}

}  // namespace intentstream::serve
