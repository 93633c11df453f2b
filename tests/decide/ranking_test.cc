// Arbitration arithmetic, posterior bookkeeping and Thompson-sampling determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "decide/arbitration.h"
#include "decide/exploration.h"
#include "decide/posteriors.h"

namespace intentstream::decide {
namespace {

TEST(Arbitration, PriorityIsPropensityTimesContextValueAndLever) {
  DecisionOptions o;
  o.levers["OFR_TRAVEL_CARD"] = 1.5;
  o.placement_weight["home_tile"] = 0.8;
  const auto cat = catalog::DefaultCatalog();
  const auto& offer = cat->offers()[static_cast<size_t>(cat->FindOffer("OFR_TRAVEL_CARD"))];
  std::vector<float> intents(cat->intents().size(), 0.0f);
  intents[static_cast<size_t>(cat->FindIntent("travel_rewards"))] = 0.5f;
  const double cw = ContextWeight(o, catalog::Channel::kHomeTile, offer, intents);
  EXPECT_DOUBLE_EQ(cw, 0.8 * (1 + 2.0 * 0.5));
  const Posterior post{3, 97};
  v1::PriorityFactors f;
  FillFactors(o, offer, post, cw, "posterior", &f);
  EXPECT_FLOAT_EQ(f.propensity(), 0.03f);
  EXPECT_FLOAT_EQ(f.value(), 80.0f);
  EXPECT_FLOAT_EQ(f.lever(), 1.5f);
  EXPECT_NEAR(f.priority(), 0.03 * 1.6 * 80 * 1.5, 1e-5);
  EXPECT_EQ(f.propensity_source(), "posterior");
}

TEST(Arbitration, PosteriorCombinesPriorTaskSegmentAndOwnEvidence) {
  DecisionOptions o;  // prior Beta(1, 30), segment strength 50
  Posterior p = OfferPosterior(o, {}, nullptr, nullptr, -1);
  EXPECT_DOUBLE_EQ(p.alpha, 1);
  EXPECT_DOUBLE_EQ(p.beta, 30);
  p = OfferPosterior(o, {100, 10}, nullptr, nullptr, -1);
  EXPECT_DOUBLE_EQ(p.alpha, 11);
  EXPECT_DOUBLE_EQ(p.beta, 120);
  // A segment borrows at most prior + 50 pseudo-observations of the overall mean.
  const BetaCounts seg{10, 5};
  p = OfferPosterior(o, {1000, 100}, &seg, nullptr, -1);
  const double mean = 101.0 / 1031.0;
  EXPECT_NEAR(p.alpha, mean * 81 + 5, 1e-9);
  EXPECT_NEAR(p.beta, (1 - mean) * 81 + 5, 1e-9);
  // The customer's own impressions and clicks count as evidence.
  v1::OfferState own;
  own.set_impressions(3);
  own.set_clicks(1);
  p = OfferPosterior(o, {}, nullptr, &own, -1);
  EXPECT_DOUBLE_EQ(p.alpha, 2);
  EXPECT_DOUBLE_EQ(p.beta, 32);
  // A learned propensity replaces the catalogue prior.
  p = OfferPosterior(o, {}, nullptr, nullptr, 0.2);
  EXPECT_NEAR(p.mean(), 0.2, 1e-9);
  EXPECT_NEAR(p.alpha + p.beta, kModelPriorStrength, 1e-9);
}

TEST(Posteriors, ADecisionReadsFeedbackBeforeItsBucketOnly) {
  PosteriorTable t(/*bucket_ms=*/1000, /*kept_buckets=*/4);
  t.Add("o", "all", 1500, 1, 0);  // bucket 1
  t.Add("o", "all", 1900, 1, 1);
  EXPECT_EQ(t.AsOf("o", "all", 1999).impressions, 0) << "same bucket: not yet";
  EXPECT_EQ(t.AsOf("o", "all", 2000).impressions, 2);
  EXPECT_EQ(t.AsOf("o", "all", 2000).clicks, 1);
  EXPECT_EQ(t.AsOf("o", "seg", 5000).impressions, 0);
  // Old buckets fold into the totals, which every later decision reads.
  for (int b = 2; b < 10; ++b) t.Add("o", "all", b * 1000 + 1, 1, 0);
  EXPECT_EQ(t.AsOf("o", "all", 100000).impressions, 10);
  EXPECT_EQ(t.AsOf("o", "all", 9500).impressions, 9);
  // Round trip through the stored form.
  PosteriorTable u(1000, 4);
  ASSERT_TRUE(u.Parse(t.Serialize()));
  EXPECT_EQ(u.AsOf("o", "all", 9500).impressions, 9);
  EXPECT_FALSE(t.dirty());
  EXPECT_FALSE(u.Parse("\xff\xff\xff"));
}

TEST(Exploration, SamplesAreReproducibleFromTheSeed) {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.Next(), b.Next());
  EXPECT_NE(Rng(42).Next(), c.Next());
  const std::vector<RankCandidate> cands = {{2, 50, 1}, {5, 40, 1}, {1, 1, 0.1}, {30, 300, 1}};
  Rng r1(7), r2(7);
  EXPECT_EQ(SampledRanking(cands, r1), SampledRanking(cands, r2));
  // Beta samples stay in [0, 1] and average to the mean.
  Rng r(1);
  double sum = 0;
  for (int i = 0; i < 20000; ++i) {
    const double x = r.Beta(2, 8);
    ASSERT_GE(x, 0.0);
    ASSERT_LE(x, 1.0);
    sum += x;
  }
  EXPECT_NEAR(sum / 20000, 0.2, 0.01);
}

TEST(Exploration, LoggingPropensitiesAreProbabilities) {
  const std::vector<RankCandidate> cands = {{2, 50, 1}, {5, 40, 1}, {3, 30, 1}, {30, 300, 1}};
  const auto exploit = ExploitRanking(cands);
  EXPECT_EQ(exploit[0], 1) << "5/45 is the best mean";
  // No exploration: the exploit ranking has probability 1, anything else 0.
  auto p = LoggingPropensities(cands, exploit, 3, 0.0, false, 64, 9);
  EXPECT_EQ(p, (std::vector<double>{1, 1, 1}));
  // With exploration, the probabilities of every candidate at rank 1 sum to one.
  double total = 0;
  for (int first = 0; first < 4; ++first) {
    std::vector<int> ranking = {first};
    for (int i = 0; i < 4; ++i) {
      if (i != first) ranking.push_back(i);
    }
    const auto q = LoggingPropensities(cands, ranking, 1, 0.5, false, 2000, 11);
    ASSERT_EQ(q.size(), 1u);
    EXPECT_GE(q[0], 0.0);
    total += q[0];
  }
  EXPECT_NEAR(total, 1.0, 1e-9);
  // A shown offer is never given probability zero when it was drawn.
  std::vector<int> unlikely = {2, 0, 1, 3};
  const auto u = LoggingPropensities(cands, unlikely, 1, 0.1, true, 4, 5);
  EXPECT_GT(u[0], 0.0);
}

}  // namespace
}  // namespace intentstream::decide
