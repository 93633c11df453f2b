#include "serve/decision_probe.h"

#include <cmath>

namespace intentstream::serve {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

namespace {
const char* kPlacements[] = {"home_tile", "push", "email", "in_app"};
const char* kFeedback[] = {"impression", "click", "dismissal", "conversion"};
}  // namespace

DecisionProbe::DecisionProbe(prometheus::Registry& registry) : registry_(registry) {
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
  auto& messages = BuildCounter()
                       .Name("intentstream_messages_total")
                       .Help(
                           "Messages of tiles and triggers, by source: the template's text or an "
                           "accepted rephrase")
                       .Register(registry);
  message_source_[0] = &messages.Add({{"source", "template"}});
  message_source_[1] = &messages.Add({{"source", "rephrase"}});
  auto& rephrase = BuildCounter()
                       .Name("intentstream_message_rephrase_total")
                       .Help(
                           "Requests to rephrase a message, by result: accepted, a failure of "
                           "the endpoint, or why the answer was refused")
                       .Register(registry);
  for (size_t r = 0; r < decide::kRephraseOutcomes; ++r) {
    rephrase_[r] = &rephrase.Add(
        {{"result", decide::RephraseOutcomeName(static_cast<decide::RephraseOutcome>(r))}});
  }
  skew_ = &BuildGauge()
               .Name("intentstream_offer_parity_skew_ratio")
               .Help(
                   "Fairness: an offer's share of the homepage tiles shown to a monitored "
                   "group over its share of all tiles, minus 1, in the rolling window (0 is "
                   "parity; NaN: too few tiles)")
               .Register(registry);
}

void DecisionProbe::FairnessGroups(const std::vector<std::string>& groups) {
  groups_ = groups;
  auto& tiles = BuildGauge()
                    .Name("intentstream_fairness_window_tiles")
                    .Help(
                        "Fairness: homepage tiles shown to each monitored group in the rolling "
                        "window")
                    .Register(registry_);
  window_tiles_.clear();
  for (const auto& g : groups_) window_tiles_.push_back(&tiles.Add({{"group", g}}));
}

void DecisionProbe::ParitySkew(int offer, size_t group, double skew) {
  if (offer < 0 || static_cast<size_t>(offer) >= skew_index_.size()) return;
  auto& gauges = *skew_index_[static_cast<size_t>(offer)];
  if (group < gauges.size()) gauges[group]->Set(skew);
}

void DecisionProbe::FairnessWindowTiles(size_t group, double tiles) {
  if (group < window_tiles_.size()) window_tiles_[group]->Set(tiles);
}

void DecisionProbe::MessageShown(bool rephrased) {
  message_source_[rephrased ? 1 : 0]->Increment();
}

void DecisionProbe::Rephrase(decide::RephraseOutcome outcome) {
  const auto r = static_cast<size_t>(outcome);
  if (r < rephrase_.size()) rephrase_[r]->Increment();
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
  // Skews: every series is NaN until the monitor has enough tiles for it; an offer gone
  // from the catalogue keeps its series, NaN.
  for (auto& [id, gauges] : skew_by_id_) {
    for (auto* g : gauges) g->Set(std::nan(""));
  }
  skew_index_.clear();
  for (const auto& id : offer_ids) {
    auto [it, fresh] = skew_by_id_.try_emplace(id);
    if (fresh) {
      for (const auto& group : groups_) {
        it->second.push_back(&skew_->Add({{"offer", id}, {"group", group}}));
        it->second.back()->Set(std::nan(""));
      }
    }
    skew_index_.push_back(&it->second);
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
