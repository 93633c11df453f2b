#include "model/evaluation.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>

namespace intentstream::model {

namespace {
bool IsItem(int32_t id) {
  return id >= kFirstVocabId;
}
}  // namespace

std::vector<NextItemCase> BuildNextItemCases(const std::vector<Timeline>& timelines,
                                             const Tokenizer& tok, int64_t session_gap_ms,
                                             size_t max_cases, uint64_t seed) {
  std::vector<NextItemCase> cases;
  for (const auto& tl : timelines) {
    for (const auto& [begin, end] : Sessionize(tl, session_gap_ms)) {
      if (end - begin < 2) continue;
      const size_t target = end - 1;
      const int32_t item = tok.CategoryId(tl.events[target].category());
      if (!IsItem(item)) continue;
      cases.push_back({&tl, target, item, tok.CategoryId(tl.events[target - 1].category())});
    }
  }
  if (cases.size() > max_cases) {
    std::mt19937_64 rng(seed);
    std::shuffle(cases.begin(), cases.end(), rng);
    cases.resize(max_cases);
  }
  return cases;
}

void PopularityBaseline::Fit(const std::vector<Timeline>& train, const Tokenizer& tok) {
  std::map<int32_t, int64_t> counts;
  for (const auto& tl : train) {
    for (const auto& e : tl.events) {
      const int32_t id = tok.CategoryId(e.category());
      if (IsItem(id)) ++counts[id];
    }
  }
  std::vector<std::pair<int32_t, int64_t>> v(counts.begin(), counts.end());
  std::stable_sort(v.begin(), v.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  ranked_.clear();
  for (const auto& [id, n] : v) ranked_.push_back(id);
}

void TransitionBaseline::Fit(const std::vector<Timeline>& train, const Tokenizer& tok,
                             int64_t session_gap_ms) {
  std::map<std::pair<int32_t, int32_t>, int64_t> counts;
  for (const auto& tl : train) {
    for (const auto& [begin, end] : Sessionize(tl, session_gap_ms)) {
      for (size_t i = begin + 1; i < end; ++i) {
        const int32_t a = tok.CategoryId(tl.events[i - 1].category());
        const int32_t b = tok.CategoryId(tl.events[i].category());
        if (IsItem(b)) ++counts[{a, b}];
      }
    }
  }
  next_.clear();
  for (const auto& [ab, n] : counts) next_[ab.first].emplace_back(ab.second, n);
  for (auto& [a, v] : next_) {
    std::stable_sort(v.begin(), v.end(),
                     [](const auto& x, const auto& y) { return x.second > y.second; });
  }
}

std::vector<int32_t> TransitionBaseline::TopK(int32_t last_item, size_t k,
                                              const std::vector<int32_t>& fallback) const {
  std::vector<int32_t> out;
  const auto it = next_.find(last_item);
  if (it != next_.end()) {
    for (const auto& [id, n] : it->second) {
      if (out.size() == k) break;
      out.push_back(id);
    }
  }
  for (int32_t id : fallback) {
    if (out.size() == k) break;
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  return out;
}

void RankMetrics::Add(const std::vector<int32_t>& ranked, int32_t target) {
  ++cases;
  for (size_t i = 0; i < ranked.size() && i < k; ++i) {
    if (ranked[i] == target) {
      hits += 1;
      reciprocal_rank_sum += 1.0 / static_cast<double>(i + 1);
      return;
    }
  }
}

std::string FormatMetricsTable(const std::vector<RankMetrics>& rows) {
  std::string out;
  char buf[256];
  const size_t k = rows.empty() ? 20 : rows.front().k;
  std::snprintf(buf, sizeof(buf), "| %-36s | %9s | %9s | %7s |\n", "method",
                ("Recall@" + std::to_string(k)).c_str(), ("MRR@" + std::to_string(k)).c_str(),
                "cases");
  out += buf;
  out += "|--------------------------------------|-----------|-----------|---------|\n";
  for (const auto& r : rows) {
    std::snprintf(buf, sizeof(buf), "| %-36s | %9.4f | %9.4f | %7zu |\n", r.name.c_str(),
                  r.Recall(), r.Mrr(), r.cases);
    out += buf;
  }
  return out;
}

}  // namespace intentstream::model
