// The next-item baselines on hand-computed examples, the two evaluation protocols, and
// the metrics table.
#include "model/baselines.h"

#include <gtest/gtest.h>

#include "model/evaluation.h"
#include "test_util.h"

namespace intentstream::model {
namespace {

using Items = std::vector<int32_t>;

std::vector<ItemSession> Sessions(const std::vector<std::pair<Items, int64_t>>& list) {
  std::vector<ItemSession> out;
  for (const auto& [items, end_ms] : list) out.push_back({items, end_ms});
  return out;
}

Items Recommend(const NextItemBaseline& b, const Items& session, size_t k) {
  Items out;
  b.Recommend(session, k, &out);
  return out;
}

TEST(BaselinesTest, PopularityCountsItemsOnly) {
  // 0 (none) and 1 (OOV) are never items.
  const PopularityBaseline popular(Sessions({{{3, 4, 0, 5}, 1}, {{5, 1, 3}, 2}}));
  EXPECT_EQ(Recommend(popular, {4}, 10), (Items{3, 5, 4}));  // ties by id
  EXPECT_EQ(Recommend(popular, {4}, 2), (Items{3, 5}));
}

TEST(BaselinesTest, SequentialRulesWeighSuccessorsByOneOverGap) {
  const auto train = Sessions({{{3, 4, 5}, 1}, {{3, 5}, 2}});
  const PopularityBaseline popular(train);  // 3, 5, 4
  // 3 -> 4: 1; 3 -> 5: 1/2 + 1 = 1.5; 4 -> 5: 1.
  const SequentialRulesBaseline rules(train, popular);
  EXPECT_EQ(Recommend(rules, {4, 3}, 3), (Items{5, 4, 3}));
  // Adjacent transitions only: 3 -> 4 and 3 -> 5 once each (ties by id).
  const TransitionBaseline transitions(train, popular);
  EXPECT_EQ(Recommend(transitions, {4, 3}, 3), (Items{4, 5, 3}));
  // One step back is the transition baseline.
  const SequentialRulesBaseline one_step(train, popular, 1);
  EXPECT_EQ(Recommend(one_step, {3}, 3), Recommend(transitions, {3}, 3));
  // No rule for the last item: the popular items.
  EXPECT_EQ(Recommend(rules, {5}, 3), (Items{3, 5, 4}));
}

TEST(BaselinesTest, SequentialRulesLookTenStepsBack) {
  Items long_session{3};
  for (int i = 0; i < 10; ++i) long_session.push_back(4);
  long_session.push_back(5);  // 11 steps after the 3: out of reach
  const auto train = Sessions({{long_session, 1}, {{6, 4, 4, 4, 4, 4, 4, 4, 4, 4, 7}, 2}});
  const PopularityBaseline popular(train);
  const SequentialRulesBaseline rules(train, popular);
  const Items from3 = Recommend(rules, {3}, 1);
  EXPECT_EQ(from3, (Items{4}));
  const Items from6 = Recommend(rules, {6}, 2);  // 7 is 10 steps after the 6: in reach
  EXPECT_EQ(from6, (Items{4, 7}));
}

TEST(BaselinesTest, SessionKnnScoresItemsBySimilarityOfRecentNeighbours) {
  const auto train = Sessions({{{3, 4}, 100}, {{3, 5}, 200}, {{6, 7}, 300}, {{3, 4, 8}, 50}});
  const PopularityBaseline popular(train);  // 3, 4, 5, 6, 7, 8
  // Neighbours of {3, 4}: s0 (cosine 1), s3 (2/sqrt(6) = 0.816), s1 (0.5); s2 shares
  // nothing. Scores: 3: 2.32, 4: 1.82, 8: 0.82, 5: 0.5.
  const SessionKnnBaseline knn(train, popular);
  EXPECT_EQ(Recommend(knn, {4, 3, 4}, 6), (Items{3, 4, 8, 5, 6, 7}));
  // Only the two most recent sessions sharing an item (s1, s0): 8 is not seen.
  const SessionKnnBaseline recent(train, popular, 100, 2);
  EXPECT_EQ(Recommend(recent, {3, 4}, 3), (Items{3, 4, 5}));
  // One neighbour (the most similar, s0), topped up with the popular items.
  const SessionKnnBaseline nearest(train, popular, 1, 500);
  EXPECT_EQ(Recommend(nearest, {3, 4}, 4), (Items{3, 4, 5, 6}));
  // A session sharing nothing with training: the popular items.
  EXPECT_EQ(Recommend(knn, {9}, 2), (Items{3, 4}));
}

Timeline MakeTimeline(const std::vector<std::pair<int64_t, std::string>>& events) {
  Timeline t;
  t.visitor_id = "v";
  for (const auto& [ms, category] : events) {
    t.events.emplace_back();
    t.events.back().set_time_ms(ms);
    t.events.back().set_category(category);
  }
  return t;
}

TEST(EvaluationTest, ProtocolsAndSessionItems) {
  const Tokenizer tok = testing::SmallTokenizer();
  // Two sessions (a 2-minute gap ends the first); "" has no item and is never a target.
  const std::vector<Timeline> eval{MakeTimeline({{0, "/loans"},
                                                 {1000, "/mortgages"},
                                                 {2000, "/loans"},
                                                 {3000, ""},
                                                 {200000, "home"},
                                                 {201000, "cards"}})};
  const auto last = BuildNextItemCases(eval, tok, 60000, Protocol::kLastItem, 0, 1);
  ASSERT_EQ(last.size(), 1u);  // the first session's last event has no item
  EXPECT_EQ(last[0].target, 5u);
  EXPECT_EQ(last[0].session_begin, 4u);
  EXPECT_EQ(last[0].target_item, tok.CategoryId("cards"));
  const auto next = BuildNextItemCases(eval, tok, 60000, Protocol::kEveryNextItem, 0, 1);
  ASSERT_EQ(next.size(), 3u);
  EXPECT_EQ(next[0].target, 1u);
  EXPECT_EQ(next[1].target, 2u);
  EXPECT_EQ(next[2].target, 5u);
  std::vector<int32_t> items;
  SessionItemsBefore(next[1], tok, &items);
  EXPECT_EQ(items, (Items{tok.CategoryId("/loans"), tok.CategoryId("/mortgages")}));
  // A sample keeps timeline order.
  const auto two = BuildNextItemCases(eval, tok, 60000, Protocol::kEveryNextItem, 2, 1);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_LT(two[0].target, two[1].target);
}

TEST(EvaluationTest, MetricsTableAndComparison) {
  RankMetrics m;
  m.k = 2;
  m.Add({5, 7}, 7);
  m.Add({5, 7}, 9);
  EXPECT_DOUBLE_EQ(m.Recall(), 0.5);
  EXPECT_DOUBLE_EQ(m.Mrr(), 0.25);

  MethodMetrics a{"a", {m, m}};
  RankMetrics better;
  better.k = 2;
  better.Add({7, 5}, 7);
  better.Add({5, 9}, 9);
  MethodMetrics b{"b", {better, m}};
  const std::string table = FormatMetricsTable({a, b});
  EXPECT_NE(table.find("| last: Recall@2"), std::string::npos) << table;
  EXPECT_NE(table.find("|           1.0000 |        0.7500 |           0.5000 |        0.2500 |"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("(2 cases)"), std::string::npos) << table;
  EXPECT_EQ(CompareWithBest(b, {a}),
            "not above the best baseline on next Recall@2 (a), next MRR@2 (a)");
  RankMetrics best;
  best.k = 2;
  best.Add({7}, 7);
  best.Add({9}, 9);
  MethodMetrics c{"c", {best, best}};
  EXPECT_EQ(CompareWithBest(c, {a}),
            "above every baseline on Recall@2 and MRR@2 under both protocols");
}

}  // namespace
}  // namespace intentstream::model
