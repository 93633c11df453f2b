// The generator's own pseudo-random numbers. The standard library's distributions
// differ between implementations, so a world built with them would not be
// byte-identical across toolchains; everything here is spelled out.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>

namespace intentstream::sim {

// splitmix64 step: advances `state` and returns a well-mixed 64-bit value.
constexpr uint64_t SplitMix64(uint64_t& state) {
  state += 0x9e3779b97f4a7c15ull;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Stateless mix of several values into one seed (order matters). Used to derive an
// independent stream per (person, day), so one person's journey does not change
// when the world grows.
constexpr uint64_t MixSeed(std::initializer_list<uint64_t> parts) {
  uint64_t state = 0x6a09e667f3bcc909ull;
  uint64_t out = 0;
  for (uint64_t p : parts) {
    state ^= p;
    out = SplitMix64(state);
  }
  return out;
}

// xoshiro256** seeded by splitmix64. Not thread-safe; one instance per stream.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& word : s_) word = SplitMix64(seed);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n); n > 0. Rejection keeps it unbiased.
  uint64_t Below(uint64_t n) {
    const uint64_t threshold = (0 - n) % n;
    for (;;) {
      const uint64_t r = Next();
      if (r >= threshold) return r % n;
    }
  }

  // Uniform integer in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }

  bool Chance(double p) { return Uniform() < p; }

  double Exponential(double mean) { return -mean * std::log1p(-Uniform()); }

  // Standard normal by Box-Muller (one value per call; simplicity over speed).
  double Normal() {
    const double u1 = 1.0 - Uniform();  // (0, 1]
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

  double LogNormal(double mu, double sigma) { return std::exp(mu + sigma * Normal()); }

  // Poisson count; Knuth's method for small means, a rounded normal for large ones.
  int Poisson(double mean) {
    if (mean <= 0) return 0;
    if (mean > 30) {
      const double x = mean + std::sqrt(mean) * Normal();
      return x < 0 ? 0 : static_cast<int>(x + 0.5);
    }
    const double limit = std::exp(-mean);
    int k = 0;
    double p = Uniform();
    while (p > limit) {
      ++k;
      p *= Uniform();
    }
    return k;
  }

  // Number of failures before the first success with success probability p (> 0).
  int Geometric(double p) {
    int k = 0;
    while (!Chance(p) && k < 1000) ++k;
    return k;
  }

  // Index drawn with probability proportional to weights[i] (all >= 0, sum > 0).
  size_t Weighted(std::span<const double> weights) {
    double total = 0;
    for (double w : weights) total += w;
    double x = Uniform() * total;
    for (size_t i = 0; i < weights.size(); ++i) {
      if (x < weights[i]) return i;
      x -= weights[i];
    }
    return weights.size() - 1;
  }

  // Zipf-like rank over n items: rank r has weight 1 / (r + 1)^s. Skews towards the
  // first (most popular) entries of a list.
  size_t Zipf(size_t n, double s = 1.1) {
    double total = 0;
    for (size_t r = 0; r < n; ++r) total += 1.0 / std::pow(static_cast<double>(r + 1), s);
    double x = Uniform() * total;
    for (size_t r = 0; r < n; ++r) {
      const double w = 1.0 / std::pow(static_cast<double>(r + 1), s);
      if (x < w) return r;
      x -= w;
    }
    return n - 1;
  }

 private:
  static constexpr uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace intentstream::sim
