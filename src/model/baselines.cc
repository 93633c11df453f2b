#include "model/baselines.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <queue>

namespace intentstream::model {

namespace {

// Appends `fallback` items not yet in `out` until it holds k.
void TopUp(const std::vector<int32_t>& fallback, size_t k, std::vector<int32_t>* out) {
  for (int32_t id : fallback) {
    if (out->size() >= k) break;
    if (std::find(out->begin(), out->end(), id) == out->end()) out->push_back(id);
  }
}

// Ids by descending score, ties by ascending id: the same ranking on every run.
template <typename Map>
std::vector<int32_t> RankByScore(const Map& scores) {
  std::vector<std::pair<int32_t, double>> v(scores.begin(), scores.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::vector<int32_t> out;
  out.reserve(v.size());
  for (const auto& [id, score] : v) out.push_back(id);
  return out;
}

}  // namespace

std::vector<ItemSession> ItemSessions(const std::vector<Timeline>& timelines, const Tokenizer& tok,
                                      int64_t session_gap_ms) {
  std::vector<ItemSession> out;
  for (const auto& tl : timelines) {
    for (const auto& [begin, end] : Sessionize(tl, session_gap_ms)) {
      ItemSession s;
      s.items.reserve(end - begin);
      for (size_t i = begin; i < end; ++i)
        s.items.push_back(tok.CategoryId(tl.events[i].category()));
      s.end_ms = tl.events[end - 1].time_ms();
      out.push_back(std::move(s));
    }
  }
  return out;
}

PopularityBaseline::PopularityBaseline(const std::vector<ItemSession>& train) {
  std::map<int32_t, double> counts;
  for (const auto& s : train) {
    for (int32_t id : s.items) {
      if (IsItem(id)) counts[id] += 1;
    }
  }
  ranked_ = RankByScore(counts);
}

void PopularityBaseline::Recommend(std::span<const int32_t>, size_t k,
                                   std::vector<int32_t>* out) const {
  out->assign(ranked_.begin(), ranked_.begin() + std::min(k, ranked_.size()));
}

void SuccessorRules::Add(int32_t from, int32_t to, double weight) {
  if (IsItem(to)) weights_[from][to] += weight;
}

void SuccessorRules::Finish() {
  ranked_.clear();
  for (const auto& [from, to] : weights_) ranked_[from] = RankByScore(to);
  weights_.clear();
}

void SuccessorRules::Recommend(int32_t last, size_t k, const std::vector<int32_t>& fallback,
                               std::vector<int32_t>* out) const {
  out->clear();
  const auto it = ranked_.find(last);
  if (it != ranked_.end()) {
    out->assign(it->second.begin(), it->second.begin() + std::min(k, it->second.size()));
  }
  TopUp(fallback, k, out);
}

TransitionBaseline::TransitionBaseline(const std::vector<ItemSession>& train,
                                       const PopularityBaseline& popular)
    : popular_(popular) {
  for (const auto& s : train) {
    for (size_t i = 1; i < s.items.size(); ++i) rules_.Add(s.items[i - 1], s.items[i], 1.0);
  }
  rules_.Finish();
}

void TransitionBaseline::Recommend(std::span<const int32_t> session, size_t k,
                                   std::vector<int32_t>* out) const {
  rules_.Recommend(session.back(), k, popular_.ranked(), out);
}

SequentialRulesBaseline::SequentialRulesBaseline(const std::vector<ItemSession>& train,
                                                 const PopularityBaseline& popular, int steps)
    : popular_(popular) {
  for (const auto& s : train) {
    for (size_t j = 1; j < s.items.size(); ++j) {
      for (size_t gap = 1; gap <= static_cast<size_t>(steps) && gap <= j; ++gap) {
        rules_.Add(s.items[j - gap], s.items[j], 1.0 / static_cast<double>(gap));
      }
    }
  }
  rules_.Finish();
}

void SequentialRulesBaseline::Recommend(std::span<const int32_t> session, size_t k,
                                        std::vector<int32_t>* out) const {
  rules_.Recommend(session.back(), k, popular_.ranked(), out);
}

SessionKnnBaseline::SessionKnnBaseline(const std::vector<ItemSession>& train,
                                       const PopularityBaseline& popular, size_t neighbours,
                                       size_t sample)
    : popular_(popular), neighbours_(neighbours), sample_(sample) {
  sets_.reserve(train.size());
  for (const auto& s : train) {
    std::vector<int32_t> set = s.items;
    std::sort(set.begin(), set.end());
    set.erase(std::unique(set.begin(), set.end()), set.end());
    sets_.push_back(std::move(set));
  }
  std::vector<uint32_t> order(train.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return train[a].end_ms > train[b].end_ms; });
  recency_rank_.resize(train.size());
  for (uint32_t r = 0; r < order.size(); ++r) recency_rank_[order[r]] = r;
  for (uint32_t session : order) {
    for (int32_t id : sets_[session]) sessions_of_[id].push_back(session);
  }
}

void SessionKnnBaseline::Recommend(std::span<const int32_t> session, size_t k,
                                   std::vector<int32_t>* out) const {
  std::vector<int32_t> current(session.begin(), session.end());
  std::sort(current.begin(), current.end());
  current.erase(std::unique(current.begin(), current.end()), current.end());

  // The `sample_` most recent training sessions sharing an item: a merge of the items'
  // lists (each most recent first); one session's entries pop one after another.
  struct Head {
    uint32_t rank;
    const std::vector<uint32_t>* list;
    size_t next;
    bool operator>(const Head& o) const { return rank > o.rank; }
  };
  std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heap;
  for (int32_t id : current) {
    const auto it = sessions_of_.find(id);
    if (it != sessions_of_.end()) heap.push({recency_rank_[it->second[0]], &it->second, 0});
  }
  std::vector<uint32_t> candidates;
  while (!heap.empty() && candidates.size() < sample_) {
    Head h = heap.top();
    heap.pop();
    const uint32_t s = (*h.list)[h.next];
    if (candidates.empty() || candidates.back() != s) candidates.push_back(s);
    if (++h.next < h.list->size()) {
      h.rank = recency_rank_[(*h.list)[h.next]];
      heap.push(h);
    }
  }

  // Cosine similarity of the item sets; the most similar `neighbours_` (ties: recent).
  std::vector<std::pair<double, uint32_t>> scored;
  scored.reserve(candidates.size());
  for (uint32_t s : candidates) {
    const auto& other = sets_[s];
    size_t common = 0;
    for (size_t i = 0, j = 0; i < current.size() && j < other.size();) {
      if (current[i] < other[j]) {
        ++i;
      } else if (other[j] < current[i]) {
        ++j;
      } else {
        ++common, ++i, ++j;
      }
    }
    scored.emplace_back(
        static_cast<double>(common) / std::sqrt(static_cast<double>(current.size() * other.size())),
        s);
  }
  const size_t n = std::min(neighbours_, scored.size());
  std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(n), scored.end(),
                    [&](const auto& a, const auto& b) {
                      return a.first != b.first ? a.first > b.first
                                                : recency_rank_[a.second] < recency_rank_[b.second];
                    });
  std::unordered_map<int32_t, double> scores;
  for (size_t i = 0; i < n; ++i) {
    for (int32_t id : sets_[scored[i].second]) {
      if (IsItem(id)) scores[id] += scored[i].first;
    }
  }
  *out = RankByScore(scores);
  if (out->size() > k) out->resize(k);
  TopUp(popular_.ranked(), k, out);
}

}  // namespace intentstream::model
