// The changelog's view of a commit (state.changelog): which partition each state key
// belongs to, the records BatchState lists next to its WriteSet (tombstones included),
// and the commit marker's encoding.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/hash.h"
#include "runtime/changelog_writer.h"
#include "state/batch_state.h"
#include "state/changelog.h"
#include "state/keys.h"
#include "support/temp_dir.h"

namespace intentstream::state {
namespace {

constexpr int32_t kParts = 8;

TEST(ChangelogPartition, FollowsTheTaskThatOwnsEachKey) {
  const int32_t anon = KafkaMurmur2Partition("anon-1", kParts);
  const int32_t cust = KafkaMurmur2Partition("cust-9", kParts);
  ASSERT_NE(anon, cust) << "pick ids on different partitions";
  EXPECT_EQ(ChangelogPartition(Cf::kSessions, AnonymousKey("anon-1"), kParts), anon);
  EXPECT_EQ(ChangelogPartition(Cf::kSessions, CustomerKey("cust-9"), kParts), cust);
  EXPECT_EQ(ChangelogPartition(Cf::kIdentity, AnonymousKey("anon-1"), kParts), anon);
  // Written by the anonymous id's task, next to its a/ link.
  EXPECT_EQ(ChangelogPartition(Cf::kIdentity, CustomerLinkKey("cust-9", "anon-1"), kParts), anon);
  EXPECT_EQ(ChangelogPartition(Cf::kProfiles, "cust-9", kParts), cust);
  EXPECT_EQ(ChangelogPartition(Cf::kOffers, CustomerKey("cust-9"), kParts), cust);
  EXPECT_EQ(ChangelogPartition(Cf::kOffers, ErasedKey("cust-9"), kParts), cust);
  EXPECT_EQ(ChangelogPartition(Cf::kDecisions, DecisionKey("cust-9", "home"), kParts), cust);
  EXPECT_EQ(ChangelogPartition(Cf::kMeta, OffsetKey({"web-events", Partition{3}}), kParts), 3);
  EXPECT_EQ(ChangelogPartition(Cf::kMeta, TaskKey(5, "posteriors"), kParts), 5);
  EXPECT_EQ(ChangelogPartition(Cf::kMeta, MetaKey("watermark/6/2"), kParts), 6);
  // Local bookkeeping and keys without their owner stay out.
  EXPECT_EQ(ChangelogPartition(Cf::kMeta, ChangelogPositionKey(Cf::kSessions, 1), kParts), -1);
  EXPECT_EQ(ChangelogPartition(Cf::kMeta, OffsetKey({"web-events", Partition{9}}), kParts), -1);
  EXPECT_EQ(ChangelogPartition(Cf::kDedup, EventDedupKey("e-1"), kParts), -1);
  EXPECT_EQ(ChangelogPartition(Cf::kSessions, "x/unknown", kParts), -1);
}

TEST(ChangelogTopic, IsNamedAfterTheGroupAndTheStore) {
  EXPECT_EQ(ChangelogTopic("g1", Cf::kSessions), "g1-sessions-changelog");
  EXPECT_EQ(ChangelogStores().back(), Cf::kMeta) << "meta, with the offsets, goes last";
}

class BatchChangelogTest : public ::testing::Test {
 protected:
  BatchChangelogTest() : store_(StoreOptions{.dir = dir_.Sub("db")}), batch_(store_, {}) {
    batch_.EnableChangelog(kParts);
  }
  static const ChangelogRecord* Find(const std::vector<ChangelogRecord>& records, Cf cf,
                                     const std::string& key) {
    const auto it = std::find_if(records.begin(), records.end(),
                                 [&](const auto& r) { return r.cf == cf && r.key == key; });
    return it == records.end() ? nullptr : &*it;
  }
  testing::TempDir dir_;
  StateStore store_;
  BatchState batch_;
};

TEST_F(BatchChangelogTest, EveryWriteIsListedWithItsPartitionAndDedupWithItsInputs) {
  batch_.AdvanceOffset("web-events", Partition{2}, Offset{11});
  EXPECT_FALSE(batch_.SeenEvent("e-1"));
  auto& v = batch_.Load(VisitorKind::kAnonymous, "anon-1");
  v.state.set_events_total(1);
  batch_.MarkDirty(v);
  auto& commit = batch_.TakeWrites(1000);
  const auto* dedup = Find(commit.changelog, Cf::kDedup, EventDedupKey("e-1"));
  ASSERT_NE(dedup, nullptr);
  EXPECT_EQ(dedup->partition, 2) << "dedup follows the input partition that saw the event";
  const auto* session = Find(commit.changelog, Cf::kSessions, AnonymousKey("anon-1"));
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(session->partition, KafkaMurmur2Partition("anon-1", kParts));
  ASSERT_TRUE(session->value.has_value());
  const auto* offset = Find(commit.changelog, Cf::kMeta, OffsetKey({"web-events", Partition{2}}));
  ASSERT_NE(offset, nullptr);
  EXPECT_EQ(offset->value, "11");
  EXPECT_EQ(commit.changelog.size(), commit.writes.Count()) << "one record per write";
}

TEST_F(BatchChangelogTest, AnErasureIsTombstonesIncludingEachCommittedDecision) {
  batch_.AdvanceOffset("app-events", Partition{1}, Offset{1});
  batch_.PutDecision("cust-9", "home", v1::Decision());
  batch_.PutDecision("cust-9", "push", v1::Decision());
  batch_.PutProfile([] {
    v1::CustomerProfile p;
    p.set_customer_id("cust-9");
    return p;
  }());
  store_.Commit(batch_.TakeWrites(1000).writes);

  batch_.AdvanceOffset("customer-profiles", Partition{1}, Offset{2});
  batch_.EraseCustomer("cust-9", 2000);
  auto& commit = batch_.TakeWrites(2000);
  for (const auto& key : {DecisionKey("cust-9", "home"), DecisionKey("cust-9", "push")}) {
    const auto* r = Find(commit.changelog, Cf::kDecisions, key);
    ASSERT_NE(r, nullptr) << key << " has no tombstone";
    EXPECT_FALSE(r->value.has_value());
  }
  const auto* profile = Find(commit.changelog, Cf::kProfiles, "cust-9");
  ASSERT_NE(profile, nullptr);
  EXPECT_FALSE(profile->value.has_value());
  const auto* marker = Find(commit.changelog, Cf::kOffers, ErasedKey("cust-9"));
  ASSERT_NE(marker, nullptr);
  EXPECT_TRUE(marker->value.has_value());
}

TEST(BatchChangelogOff, ListsNothing) {
  testing::TempDir dir;
  StateStore store(StoreOptions{.dir = dir.Sub("db")});
  BatchState batch(store, {});
  batch.AdvanceOffset("web-events", Partition{0}, Offset{1});
  EXPECT_FALSE(batch.SeenEvent("e-1"));
  auto& commit = batch.TakeWrites(1000);
  EXPECT_GT(commit.writes.Count(), 0u);
  EXPECT_TRUE(commit.changelog.empty());
}

TEST(ChangelogMarker, RoundTripsAndRejectsGarbage) {
  const runtime::ChangelogEnds ends = {{Cf::kSessions, 42}, {Cf::kDedup, 7}, {Cf::kMeta, 3}};
  const auto decoded = runtime::DecodeChangelogMarker(runtime::EncodeChangelogMarker(ends));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, ends);
  EXPECT_FALSE(runtime::DecodeChangelogMarker("not json").has_value());
  EXPECT_FALSE(runtime::DecodeChangelogMarker("{\"sessions\":\"x\"}").has_value());
}

}  // namespace
}  // namespace intentstream::state
