// Event-time order per task (ARCHITECTURE §3, "Event time").
//
// A task is the set of co-partitioned input partitions with one partition number. Its
// input is two independent streams:
//   - the anonymous side: web-events and identity-links (anonymous visitors' state;
//     it produces identity hand-offs);
//   - the customer side: app-events, customer-profiles and identity-handoff (customers'
//     state and every decision).
// Each side buffers the head records of its partitions and always releases the one with
// the lowest event time (ties: profiles, hand-offs, app events; web events before
// links), so the state a decision sees does not depend on how fetches were chunked.
//
// A side waits while one of its partitions has no buffered record but is not known to
// be at its end (its next record could be older than the heads it has): up to
// `max_task_idle_ms`, then it goes on without it ("enforced", as Kafka Streams does)
// until the partition has records or reaches its end again. A partition at its end does
// not hold the side back.
//
// Hand-offs cross tasks through Kafka, so the customer side also waits for them: every
// task's anonymous side publishes a watermark (a promise that its later hand-offs have
// event time >= the watermark) on every hand-off partition, and a customer-side record
// at time t is released only once every task's watermark is above t — or, again, after
// `max_task_idle_ms`. The anonymous side never waits for the customer side, so there is
// no cycle. Records older than their side's stream time (late input) are released in
// partition order and counted by lateness.
//
// Records that change no state (dead letters, watermarks) carry no event time and are
// released as soon as they reach the head of their partition.
//
// Not thread-safe: one instance per processing thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <vector>

#include "common/ids.h"
#include "runtime/input_record.h"

namespace intentstream::runtime {

struct SchedulerOptions {
  // Off: records are released in arrival order (the benchmark's comparison only).
  bool ordered = true;
  // Longest wait for a partition that may have older records, or for other tasks'
  // hand-off watermarks, before going on without them, ms.
  int64_t max_task_idle_ms = 500;
  // How long a partition that reached its end still counts as possibly holding older
  // records (producers that batch per partition deliver partitions out of event-time
  // order). 0: a partition at its end holds nothing back (lowest latency; such records
  // are late).
  int64_t end_wait_ms = 0;
  // A partition with more buffered records than this is paused until it drains below
  // `resume_below` (bounds memory when one partition runs far ahead in event time).
  size_t pause_above = 4000;
  size_t resume_below = 1000;
};

// What a task looks like now (for metrics).
struct TaskFigures {
  int32_t task = -1;
  int64_t anonymous_stream_time_ms = InputRecord::kNoTime;
  int64_t customer_stream_time_ms = InputRecord::kNoTime;
  int64_t head_skew_ms = 0;  // newest minus oldest head among the task's partitions
  int64_t watermark_ms = InputRecord::kNoTime;  // this task's anonymous-side watermark
  size_t buffered = 0;
};

struct SchedulerCounters {
  uint64_t idle_waits = 0;  // times a side started waiting
  uint64_t enforced = 0;    // waits that ran out: released without the missing input
  uint64_t late = 0;        // records older than their side's stream time
};

class EventTimeScheduler {
 public:
  using RecordPtr = std::unique_ptr<InputRecord>;

  explicit EventTimeScheduler(SchedulerOptions options);

  // Partition count of the co-partitioned inputs: tasks 0..n-1 all send watermarks.
  void SetTaskCount(int32_t n) { task_count_ = n; }
  int32_t task_count() const { return task_count_; }
  void Assign(const TopicPartition& tp, ingest::TopicKind kind);
  // Forgets the partition and drops its buffered records (they are read again by
  // whoever owns it next, from the committed offset).
  void Revoke(const TopicPartition& tp);

  // A record of an assigned partition, in offset order. A watermark record updates the
  // sending task's watermark at once.
  void Push(RecordPtr record);
  // The partition reached its end (no record is buffered beyond what was pushed).
  void AtEnd(const TopicPartition& tp, int64_t now_ms);

  // Appends up to `max` records that may be applied now, in release order. `now_ms` is
  // a steady clock for the idle waits.
  void Release(int64_t now_ms, size_t max, std::vector<RecordPtr>* out);

  // What a receiving task (its hand-off partition) knows of a sender task's watermark,
  // and restoring it after a restart. Each hand-off partition carries its own: a
  // watermark read on partition q covers only the hand-offs sent to q.
  int64_t SenderWatermark(int32_t receiver, int32_t sender) const;
  void RestoreSenderWatermark(int32_t receiver, int32_t sender, int64_t watermark_ms);
  // receiver -> sender -> watermark.
  const std::map<int32_t, std::map<int32_t, int64_t>>& sender_watermarks() const {
    return watermarks_;
  }
  // The watermark this process should publish for each assigned task (anonymous side).
  std::vector<std::pair<int32_t, int64_t>> AnonymousWatermarks() const;

  size_t buffered() const { return buffered_; }
  // True when nothing is buffered and every assigned partition is at its end.
  bool Drained() const;
  // Offsets to commit for partitions read out of offset order (the hand-off partitions),
  // after the records released so far are applied: (partition, next offset).
  std::vector<std::pair<TopicPartition, int64_t>> SortedPartitionOffsets() const;
  // Partitions to pause / resume since the last call.
  void TakeFlowChanges(std::vector<TopicPartition>* pause, std::vector<TopicPartition>* resume);
  std::vector<TaskFigures> Figures() const;
  const SchedulerCounters& counters() const { return counters_; }
  // Called with the lateness of each late record, ms.
  void OnLate(std::function<void(int32_t task, int64_t lateness_ms)> fn) {
    on_late_ = std::move(fn);
  }

  // Pooled records (their protobuf messages keep their memory between uses).
  RecordPtr NewRecord();
  void Recycle(RecordPtr record);

 private:
  // A partition's buffered records. Input partitions are read in offset order (a
  // producer writes each in event-time order); the hand-off partition interleaves the
  // time-ordered streams of every sending task, so it is kept sorted by event time and
  // its records may be applied out of offset order (SafeNextOffset says what to commit).
  class Queue {
   public:
    TopicPartition tp;
    ingest::TopicKind kind;
    int rank = 0;  // tie-break among equal event times
    bool sorted = false;
    bool at_end = false;
    int64_t at_end_since_ms = 0;  // steady clock of the last end reached
    bool paused = false;
    int64_t released_max_offset = -1;

    bool empty() const { return sorted ? by_time_.empty() : fifo_.empty(); }
    size_t size() const { return sorted ? by_time_.size() : fifo_.size(); }
    InputRecord& head() const { return sorted ? *by_time_.begin()->second : *fifo_.front(); }
    void Push(RecordPtr r);
    RecordPtr Pop();
    std::vector<RecordPtr> TakeAll();
    // The next offset to commit once every released record is applied: the lowest
    // offset still buffered, or one past the last released.
    int64_t SafeNextOffset() const;

   private:
    std::deque<RecordPtr> fifo_;
    std::multimap<std::pair<int64_t, int64_t>, RecordPtr> by_time_;  // (time, offset)
    std::multiset<int64_t> offsets_;                                 // of by_time_'s records
  };
  struct Side {
    std::vector<Queue*> queues;
    int64_t stream_time = InputRecord::kNoTime;
    int64_t wait_since = -1;
    bool enforced = false;
    bool customer = false;
  };
  struct Task {
    Side anonymous, customer;
  };

  void ReleaseSide(int32_t task, Side& side, int64_t now_ms, size_t max,
                   std::vector<RecordPtr>* out);
  int64_t MinSenderWatermark(int32_t receiver) const;
  void Popped(Queue& q);

  SchedulerOptions options_;
  int32_t task_count_ = 0;
  std::unordered_map<TopicPartition, std::unique_ptr<Queue>> queues_;
  std::map<int32_t, Task> tasks_;
  std::map<int32_t, std::map<int32_t, int64_t>> watermarks_;  // receiver -> sender -> ms
  std::deque<std::pair<Queue*, RecordPtr>> unordered_;        // when !options_.ordered
  size_t buffered_ = 0;
  std::vector<TopicPartition> to_pause_, to_resume_;
  SchedulerCounters counters_;
  std::function<void(int32_t, int64_t)> on_late_;
  std::vector<RecordPtr> pool_;
};

}  // namespace intentstream::runtime
