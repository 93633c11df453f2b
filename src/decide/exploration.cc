#include "decide/exploration.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace intentstream::decide {

double Rng::Normal() {
  // Marsaglia's polar method: two normals per accepted pair; the second is kept.
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u, v, s;
  do {
    u = 2.0 * Uniform() - 1.0;
    v = 2.0 * Uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double f = std::sqrt(-2.0 * std::log(s) / s);
  spare_ = v * f;
  has_spare_ = true;
  return u * f;
}

double Rng::Gamma(double shape) {
  if (shape < 1.0) {
    // Boost: Gamma(a) = Gamma(a + 1) * U^(1/a).
    double u = Uniform();
    while (u <= 0) u = Uniform();
    return Gamma(shape + 1.0) * std::pow(u, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    double x, v;
    do {
      x = Normal();
      v = 1.0 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = Uniform();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (u > 0 && std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

double Rng::Beta(double a, double b) {
  // With some evidence on both sides a normal with the Beta's mean and variance is close
  // and several times cheaper (the logging propensities use the same sampler).
  if (a >= 10 && b >= 10) {
    const double n = a + b;
    const double mean = a / n;
    const double sd = std::sqrt(mean * (1 - mean) / (n + 1));
    return std::clamp(mean + sd * Normal(), 0.0, 1.0);
  }
  const double x = Gamma(a);
  const double y = Gamma(b);
  return x + y > 0 ? x / (x + y) : 0.5;
}

namespace {

std::vector<int> RankBy(const std::vector<double>& priority) {
  std::vector<int> order(priority.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return priority[static_cast<size_t>(a)] > priority[static_cast<size_t>(b)];
  });
  return order;
}

}  // namespace

std::vector<int> ExploitRanking(std::span<const RankCandidate> cands) {
  std::vector<double> p(cands.size());
  for (size_t i = 0; i < cands.size(); ++i) {
    p[i] = cands[i].alpha / (cands[i].alpha + cands[i].beta) * cands[i].weight;
  }
  return RankBy(p);
}

std::vector<int> SampledRanking(std::span<const RankCandidate> cands, Rng& rng,
                                std::vector<double>* samples) {
  std::vector<double> p(cands.size());
  for (size_t i = 0; i < cands.size(); ++i) {
    const double s = rng.Beta(cands[i].alpha, cands[i].beta);
    if (samples != nullptr) samples->push_back(s);
    p[i] = s * cands[i].weight;
  }
  return RankBy(p);
}

std::vector<double> LoggingPropensities(std::span<const RankCandidate> cands,
                                        std::span<const int> ranking, size_t k, double share,
                                        bool explored, int draws, uint64_t seed) {
  const size_t shown = std::min(k, ranking.size());
  std::vector<double> out(shown, 0.0);
  const auto exploit = ExploitRanking(cands);
  if (share <= 0) {
    for (size_t r = 0; r < shown; ++r) out[r] = exploit[r] == ranking[r] ? 1.0 : 0.0;
    return out;
  }
  // P_TS(ranking[r] at r): the decision's own draw counts when it explored.
  std::vector<double> hits(shown, 0.0);
  double total = 0;
  if (explored) {
    for (size_t r = 0; r < shown; ++r) hits[r] += 1;
    total += 1;
  }
  Rng rng(seed ^ 0x6c6f6767696e67ull);  // "logging": a stream apart from the decision's
  for (int d = 0; d < draws; ++d) {
    const auto sampled = SampledRanking(cands, rng);
    for (size_t r = 0; r < shown; ++r) {
      if (sampled[r] == ranking[r]) hits[r] += 1;
    }
    total += 1;
  }
  for (size_t r = 0; r < shown; ++r) {
    out[r] = (1 - share) * (exploit[r] == ranking[r] ? 1.0 : 0.0) + share * hits[r] / total;
  }
  return out;
}

}  // namespace intentstream::decide
