// Event-time order per task: the merge across partitions, the waits, the hand-off
// watermarks, the sorted hand-off partition and its safe offsets.
#include "runtime/event_time_scheduler.h"

#include <gtest/gtest.h>

namespace intentstream::runtime {
namespace {

using ingest::TopicKind;

class SchedulerTest : public ::testing::Test {
 protected:
  SchedulerTest() : s_(Options()) {
    for (int32_t p : {0, 1}) {
      for (auto [topic, kind] :
           std::vector<std::pair<std::string, TopicKind>>{{"web", TopicKind::kWeb},
                                                          {"links", TopicKind::kLink},
                                                          {"app", TopicKind::kApp},
                                                          {"profiles", TopicKind::kProfile},
                                                          {"handoff", TopicKind::kHandoff}}) {
        s_.Assign({topic, Partition{p}}, kind);
        kinds_[topic] = kind;
      }
    }
    s_.SetTaskCount(2);
  }
  static SchedulerOptions Options() {
    SchedulerOptions o;
    o.max_task_idle_ms = 100;
    o.pause_above = 3;
    o.resume_below = 2;
    return o;
  }

  void Push(const std::string& topic, int32_t partition, int64_t time, int64_t offset = -1) {
    auto r = s_.NewRecord();
    r->message.kind = kinds_[topic];
    r->message.topic = Name(topic);
    r->message.partition = Partition{partition};
    r->message.offset = Offset{offset >= 0 ? offset : next_offset_[{topic, partition}]++};
    r->time_ms = time;
    s_.Push(std::move(r));
  }
  void Watermark(int32_t on_partition, int32_t sender, int64_t w) {
    auto r = s_.NewRecord();
    r->message.kind = TopicKind::kHandoff;
    r->message.topic = Name("handoff");
    r->message.partition = Partition{on_partition};
    r->message.offset = Offset{next_offset_[{"handoff", on_partition}]++};
    r->watermark = true;
    r->decoded.handoff.mutable_watermark()->set_task(sender);
    r->decoded.handoff.mutable_watermark()->set_watermark_ms(w);
    s_.Push(std::move(r));
  }
  // Every partition of both tasks is at its end, and every sender's watermark is far
  // ahead: nothing waits unless a test says so.
  void AllAtEnd() {
    for (int32_t p : {0, 1}) {
      for (const char* t : {"web", "links", "app", "profiles", "handoff"}) {
        s_.AtEnd({t, Partition{p}}, now_);
      }
    }
  }
  void WatermarksAt(int64_t w) {
    for (int32_t q : {0, 1}) {
      for (int32_t sender : {0, 1}) s_.RestoreSenderWatermark(q, sender, w);
    }
  }
  // (topic[partition]@time) of what is released now.
  std::vector<std::string> Release(size_t max = 100) {
    std::vector<EventTimeScheduler::RecordPtr> out;
    s_.Release(now_, max, &out);
    std::vector<std::string> names;
    for (auto& r : out) {
      names.push_back(
          std::string(r->message.topic) + "[" + std::to_string(r->message.partition.value) + "]@" +
          (r->time_ms == InputRecord::kNoTime ? std::string("-") : std::to_string(r->time_ms)));
      s_.Recycle(std::move(r));
    }
    return names;
  }
  std::string_view Name(const std::string& t) { return *names_.insert(t).first; }

  EventTimeScheduler s_;
  int64_t now_ = 1000;
  std::map<std::string, TopicKind> kinds_;
  std::map<std::pair<std::string, int32_t>, int64_t> next_offset_;
  std::set<std::string> names_;
};

TEST_F(SchedulerTest, EachSideAppliesTheOldestHeadFirst) {
  AllAtEnd();
  WatermarksAt(1'000'000);
  Push("web", 0, 30);
  Push("web", 0, 50);
  Push("links", 0, 40);
  Push("app", 0, 35);
  Push("profiles", 0, 35);  // ties: a profile before the app event it informs
  AllAtEnd();               // a delivery clears a partition's end until the next one is seen
  EXPECT_EQ(Release(), (std::vector<std::string>{"web[0]@30", "links[0]@40", "web[0]@50",
                                                 "profiles[0]@35", "app[0]@35"}));
  EXPECT_EQ(s_.counters().late, 0u);
}

TEST_F(SchedulerTest, WaitsForAPartitionThatMayHoldOlderRecordsThenGoesOn) {
  WatermarksAt(1'000'000);
  AllAtEnd();
  Push("web", 0, 30);
  s_.AtEnd({"web", Partition{0}}, now_);
  // links[0] has delivered a record and its end has not been seen since: its next
  // record may be older than 30.
  Push("links", 0, 10);
  EXPECT_EQ(Release(), (std::vector<std::string>{"links[0]@10"})) << "web@30 waits";
  EXPECT_EQ(s_.counters().idle_waits, 1u);
  now_ += 50;
  EXPECT_TRUE(Release().empty()) << "still within processing.max_task_idle_ms";
  Push("links", 0, 45);
  EXPECT_EQ(Release(), (std::vector<std::string>{"web[0]@30", "links[0]@45"}));
  EXPECT_EQ(s_.counters().late, 0u);
  // This time the link never comes: after the idle time the side goes on without it.
  Push("web", 0, 60);
  s_.AtEnd({"web", Partition{0}}, now_);
  EXPECT_TRUE(Release().empty());
  EXPECT_EQ(s_.counters().idle_waits, 2u);
  now_ += 101;
  EXPECT_EQ(Release(), (std::vector<std::string>{"web[0]@60"}));
  EXPECT_EQ(s_.counters().enforced, 1u);
  Push("links", 0, 55);  // arrives after all: applied, counted late
  EXPECT_EQ(Release(), (std::vector<std::string>{"links[0]@55"}));
  EXPECT_EQ(s_.counters().late, 1u);
}

TEST_F(SchedulerTest, AnEndSeenOnlyJustNowWaitsForProcessingEndWait) {
  SchedulerOptions o = Options();
  o.end_wait_ms = 20;
  EventTimeScheduler s(o);
  for (const char* t : {"web", "links"}) s.Assign({t, Partition{0}}, ingest::TopicKind::kWeb);
  auto push = [&](const char* topic, int64_t time) {
    auto r = s.NewRecord();
    r->message.topic = Name(topic);
    r->message.partition = Partition{0};
    r->time_ms = time;
    s.Push(std::move(r));
  };
  push("web", 30);
  s.AtEnd({"web", Partition{0}}, now_);
  s.AtEnd({"links", Partition{0}}, now_);
  std::vector<EventTimeScheduler::RecordPtr> out;
  s.Release(now_ + 10, 10, &out);
  EXPECT_TRUE(out.empty()) << "links[0] reached its end 10 ms ago: a producer may still be "
                              "batching its next record";
  s.Release(now_ + 20, 10, &out);
  EXPECT_EQ(out.size(), 1u);
}

TEST_F(SchedulerTest, CustomerSideWaitsForEveryTasksHandoffWatermark) {
  AllAtEnd();
  Push("app", 0, 100);
  AllAtEnd();
  EXPECT_TRUE(Release().empty()) << "no watermark from any task yet";
  Watermark(0, 0, 150);
  Watermark(0, 1, 90);  // task 1 may still send a hand-off before 100
  AllAtEnd();
  EXPECT_EQ(Release(), (std::vector<std::string>{"handoff[0]@-", "handoff[0]@-"}))
      << "watermark records are released at once (they change no state)";
  EXPECT_TRUE(Release().empty());
  // Task 1's hand-off at 95 arrives before its watermark passes 100.
  Push("handoff", 0, 95);
  Watermark(0, 1, 120);
  AllAtEnd();
  EXPECT_EQ(Release(), (std::vector<std::string>{"handoff[0]@-", "handoff[0]@95", "app[0]@100"}));
  // Watermarks are per receiving partition: task 1's customer side knows none yet.
  Push("app", 1, 100);
  EXPECT_TRUE(Release().empty());
}

TEST_F(SchedulerTest, HandoffPartitionIsReadInEventTimeOrderWithSafeOffsets) {
  AllAtEnd();
  WatermarksAt(1'000'000);
  // Two senders' hand-offs interleave on one partition: offsets 0, 1, 2 at times 50, 20, 30.
  Push("handoff", 0, 50);
  Push("handoff", 0, 20);
  Push("handoff", 0, 30);
  EXPECT_EQ(Release(2), (std::vector<std::string>{"handoff[0]@20", "handoff[0]@30"}));
  // Offsets 1 and 2 are applied, 0 is not: a restart must read from 0 again.
  auto offsets = s_.SortedPartitionOffsets();
  ASSERT_EQ(offsets.size(), 1u);
  EXPECT_EQ(offsets[0].first, (TopicPartition{"handoff", Partition{0}}));
  EXPECT_EQ(offsets[0].second, 0);
  EXPECT_EQ(Release(), (std::vector<std::string>{"handoff[0]@50"}));
  EXPECT_EQ(s_.SortedPartitionOffsets()[0].second, 3);
}

TEST_F(SchedulerTest, AnonymousWatermarkIsWhatTheSideCanStillSend) {
  Push("web", 0, 30);
  Push("links", 0, 40);
  auto w = s_.AnonymousWatermarks();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0], (std::pair<int32_t, int64_t>{0, 30})) << "every partition has a head";
  Release();  // both released (nothing waits once they are buffered... then at end)
  AllAtEnd();
  Release();
  w = s_.AnonymousWatermarks();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].second, 40) << "its stream time, with a partition empty";
}

TEST_F(SchedulerTest, AFullPartitionIsPausedAndResumedWhenItDrains) {
  AllAtEnd();
  WatermarksAt(1'000'000);
  for (int i = 0; i < 5; ++i) Push("web", 1, 10 + i);
  std::vector<TopicPartition> pause, resume;
  s_.TakeFlowChanges(&pause, &resume);
  EXPECT_EQ(pause, (std::vector<TopicPartition>{{"web", Partition{1}}}));
  EXPECT_TRUE(resume.empty());
  AllAtEnd();
  Release();
  s_.TakeFlowChanges(&pause, &resume);
  EXPECT_EQ(resume, (std::vector<TopicPartition>{{"web", Partition{1}}}));
  EXPECT_TRUE(s_.Drained());
}

TEST_F(SchedulerTest, RevokeDropsWhatWasBuffered) {
  Push("web", 0, 30);
  Push("app", 0, 31);
  EXPECT_EQ(s_.buffered(), 2u);
  s_.Revoke({"web", Partition{0}});
  EXPECT_EQ(s_.buffered(), 1u);
  Push("web", 0, 40);  // not assigned any more: dropped
  EXPECT_EQ(s_.buffered(), 1u);
}

TEST(SchedulerOff, ArrivalOrderWhenOrderingIsOff) {
  SchedulerOptions o;
  o.ordered = false;
  EventTimeScheduler s(o);
  s.Assign({"web", Partition{0}}, TopicKind::kWeb);
  s.Assign({"links", Partition{0}}, TopicKind::kLink);
  for (auto [topic, t] : std::vector<std::pair<const char*, int64_t>>{{"web", 50}, {"links", 10}}) {
    auto r = s.NewRecord();
    r->message.topic = topic;
    r->message.partition = Partition{0};
    r->time_ms = t;
    s.Push(std::move(r));
  }
  std::vector<EventTimeScheduler::RecordPtr> out;
  s.Release(0, 10, &out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]->time_ms, 50);
}

}  // namespace
}  // namespace intentstream::runtime
