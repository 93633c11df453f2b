// Next-item evaluation on held-out sessions: predict each session's last item (its page
// or screen category id) from what came before, scored by Recall@K and MRR@K, next to
// two baselines fitted on the training timelines: most-popular, and item-to-item
// transition counts (sequential rules). No torch includes.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/dataset.h"
#include "model/tokenizer.h"

namespace intentstream::model {

struct NextItemCase {
  const Timeline* timeline = nullptr;
  size_t target = 0;        // index in timeline->events of the session's last event
  int32_t target_item = 0;  // its category id
  int32_t last_item = 0;    // category id of the event before it
};

// One case per held-out session with at least 2 events and a real target item. The
// model's context is the visitor's history before the target (what serving would hold);
// baselines use the previous item only. At most max_cases, sampled with `seed`.
std::vector<NextItemCase> BuildNextItemCases(const std::vector<Timeline>& timelines,
                                             const Tokenizer& tokenizer, int64_t session_gap_ms,
                                             size_t max_cases, uint64_t seed);

class PopularityBaseline {
 public:
  void Fit(const std::vector<Timeline>& train, const Tokenizer& tokenizer);
  const std::vector<int32_t>& TopK() const { return ranked_; }
  void Limit(size_t k) {
    if (ranked_.size() > k) ranked_.resize(k);
  }

 private:
  std::vector<int32_t> ranked_;
};

class TransitionBaseline {
 public:
  void Fit(const std::vector<Timeline>& train, const Tokenizer& tokenizer, int64_t session_gap_ms);
  // The most frequent successors of `last_item`, topped up from `fallback`.
  std::vector<int32_t> TopK(int32_t last_item, size_t k,
                            const std::vector<int32_t>& fallback) const;

 private:
  std::unordered_map<int32_t, std::vector<std::pair<int32_t, int64_t>>> next_;
};

struct RankMetrics {
  std::string name;
  size_t k = 20;
  size_t cases = 0;
  double hits = 0;
  double reciprocal_rank_sum = 0;
  void Add(const std::vector<int32_t>& ranked, int32_t target);
  double Recall() const { return cases ? hits / static_cast<double>(cases) : 0; }
  double Mrr() const { return cases ? reciprocal_rank_sum / static_cast<double>(cases) : 0; }
};

// A plain-text (and markdown-compatible) table of the metrics.
std::string FormatMetricsTable(const std::vector<RankMetrics>& rows);

}  // namespace intentstream::model
