#include "model/binary_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

namespace intentstream::model {

namespace {

// Indexes sorted by descending probability.
std::vector<size_t> Descending(std::span<const double> p) {
  std::vector<size_t> idx(p.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
  return idx;
}

}  // namespace

double RocAuc(std::span<const double> p, std::span<const int> y) {
  std::vector<size_t> idx(p.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  double positives = 0, rank_sum = 0;
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j < idx.size() && p[idx[j]] == p[idx[i]]) ++j;
    const double rank = (static_cast<double>(i) + 1 + static_cast<double>(j)) / 2.0;
    for (size_t k = i; k < j; ++k) {
      if (y[idx[k]]) {
        positives += 1;
        rank_sum += rank;
      }
    }
    i = j;
  }
  const double negatives = static_cast<double>(p.size()) - positives;
  if (positives == 0 || negatives == 0) return 0.5;
  return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
}

double PrAuc(std::span<const double> p, std::span<const int> y) {
  const auto idx = Descending(p);
  double total_pos = 0;
  for (int v : y) total_pos += v;
  if (total_pos == 0) return 0;
  double tp = 0, fp = 0, ap = 0, prev_recall = 0;
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j < idx.size() && p[idx[j]] == p[idx[i]]) {
      (y[idx[j]] ? tp : fp) += 1;
      ++j;
    }
    const double recall = tp / total_pos;
    const double precision = tp / (tp + fp);
    ap += (recall - prev_recall) * precision;
    prev_recall = recall;
    i = j;
  }
  return ap;
}

double LogLoss(std::span<const double> p, std::span<const int> y) {
  if (p.empty()) return 0;
  double sum = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double q = std::clamp(p[i], 1e-7, 1 - 1e-7);
    sum -= y[i] ? std::log(q) : std::log(1 - q);
  }
  return sum / static_cast<double>(p.size());
}

ThresholdCounts AtThreshold(std::span<const double> p, std::span<const int> y, double threshold) {
  double tp = 0, fp = 0, fn = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const bool predicted = p[i] >= threshold;
    if (predicted && y[i]) ++tp;
    if (predicted && !y[i]) ++fp;
    if (!predicted && y[i]) ++fn;
  }
  ThresholdCounts c;
  c.precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  c.recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  c.f1 = 2 * tp + fp + fn > 0 ? 2 * tp / (2 * tp + fp + fn) : 0;
  return c;
}

double BestF1Threshold(std::span<const double> p, std::span<const int> y) {
  const auto idx = Descending(p);
  double total_pos = 0;
  for (int v : y) total_pos += v;
  double tp = 0, fp = 0, best_f1 = -1, best = 0.5;
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j < idx.size() && p[idx[j]] == p[idx[i]]) {
      (y[idx[j]] ? tp : fp) += 1;
      ++j;
    }
    const double fn = total_pos - tp;
    const double f1 = 2 * tp / std::max(1.0, 2 * tp + fp + fn);
    if (f1 > best_f1) {
      best_f1 = f1;
      // Halfway to the next lower score, so the choice is not a knife's edge.
      const double next = j < idx.size() ? p[idx[j]] : 0.0;
      best = (p[idx[i]] + next) / 2;
    }
    i = j;
  }
  return best;
}

std::vector<ReliabilityBin> Reliability(std::span<const double> p, std::span<const int> y,
                                        int bins) {
  std::vector<ReliabilityBin> out(static_cast<size_t>(bins));
  for (int b = 0; b < bins; ++b) {
    out[static_cast<size_t>(b)].lower = static_cast<double>(b) / bins;
    out[static_cast<size_t>(b)].upper = static_cast<double>(b + 1) / bins;
  }
  for (size_t i = 0; i < p.size(); ++i) {
    const auto b = static_cast<size_t>(
        std::min(bins - 1, static_cast<int>(std::clamp(p[i], 0.0, 1.0) * bins)));
    out[b].count += 1;
    out[b].mean_predicted += p[i];
    out[b].observed_rate += y[i];
  }
  for (auto& bin : out) {
    if (bin.count == 0) continue;
    bin.mean_predicted /= static_cast<double>(bin.count);
    bin.observed_rate /= static_cast<double>(bin.count);
  }
  return out;
}

double ExpectedCalibrationError(const std::vector<ReliabilityBin>& bins) {
  double n = 0, sum = 0;
  for (const auto& b : bins) n += static_cast<double>(b.count);
  if (n == 0) return 0;
  for (const auto& b : bins) {
    sum += static_cast<double>(b.count) / n * std::abs(b.observed_rate - b.mean_predicted);
  }
  return sum;
}

std::string FormatReliability(const std::vector<ReliabilityBin>& bins) {
  std::string out = "| predicted | count | mean predicted | observed |\n|---|---:|---:|---:|\n";
  char buf[128];
  for (const auto& b : bins) {
    if (b.count == 0) continue;
    std::snprintf(buf, sizeof buf, "| [%.1f, %.1f) | %zu | %.4f | %.4f |\n", b.lower, b.upper,
                  b.count, b.mean_predicted, b.observed_rate);
    out += buf;
  }
  return out;
}

namespace {

// Each resample's AUC of every model in `models` (the same rows for all of them).
std::vector<std::vector<double>> BootstrapAucs(std::span<const std::span<const double>> models,
                                               std::span<const int> y, int resamples,
                                               uint64_t seed) {
  std::mt19937_64 rng(seed);  // exactly specified: the same draws with any library
  const size_t n = y.size();
  std::vector<std::vector<double>> out(models.size());
  std::vector<size_t> rows(n);
  std::vector<double> p(n);
  std::vector<int> yy(n);
  for (int r = 0; r < resamples && n > 0; ++r) {
    for (size_t i = 0; i < n; ++i) rows[i] = static_cast<size_t>(rng() % n);
    for (size_t i = 0; i < n; ++i) yy[i] = y[rows[i]];
    for (size_t m = 0; m < models.size(); ++m) {
      for (size_t i = 0; i < n; ++i) p[i] = models[m][rows[i]];
      out[m].push_back(RocAuc(p, yy));
    }
  }
  return out;
}

Interval Percentiles(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5)];
  };
  return {at(0.025), at(0.975)};
}

}  // namespace

Interval RocAucInterval(std::span<const double> p, std::span<const int> y, int resamples,
                        uint64_t seed) {
  const std::span<const double> models[] = {p};
  return Percentiles(BootstrapAucs(models, y, resamples, seed)[0]);
}

Interval RocAucDifferenceInterval(std::span<const double> a, std::span<const double> b,
                                  std::span<const int> y, int resamples, uint64_t seed) {
  const std::span<const double> models[] = {a, b};
  const auto aucs = BootstrapAucs(models, y, resamples, seed);
  std::vector<double> diff(aucs[0].size());
  for (size_t i = 0; i < diff.size(); ++i) diff[i] = aucs[0][i] - aucs[1][i];
  return Percentiles(std::move(diff));
}

BinaryMetrics Evaluate(const std::string& model, std::span<const double> p, std::span<const int> y,
                       double threshold) {
  BinaryMetrics m;
  m.model = model;
  m.rows = p.size();
  for (int v : y) m.positives += static_cast<size_t>(v);
  m.roc_auc = RocAuc(p, y);
  m.pr_auc = PrAuc(p, y);
  m.log_loss = LogLoss(p, y);
  m.threshold = threshold;
  const auto c = AtThreshold(p, y, threshold);
  m.precision = c.precision;
  m.recall = c.recall;
  m.f1 = c.f1;
  m.ece = ExpectedCalibrationError(Reliability(p, y));
  return m;
}

}  // namespace intentstream::model
