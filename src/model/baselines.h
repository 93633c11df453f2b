// Next-item baselines for the evaluation (evaluation.h), fitted on the training sessions
// in the same run as the model they are compared with. An "item" is an event's page or
// screen category id (Tokenizer::CategoryId); only vocabulary ids and hashed buckets
// (id >= kFirstVocabId) are ever recommended. Each baseline ranks the next item of a
// session from the session's items so far, and tops its list up with the most popular
// items, so every list has k entries when the training data has k items.
//
// The sequential-rules and session-kNN baselines follow the session-based
// recommendation benchmarks (sequential rules with 1/gap weights over 10 steps; session
// kNN with cosine similarity over the 500 most recent training sessions that share an
// item, 100 neighbours), which on public clickstreams are as strong as neural models.
// No torch includes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/dataset.h"
#include "model/tokenizer.h"

namespace intentstream::model {

inline bool IsItem(int32_t id) {
  return id >= kFirstVocabId;
}

// A training session as the baselines see it: its items in event order.
struct ItemSession {
  std::vector<int32_t> items;
  int64_t end_ms = 0;  // time of its last event: "recent" for session kNN
};

// Every session (split by `session_gap_ms` of inactivity) of every timeline.
std::vector<ItemSession> ItemSessions(const std::vector<Timeline>& timelines,
                                      const Tokenizer& tokenizer, int64_t session_gap_ms);

class NextItemBaseline {
 public:
  virtual ~NextItemBaseline() = default;
  virtual std::string name() const = 0;
  // Up to k items for the next event of a session whose items so far are `session`
  // (not empty), best first.
  virtual void Recommend(std::span<const int32_t> session, size_t k,
                         std::vector<int32_t>* out) const = 0;
};

// Items by how often they occur in training.
class PopularityBaseline final : public NextItemBaseline {
 public:
  explicit PopularityBaseline(const std::vector<ItemSession>& train);
  std::string name() const override { return "most-popular"; }
  void Recommend(std::span<const int32_t> session, size_t k,
                 std::vector<int32_t>* out) const override;
  const std::vector<int32_t>& ranked() const { return ranked_; }

 private:
  std::vector<int32_t> ranked_;
};

// Weighted successor lists of each item, ranked by weight: the shared machinery of the
// transition and sequential-rule baselines.
class SuccessorRules {
 public:
  void Add(int32_t from, int32_t to, double weight);
  void Finish();  // sorts each list by weight (ties: lower id first)
  void Recommend(int32_t last, size_t k, const std::vector<int32_t>& fallback,
                 std::vector<int32_t>* out) const;

 private:
  std::unordered_map<int32_t, std::unordered_map<int32_t, double>> weights_;
  std::unordered_map<int32_t, std::vector<int32_t>> ranked_;
};

// The last item's most frequent immediate successors (a first-order Markov chain).
class TransitionBaseline final : public NextItemBaseline {
 public:
  TransitionBaseline(const std::vector<ItemSession>& train, const PopularityBaseline& popular);
  std::string name() const override { return "item-to-item transitions"; }
  void Recommend(std::span<const int32_t> session, size_t k,
                 std::vector<int32_t>* out) const override;

 private:
  SuccessorRules rules_;
  const PopularityBaseline& popular_;
};

// Sequential rules: item b after item a within `steps` events of the same session adds
// 1/gap to the rule a -> b; the last item's rules rank the next.
class SequentialRulesBaseline final : public NextItemBaseline {
 public:
  SequentialRulesBaseline(const std::vector<ItemSession>& train, const PopularityBaseline& popular,
                          int steps = 10);
  std::string name() const override { return "sequential rules"; }
  void Recommend(std::span<const int32_t> session, size_t k,
                 std::vector<int32_t>* out) const override;

 private:
  SuccessorRules rules_;
  const PopularityBaseline& popular_;
};

// Session kNN: of the `sample` most recent training sessions that share an item with the
// current one, the `neighbours` most similar by cosine similarity of their item sets;
// an item scores the summed similarity of the neighbours that hold it.
class SessionKnnBaseline final : public NextItemBaseline {
 public:
  SessionKnnBaseline(const std::vector<ItemSession>& train, const PopularityBaseline& popular,
                     size_t neighbours = 100, size_t sample = 500);
  std::string name() const override { return "session kNN"; }
  void Recommend(std::span<const int32_t> session, size_t k,
                 std::vector<int32_t>* out) const override;

 private:
  std::vector<std::vector<int32_t>> sets_;  // each training session's distinct items, sorted
  // Per item, the training sessions holding it, most recent first.
  std::unordered_map<int32_t, std::vector<uint32_t>> sessions_of_;
  std::vector<uint32_t> recency_rank_;  // per session: 0 = most recent
  const PopularityBaseline& popular_;
  size_t neighbours_;
  size_t sample_;
};

// The four baselines above, fitted on the same training sessions, in table order.
// Not copyable or movable: the others refer to `popular`.
struct Baselines {
  explicit Baselines(const std::vector<ItemSession>& train)
      : popular(train), transitions(train, popular), rules(train, popular), knn(train, popular) {}
  Baselines(const Baselines&) = delete;
  Baselines& operator=(const Baselines&) = delete;
  std::vector<const NextItemBaseline*> all() const {
    return {&popular, &transitions, &rules, &knn};
  }

  PopularityBaseline popular;
  TransitionBaseline transitions;
  SequentialRulesBaseline rules;
  SessionKnnBaseline knn;
};

}  // namespace intentstream::model
