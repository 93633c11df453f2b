// Propensity and arbitration of one candidate offer (ARCHITECTURE §5, steps 4-5):
//
//   propensity  the offer's online Beta posterior for the customer's segment: the
//               catalogue prior (or the learned model's calibrated propensity, as a prior
//               of fixed strength), updated with the offer's feedback in the task, the
//               segment borrowing at most `segment_prior_strength` pseudo-observations
//               from the offer's overall posterior, plus the customer's own impressions
//               and clicks of it;
//   priority    propensity x context weight x value x lever, with context weight =
//               placement weight x (1 + intent_weight x the best score among the intents
//               the offer serves).
//
// Thread-safety: pure functions.
#pragma once

#include <span>
#include <string>

#include "catalog/catalog.h"
#include "decide/options.h"
#include "decide/posteriors.h"
#include "intentstream/v1/decisions.pb.h"
#include "intentstream/v1/state.pb.h"

namespace intentstream::decide {

struct Posterior {
  double alpha = 1, beta = 1;
  double mean() const { return alpha / (alpha + beta); }
};

// Strength, in pseudo-observations, of the learned model's propensity used as a prior.
inline constexpr double kModelPriorStrength = 30;

// `model_propensity` < 0: no model for this offer.
Posterior OfferPosterior(const DecisionOptions& options, const BetaCounts& overall,
                         const BetaCounts* segment, const v1::OfferState* own,
                         double model_propensity);

double ContextWeight(const DecisionOptions& options, catalog::Channel placement,
                     const catalog::Offer& offer, std::span<const float> intents);

// Fills the factors of a ranked offer (priority at the posterior mean).
void FillFactors(const DecisionOptions& options, const catalog::Offer& offer,
                 const Posterior& posterior, double context_weight, const char* source,
                 v1::PriorityFactors* out);

}  // namespace intentstream::decide
