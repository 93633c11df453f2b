#include <gtest/gtest.h>

#include "state/expiry_filter.h"
#include "state/visitor_table.h"

namespace intentstream {
namespace {

TEST(ExpiryFilter, DedupEntriesExpireAfterTtl) {
  int64_t now = 1'000'000;
  state::ExpiryFilter f(state::ExpiryFilter::Kind::kDedup, 500, [&] { return now; });
  const std::string written = state::ExpiryFilter::EncodeWriteTime(999'600);
  EXPECT_EQ(state::ExpiryFilter::DecodeWriteTime(written), 999'600);
  std::string unused;
  bool changed = false;
  EXPECT_FALSE(f.Filter(0, "e/x", written, &unused, &changed));
  now = 1'000'200;  // 600 ms after the write
  EXPECT_TRUE(f.Filter(0, "e/x", written, &unused, &changed));
  EXPECT_FALSE(f.Filter(0, "e/x", "", &unused, &changed)) << "undated entries are kept";
}

TEST(ExpiryFilter, SessionsExpireByLastWriteNotEventTime) {
  int64_t now = 10'000'000;
  state::ExpiryFilter f(state::ExpiryFilter::Kind::kSessions, 1000, [&] { return now; });
  v1::VisitorState s;
  s.set_last_event_ms(1);  // an old event replayed recently
  s.set_updated_at_ms(now - 10);
  std::string unused;
  bool changed = false;
  EXPECT_FALSE(f.Filter(0, "a/x", s.SerializeAsString(), &unused, &changed));
  s.set_updated_at_ms(now - 2000);
  EXPECT_TRUE(f.Filter(0, "a/x", s.SerializeAsString(), &unused, &changed));
  state::ExpiryFilter off(state::ExpiryFilter::Kind::kSessions, 0, [&] { return now; });
  EXPECT_FALSE(off.Filter(0, "a/x", s.SerializeAsString(), &unused, &changed)) << "TTL 0 = never";
}

TEST(VisitorTable, DirtyEntriesArePinnedCleanOnesEvictedLru) {
  state::VisitorTable t(2);
  for (const char* k : {"a", "b", "c"}) {
    auto& e = t.Insert(k);
    e.state.set_events_total(1);
    t.MarkDirty(e);
  }
  EXPECT_EQ(t.dirty_count(), 3u);
  ASSERT_NE(t.Find("a"), nullptr) << "dirty entries stay until committed";
  t.Committed();  // capacity 2: the least recently used ("b") goes
  EXPECT_EQ(t.dirty_count(), 0u);
  EXPECT_EQ(t.Find("b"), nullptr);
  ASSERT_NE(t.Find("a"), nullptr);
  EXPECT_EQ(t.Find("a")->state.events_total(), 1u);
  EXPECT_NE(t.Find("c"), nullptr);
  t.Clear();
  EXPECT_EQ(t.Find("a"), nullptr);
}

}  // namespace
}  // namespace intentstream
