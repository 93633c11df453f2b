// The incremental serving path must produce the same embedding as a full re-encode of
// the same window: across cache hits, evictions, window overflow and merges that insert
// older events.
#include "model/incremental_encoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "model/model.h"
#include "test_util.h"

namespace intentstream::model {
namespace {

using testing::EventFactory;
using testing::RandomModel;

// A stand-in for the state stage: ascending events, the oldest dropped past a cap.
class FakeStore {
 public:
  explicit FakeStore(int max_events) : max_events_(max_events) {}

  void Add(const std::string& visitor, const v1::SessionEvent& e) {
    auto* events = states_[visitor].mutable_events();
    *events->Add() = e;
    std::sort(events->begin(), events->end(), [](const auto& a, const auto& b) {
      return a.time_ms() != b.time_ms() ? a.time_ms() < b.time_ms() : a.event_key() < b.event_key();
    });
    if (events->size() > max_events_) events->DeleteSubrange(0, events->size() - max_events_);
  }
  v1::VisitorState& State(const std::string& visitor) { return states_[visitor]; }

 private:
  int max_events_;
  std::map<std::string, v1::VisitorState> states_;
};

double MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    m = std::max(m, static_cast<double>(std::fabs(a[i] - b[i])));
  }
  return m;
}

// Streams random events for `visitors` visitors in batches and checks every embedding.
void StreamAndCheck(const std::shared_ptr<SessionModel>& model, size_t cache_capacity,
                    int max_events, int visitors, int batches, double merge_fraction,
                    IncrementalEncoderStats* stats_out = nullptr, int* events_out = nullptr) {
  int events_added = 0;
  IncrementalEncoder encoder(model, IncrementalEncoderOptions{cache_capacity});
  FakeStore store(max_events);
  EventFactory events(7);
  std::map<std::string, int64_t> clock;
  for (int b = 0; b < batches; ++b) {
    std::map<std::string, int> touched;
    const int n = 1 + static_cast<int>(events.Pick(6));
    for (int i = 0; i < n; ++i) {
      const std::string v = "visitor-" + std::to_string(events.Pick(visitors));
      int64_t& t = clock[v];
      t += 1 + static_cast<int64_t>(events.Pick(600000));
      // A merged hand-off inserts an older event somewhere in the middle.
      const bool merge = events.Pick(1000) < merge_fraction * 1000 && t > 1000000;
      const int64_t when = merge ? t - 1 - static_cast<int64_t>(events.Pick(1000000)) : t;
      store.Add(v, events.Next(when));
      ++touched[v];
      ++events_added;
    }
    std::vector<op::VisitorUpdate> updates;
    for (const auto& [v, count] : touched) {
      op::VisitorUpdate u;
      u.visitor_id = v;
      u.state = &store.State(v);
      updates.push_back(u);
    }
    encoder.Encode(updates);
    for (const auto& u : updates) {
      const auto got = DecodeEmbedding(u.state->embedding());
      const auto want = model->EncodeFull(
          EventPtrs(u.state->events().data(), static_cast<size_t>(u.state->events_size())));
      ASSERT_EQ(got.size(), static_cast<size_t>(model->embedding_dim()));
      ASSERT_LT(MaxAbsDiff(got, want), 1e-4) << "batch " << b << " visitor " << u.visitor_id;
      ASSERT_EQ(u.state->model_version(), model->version());
    }
    ASSERT_LE(encoder.cached_visitors(), cache_capacity);
  }
  if (stats_out != nullptr) *stats_out = encoder.stats();
  if (events_out != nullptr) *events_out = events_added;
}

TEST(IncrementalEncoderTest, MatchesFullEncodeWithinWindow) {
  IncrementalEncoderStats stats;
  int events = 0;
  // Few enough events that no visitor reaches window - stride (56).
  StreamAndCheck(RandomModel(), /*cache_capacity=*/100, /*max_events=*/64, /*visitors=*/5,
                 /*batches=*/50, /*merge_fraction=*/0, &stats, &events);
  EXPECT_GT(stats.cache_hits, 0u);
  // Warm visitors compute each event's position exactly once, never the whole window.
  EXPECT_EQ(stats.positions, static_cast<uint64_t>(events));
}

TEST(IncrementalEncoderTest, MatchesFullEncodeAcrossWindowOverflow) {
  IncrementalEncoderStats stats;
  // Window 8 with anchors every 2 events and a state that keeps 12: constant overflow.
  StreamAndCheck(RandomModel(/*window=*/8, /*stride=*/2), 100, /*max_events=*/12, 3, 300, 0,
                 &stats);
  EXPECT_GT(stats.cache_hits, 0u);
  EXPECT_GT(stats.prefix_mismatches, 0u);  // anchors dropped out: shifted windows re-encoded
}

TEST(IncrementalEncoderTest, MatchesFullEncodeWithPlainSlidingWindow) {
  // stride 1: the window slides by one event each time, re-encoded every update.
  StreamAndCheck(RandomModel(/*window=*/8, /*stride=*/1), 100, 20, 3, 100, 0);
}

TEST(IncrementalEncoderTest, MatchesFullEncodeAcrossEvictions) {
  IncrementalEncoderStats stats;
  StreamAndCheck(RandomModel(16, 4), /*cache_capacity=*/2, 24, /*visitors=*/6, 200, 0, &stats);
  EXPECT_GT(stats.evictions, 0u);
  EXPECT_GT(stats.cache_misses, 2u);
}

TEST(IncrementalEncoderTest, CacheStatsForMetrics) {
  IncrementalEncoder encoder(RandomModel());
  EventFactory events(13);
  v1::VisitorState state;
  std::vector<op::VisitorUpdate> updates(1);
  updates[0].visitor_id = "v";
  updates[0].state = &state;
  for (int i = 0; i < 3; ++i) {
    *state.add_events() = events.Next(1000 * (i + 1));
    encoder.Encode(updates);
  }
  const auto stats = encoder.cache_stats();
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.hits, 2u);
}

TEST(IncrementalEncoderTest, MatchesFullEncodeWithoutCache) {
  StreamAndCheck(RandomModel(16, 4), /*cache_capacity=*/0, 24, 4, 60, 0);
}

TEST(IncrementalEncoderTest, MatchesFullEncodeAcrossOutOfOrderMerges) {
  IncrementalEncoderStats stats;
  StreamAndCheck(RandomModel(16, 4), 100, 40, 3, 250, /*merge_fraction=*/0.2, &stats);
  EXPECT_GT(stats.prefix_mismatches, 0u);
}

TEST(IncrementalEncoderTest, SameVisitorTwiceInOneBatch) {
  auto model = RandomModel(16, 4);
  IncrementalEncoder encoder(model);
  EventFactory events(3);
  v1::VisitorState state;
  *state.add_events() = events.Next(1000);
  std::vector<op::VisitorUpdate> updates(2);
  updates[0].visitor_id = "a";
  updates[0].state = &state;
  updates[1] = updates[0];
  encoder.Encode(updates);
  const auto want = model->EncodeFull(EventPtrs(state.events().data(), 1));
  EXPECT_LT(MaxAbsDiff(DecodeEmbedding(state.embedding()), want), 1e-4);
}

TEST(IncrementalEncoderTest, EmptyStateClearsEmbedding) {
  IncrementalEncoder encoder(RandomModel());
  v1::VisitorState state;
  state.set_embedding("stale");
  std::vector<op::VisitorUpdate> updates(1);
  updates[0].visitor_id = "empty";
  updates[0].state = &state;
  encoder.Encode(updates);
  EXPECT_TRUE(state.embedding().empty());
  EXPECT_EQ(encoder.cached_visitors(), 0u);
}

TEST(IncrementalEncoderTest, ForgetDropsTheCache) {
  IncrementalEncoder encoder(RandomModel());
  EventFactory events(5);
  v1::VisitorState state;
  *state.add_events() = events.Next(1);
  std::vector<op::VisitorUpdate> updates(1);
  updates[0].visitor_id = "x";
  updates[0].state = &state;
  encoder.Encode(updates);
  EXPECT_EQ(encoder.cached_visitors(), 1u);
  encoder.Forget("x");
  EXPECT_EQ(encoder.cached_visitors(), 0u);
}

TEST(IncrementalEncoderTest, EmbeddingIsUnitLength) {
  auto model = RandomModel();
  EventFactory events(9);
  std::vector<v1::SessionEvent> list;
  for (int i = 0; i < 10; ++i) list.push_back(events.Next(i * 1000));
  const auto e = model->EncodeFull(list);
  double norm = 0;
  for (float x : e) norm += x * x;
  EXPECT_NEAR(norm, 1.0, 1e-5);
}

}  // namespace
}  // namespace intentstream::model
