// Exploration by Thompson sampling, seeded per decision, and the logging propensities
// that make the decisions log usable for off-policy evaluation.
//
// The logging policy of a treated decision is a mixture: with probability 1 - share the
// offers are ranked by their priority at the posterior mean (exploit), with probability
// `share` by their priority at a Thompson sample of each posterior (explore). Which one
// a decision used, and the samples, follow from its seed (derived from decision_id), so
// a replay draws the same. The probability that the policy puts offer o at rank r is
// (1 - share) [o is at r in the exploit ranking] + share * P_TS(o at r), where P_TS is
// estimated from `draws` further Thompson rankings with their own seed (plus the one
// the decision drew, so an offer it showed never gets probability 0).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace intentstream::decide {

// splitmix64: a small, fast, seedable generator with well-defined output everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double Normal();
  double Gamma(double shape);  // Marsaglia-Tsang
  double Beta(double a, double b);

 private:
  uint64_t state_;
  double spare_ = 0;
  bool has_spare_ = false;
};

// One offer that survived the policy, as the ranking sees it.
struct RankCandidate {
  double alpha = 1, beta = 1;  // Beta posterior of P(accept)
  double weight = 1;           // context weight x value x lever
};

// Indexes of `cands` by descending priority at the posterior mean (ties: lower index).
std::vector<int> ExploitRanking(std::span<const RankCandidate> cands);
// The same with a Thompson sample of each posterior drawn from `rng`.
std::vector<int> SampledRanking(std::span<const RankCandidate> cands, Rng& rng,
                                std::vector<double>* samples = nullptr);

// P(candidate ranking[r] is at rank r) under the mixture above, for r < k.
std::vector<double> LoggingPropensities(std::span<const RankCandidate> cands,
                                        std::span<const int> ranking, size_t k, double share,
                                        bool explored, int draws, uint64_t seed);

}  // namespace intentstream::decide
