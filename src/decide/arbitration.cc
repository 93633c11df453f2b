#include "decide/arbitration.h"

#include <algorithm>

namespace intentstream::decide {

Posterior OfferPosterior(const DecisionOptions& o, const BetaCounts& overall,
                         const BetaCounts* segment, const v1::OfferState* own,
                         double model_propensity) {
  double a0 = o.prior_alpha, b0 = o.prior_beta;
  if (model_propensity >= 0) {
    const double p = std::clamp(model_propensity, 1e-4, 1 - 1e-4);
    a0 = p * kModelPriorStrength;
    b0 = (1 - p) * kModelPriorStrength;
  }
  const double misses = std::max(0.0, overall.impressions - overall.clicks);
  Posterior post{a0 + overall.clicks, b0 + misses};
  if (segment != nullptr) {
    // The segment starts from the overall mean, with at most `segment_prior_strength`
    // pseudo-observations of it, and adds its own evidence.
    const double mean = post.mean();
    const double strength = std::min(post.alpha + post.beta, a0 + b0 + o.segment_prior_strength);
    post = {mean * strength + segment->clicks,
            (1 - mean) * strength + std::max(0.0, segment->impressions - segment->clicks)};
  }
  if (own != nullptr) {
    post.alpha += own->clicks();
    post.beta += std::max<double>(0, static_cast<double>(own->impressions()) - own->clicks());
  }
  return post;
}

double ContextWeight(const DecisionOptions& o, catalog::Channel placement,
                     const catalog::Offer& offer, std::span<const float> intents) {
  const auto it = o.placement_weight.find(std::string(catalog::ChannelName(placement)));
  const double w = it == o.placement_weight.end() ? 1.0 : it->second;
  float best = 0;
  for (int i : offer.intents) {
    if (static_cast<size_t>(i) < intents.size())
      best = std::max(best, intents[static_cast<size_t>(i)]);
  }
  return w * (1.0 + o.intent_weight * best);
}

void FillFactors(const DecisionOptions& o, const catalog::Offer& offer, const Posterior& posterior,
                 double context_weight, const char* source, v1::PriorityFactors* out) {
  const double lever = o.LeverOf(offer.id);
  const double p = posterior.mean();
  out->set_propensity(static_cast<float>(p));
  out->set_context_weight(static_cast<float>(context_weight));
  out->set_value(static_cast<float>(offer.value));
  out->set_lever(static_cast<float>(lever));
  out->set_priority(static_cast<float>(p * context_weight * offer.value * lever));
  out->set_propensity_source(source);
  out->set_posterior_alpha(static_cast<float>(posterior.alpha));
  out->set_posterior_beta(static_cast<float>(posterior.beta));
}

}  // namespace intentstream::decide
