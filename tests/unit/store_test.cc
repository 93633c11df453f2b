#include "state/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "state/keys.h"
#include "support/temp_dir.h"

namespace intentstream::state {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  StoreTest() { Reopen(); }
  void Reopen(bool read_only = false) {
    store_.reset();
    store_ =
        std::make_unique<StateStore>(StoreOptions{.dir = dir_.Sub("db"), .read_only = read_only});
  }
  void Put(Cf cf, const std::string& k, const std::string& v) {
    auto w = store_->NewWriteSet();
    w.Put(cf, k, v);
    store_->Commit(w);
  }
  testing::TempDir dir_;
  std::unique_ptr<StateStore> store_;
};

TEST_F(StoreTest, StateAndOffsetsSurviveReopenTogether) {
  auto w = store_->NewWriteSet();
  w.Put(Cf::kSessions, "a/x", "state-x");
  w.PutOffset({"web-events", Partition{3}}, Offset{42});
  EXPECT_EQ(w.Count(), 2u);
  store_->Commit(w);
  Reopen();
  std::string v;
  ASSERT_TRUE(store_->Get(Cf::kSessions, "a/x", &v));
  EXPECT_EQ(v, "state-x");
  EXPECT_EQ(store_->GetOffset({"web-events", Partition{3}}), Offset{42});
  const auto all = store_->AllOffsets();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all.begin()->first.ToString(), "web-events[3]");
}

TEST_F(StoreTest, ColumnFamiliesAreSeparate) {
  Put(Cf::kSessions, "k", "session");
  Put(Cf::kDedup, "k", "");
  std::string v;
  EXPECT_FALSE(store_->Get(Cf::kProfiles, "k", &v));
  ASSERT_TRUE(store_->Get(Cf::kSessions, "k", &v));
  EXPECT_EQ(v, "session");
  std::vector<std::string> values;
  std::vector<bool> found;
  store_->MultiGet(Cf::kDedup, {"k", "missing"}, &values, &found);
  EXPECT_EQ(found, (std::vector<bool>{true, false}));
}

TEST_F(StoreTest, UncommittedWritesAreInvisible) {
  auto w = store_->NewWriteSet();
  w.Put(Cf::kSessions, "a/y", "v");
  std::string v;
  EXPECT_FALSE(store_->Get(Cf::kSessions, "a/y", &v));
}

TEST_F(StoreTest, ReadOnlyOpenSeesCommittedData) {
  Put(Cf::kMeta, "offset/t/0000000000", "7");
  store_->Flush();
  Reopen(/*read_only=*/true);
  EXPECT_EQ(store_->GetOffset({"t", Partition{0}}), Offset{7});
}

TEST(StoreOpen, UnwritableDirectoryIsNamed) {
  try {
    StateStore s(StoreOptions{.dir = "/proc/intentstream-cannot-exist"});
    FAIL() << "opened";
  } catch (const StateError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("/proc/intentstream-cannot-exist"));
  }
}

TEST(Keys, LayoutIsStable) {
  EXPECT_EQ(OffsetKey({"web-events", Partition{12}}), "offset/web-events/0000000012");
  EXPECT_EQ(DecisionKey("c", "home_tile"), "c/c/home_tile");
  EXPECT_EQ(TaskKey(3, "posteriors"), "task/00003/posteriors");
  EXPECT_EQ(AnonymousKey("x"), "a/x");
  EXPECT_EQ(CustomerKey("x"), "c/x");
  EXPECT_NE(EventDedupKey("x"), HandoffDedupKey("x"));
}

}  // namespace
}  // namespace intentstream::state
