// The decision stage's front door: the operator that turns each step's visitor updates
// into intent scores, homepage decisions and marketing triggers (ARCHITECTURE §5).
//
// Per customer-side event, in event-time order:
//   1. feedback (tile impressions, clicks, dismissals, applications) updates the
//      customer's offer state and the task's posteriors (feedback.h);
//   2. intents: the distilled head on the session embedding when one is loaded, else
//      the taxonomy's rules (intent_rules.h); written into the visitor's state;
//   3. triggers: a marketing intent crossing its threshold gives a Trigger through the
//      push/email channels' consent and contact policy, at most once per cooldown;
//   4. homepage: an app LOGIN or home-screen view gives a Decision with ranked tiles:
//      candidates -> policy (policy.h) -> propensity and arbitration (arbitration.h) ->
//      exploration (exploration.h) -> top k, or the fallback offer; a deterministic
//      holdout arm gets the catalogue's static ranking.
// Every decision records its removals, reasons, factors, logging propensities, arm,
// seed and versions, and is stored as the customer's latest for its placement.
//
// The catalogue can be replaced between steps (a reload); decisions name the version
// that made them. Not thread-safe: one instance per processing thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "catalog/catalog.h"
#include "common/logging.h"
#include "decide/decision_metrics.h"
#include "decide/options.h"
#include "operator/models.h"
#include "operator/stage.h"

namespace intentstream::decide {

struct DecisionModels {
  const op::IntentModel* intents = nullptr;         // null: rule-based intent scores
  const op::PropensityModel* propensity = nullptr;  // null: posteriors from the prior
  std::string encoder_version;                      // Decision.model_version
};

class DecisionOperator final : public op::DecisionOperator {
 public:
  // `metrics` may be null. `reload_requested`, if given, is set by a signal handler
  // (SIGHUP): the catalogue directory is re-read at the next step.
  DecisionOperator(DecisionOptions options, std::shared_ptr<const catalog::Catalog> catalog,
                   DecisionModels models, DecisionMetrics* metrics, const Logger& log,
                   std::atomic<bool>* reload_requested = nullptr);
  ~DecisionOperator() override;

  void Decide(std::span<op::VisitorUpdate> updates, op::StateWriter& state,
              op::DecisionSink& sink) override;
  void Flush(op::StateWriter& state) override;
  void ForgetTasks() override;

  // Replaces the catalogue; takes over at the next step.
  void SetCatalog(std::shared_ptr<const catalog::Catalog> catalog);
  std::shared_ptr<const catalog::Catalog> catalog() const;
  const DecisionOptions& options() const;

  // Checks per-offer and per-intent configuration keys against the catalogue. Throws
  // ConfigError naming the key.
  static void CheckOptions(const DecisionOptions& options, const catalog::Catalog& catalog);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace intentstream::decide
