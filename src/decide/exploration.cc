#include "decide/exploration.h"

#include <algorithm>
#include <bit>
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

size_t LoggingDraws::KeyHash::operator()(const Key& k) const {
  uint64_t h = k.alpha_bits * 0x9e3779b97f4a7c15ull;
  h ^= (k.beta_bits + 0x632be59bd9b4e019ull + (h << 6) + (h >> 2));
  h ^= (static_cast<uint64_t>(k.offer) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));
  return static_cast<size_t>(h);
}

std::span<const double> LoggingDraws::Of(const RankCandidate& c) {
  const Key key{std::bit_cast<uint64_t>(c.alpha), std::bit_cast<uint64_t>(c.beta), c.offer};
  auto it = memo_.find(key);
  if (it == memo_.end()) {
    if (memo_.size() >= max_posteriors_) memo_.clear();
    // "logging" in the seed: a stream apart from any decision's own draws.
    Rng rng(KeyHash{}(key) ^ 0x6c6f6767696e67ull);
    std::vector<double> d(static_cast<size_t>(draws_));
    for (double& x : d) x = rng.Beta(c.alpha, c.beta);
    it = memo_.emplace(key, std::move(d)).first;
  }
  return it->second;
}

std::vector<double> LoggingPropensities(std::span<const RankCandidate> cands,
                                        std::span<const int> ranking, size_t k, double share,
                                        bool explored, LoggingDraws& draws) {
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
  std::vector<std::span<const double>> per_offer(cands.size());
  for (size_t i = 0; i < cands.size(); ++i) per_offer[i] = draws.Of(cands[i]);
  std::vector<double> p(cands.size());
  std::vector<char> taken(cands.size());
  for (int d = 0; d < draws.draws(); ++d) {
    for (size_t i = 0; i < cands.size(); ++i) {
      p[i] = per_offer[i][static_cast<size_t>(d)] * cands[i].weight;
    }
    // Only the first `shown` ranks matter: select them (ties: lower index, as RankBy).
    std::fill(taken.begin(), taken.end(), 0);
    for (size_t r = 0; r < shown; ++r) {
      size_t best = cands.size();
      for (size_t i = 0; i < cands.size(); ++i) {
        if (!taken[i] && (best == cands.size() || p[i] > p[best])) best = i;
      }
      taken[best] = 1;
      if (static_cast<int>(best) == ranking[r]) hits[r] += 1;
    }
    total += 1;
  }
  for (size_t r = 0; r < shown; ++r) {
    out[r] = (1 - share) * (exploit[r] == ranking[r] ? 1.0 : 0.0) + share * hits[r] / total;
  }
  return out;
}

}  // namespace intentstream::decide
