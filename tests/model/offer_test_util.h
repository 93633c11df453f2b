// A small seeded world for the offer model's tests: visitors whose "intent" inputs say
// which of a few offers they click, trained in a second.
#pragma once

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "model/calibration.h"
#include "model/offer_model.h"
#include "model/offer_trainer.h"

namespace intentstream::model::testing {

// Offers A, B, C serve intents a, b, c (one each); D (not trained) serves a.
inline std::vector<op::OfferDescription> TrainedOffers() {
  return {{"A", {"a"}, "PA", "loan"}, {"B", {"b"}, "PB", "card"}, {"C", {"c"}, "PC", "savings"}};
}

// Semantic inputs: "intent=a|b|c" scores; structured: "age" (drives the base rate) and
// "noise". P(click on an offer) = sigmoid(-3 + 3.5 * its intent's score + 0.5 * age).
struct SyntheticWorld {
  OfferModelSpec spec;
  OfferTrainData train, validation, test;
};

inline OfferTrainData Draw(size_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0, 1);
  std::normal_distribution<float> n(0, 1);
  OfferTrainData d;
  d.tasks = 1;
  d.offers = 3;
  d.inputs.rows = rows;
  for (size_t r = 0; r < rows; ++r) {
    const auto focus = static_cast<size_t>(rng() % 4);  // 3: no intent
    float scores[3];
    for (size_t k = 0; k < 3; ++k) scores[k] = k == focus ? 0.6f + 0.4f * u(rng) : 0.2f * u(rng);
    const float age = n(rng);
    d.inputs.semantic.insert(d.inputs.semantic.end(), scores, scores + 3);
    d.inputs.structured.push_back(age);
    d.inputs.structured.push_back(n(rng));
    for (size_t k = 0; k < 3; ++k) {
      const double p = Sigmoid(-3 + 3.5 * scores[k] + 0.5 * age);
      // Two of the three offers are "shown" per row.
      const bool shown = rng() % 3 != 0;
      d.mask.push_back(shown ? 1.0f : 0.0f);
      d.target.push_back(shown && u(rng) < p ? 1.0f : 0.0f);
    }
  }
  return d;
}

inline SyntheticWorld MakeWorld(size_t rows = 3000) {
  SyntheticWorld w;
  w.spec.mode = "journeys";
  w.spec.model_version = "test-offer";
  w.spec.semantic.names = {"intent=a", "intent=b", "intent=c"};
  w.spec.structured.names = {"age", "noise"};
  w.spec.tasks = {"click"};
  w.spec.offers = TrainedOffers();
  w.spec.intents = {"a", "b", "c"};
  w.spec.kinds = {"loan", "card", "savings"};
  w.spec.products = {"PA", "PB", "PC"};
  w.spec.net.hidden = 16;
  w.spec.net.branches = 3;
  w.spec.net.branch_hidden = 16;
  w.spec.net.offer_dim = 8;
  w.train = Draw(rows, 1);
  w.validation = Draw(rows / 3, 2);
  w.test = Draw(rows / 3, 3);
  FitStandardisation(w.train.inputs, &w.spec);
  return w;
}

inline OfferTrainOptions FastTraining() {
  OfferTrainOptions o;
  o.epochs = 12;
  o.patience = 12;
  o.batch = 64;
  o.learning_rate = 5e-3;
  o.residual_l2 = 3e-2;
  o.seed = 11;
  return o;
}

}  // namespace intentstream::model::testing
