// Reads the processor's own metrics back out of a registry, for the figures the benches
// and `intentstream run` print: a counter family's sum, a histogram's buckets (summed
// over its label sets, or one label value) and its quantiles as PromQL's
// histogram_quantile computes them, and the per-stage share of time
// (intentstream_stage_seconds).
#pragma once

#include <prometheus/registry.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace intentstream::serve {

// Sum of a counter family's values over the label sets that have `label` = `value` (all
// label sets when `label` is empty).
double CounterSum(const prometheus::Registry& registry, std::string_view family,
                  std::string_view label = {}, std::string_view value = {});

struct HistogramReadout {
  std::vector<std::pair<double, double>> buckets;  // (upper bound, cumulative count)
  double count = 0;
  double sum = 0;
};
// A histogram family's buckets summed over the label sets selected as for CounterSum.
HistogramReadout ReadHistogram(const prometheus::Registry& registry, std::string_view family,
                               std::string_view label = {}, std::string_view value = {});
// The q-quantile, linear within its bucket (histogram_quantile); 0 without samples.
double Quantile(const HistogramReadout& h, double q);

// Seconds spent per stage (intentstream_stage_seconds), in pipeline order.
std::vector<std::pair<std::string, double>> StageSeconds(const prometheus::Registry& registry);
// The per-stage table: seconds, microseconds per event and share of the stages' total,
// each line indented by `indent` spaces. Prints nothing without stage times or events.
void PrintStageTimes(std::FILE* out, const prometheus::Registry& registry, uint64_t events,
                     int indent = 2);

}  // namespace intentstream::serve
