#include "serve/metric_readout.h"

#include <algorithm>
#include <cmath>

namespace intentstream::serve {

namespace {

bool Selected(const prometheus::ClientMetric& m, std::string_view label, std::string_view value) {
  if (label.empty()) return true;
  return std::any_of(m.label.begin(), m.label.end(),
                     [&](const auto& l) { return l.name == label && l.value == value; });
}

}  // namespace

double CounterSum(const prometheus::Registry& registry, std::string_view family,
                  std::string_view label, std::string_view value) {
  double sum = 0;
  for (const auto& f : registry.Collect()) {
    if (f.name != family) continue;
    for (const auto& m : f.metric) {
      if (Selected(m, label, value)) sum += m.counter.value;
    }
  }
  return sum;
}

HistogramReadout ReadHistogram(const prometheus::Registry& registry, std::string_view family,
                               std::string_view label, std::string_view value) {
  HistogramReadout h;
  for (const auto& f : registry.Collect()) {
    if (f.name != family) continue;
    for (const auto& m : f.metric) {
      if (!Selected(m, label, value)) continue;
      const auto& buckets = m.histogram.bucket;
      if (h.buckets.empty()) {
        for (const auto& b : buckets) h.buckets.emplace_back(b.upper_bound, 0.0);
      }
      for (size_t i = 0; i < buckets.size() && i < h.buckets.size(); ++i) {
        h.buckets[i].second += static_cast<double>(buckets[i].cumulative_count);
      }
      h.count += static_cast<double>(m.histogram.sample_count);
      h.sum += m.histogram.sample_sum;
    }
  }
  return h;
}

double Quantile(const HistogramReadout& h, double q) {
  const auto& buckets = h.buckets;
  if (buckets.empty() || buckets.back().second == 0) return 0;
  const double rank = q * buckets.back().second;
  double prev_bound = 0, prev_count = 0;
  for (const auto& [bound, count] : buckets) {
    if (count >= rank) {
      if (std::isinf(bound)) return prev_bound;
      return prev_bound +
             (bound - prev_bound) * (rank - prev_count) / std::max(1.0, count - prev_count);
    }
    prev_bound = bound;
    prev_count = count;
  }
  return prev_bound;
}

std::vector<std::pair<std::string, double>> StageSeconds(const prometheus::Registry& registry) {
  std::vector<std::pair<std::string, double>> stages;
  for (const auto& family : registry.Collect()) {
    if (family.name != "intentstream_stage_seconds") continue;
    for (const auto& m : family.metric) {
      std::string stage;
      for (const auto& l : m.label) {
        if (l.name == "stage") stage = l.value;
      }
      stages.emplace_back(stage, m.histogram.sample_sum);
    }
  }
  // In pipeline order (the registry's order is its own).
  const std::vector<std::string> order = {"decode",   "state",   "model",
                                          "operator", "produce", "commit"};
  const auto rank = [&](const std::string& st) {
    return std::find(order.begin(), order.end(), st) - order.begin();
  };
  std::sort(stages.begin(), stages.end(),
            [&](const auto& a, const auto& b) { return rank(a.first) < rank(b.first); });
  return stages;
}

void PrintStageTimes(std::FILE* out, const prometheus::Registry& registry, uint64_t events,
                     int indent) {
  const auto stages = StageSeconds(registry);
  double total = 0;
  for (const auto& [stage, seconds] : stages) total += seconds;
  if (stages.empty() || total <= 0 || events == 0) return;
  std::fprintf(out, "%*s%-28s %12s %12s %8s\n", indent, "", "time per stage", "seconds", "us/event",
               "share");
  for (const auto& [stage, seconds] : stages) {
    std::fprintf(out, "%*s  %-26s %12.3f %12.2f %7.1f%%\n", indent, "", stage.c_str(), seconds,
                 seconds * 1e6 / static_cast<double>(events), 100.0 * seconds / total);
  }
}

}  // namespace intentstream::serve
