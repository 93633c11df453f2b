// The processor's metrics: the only code that touches prometheus-cpp. Domain code calls
// `Accepted(kind)`, `DeadLetter(reason)`..., never the metrics library. Every label set
// is created up front (topics and reasons are known at start), so the per-event path is
// an array index and an atomic add: no registry lookups.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/ids.h"
#include "ingest/decoder.h"

namespace intentstream::serve {

inline constexpr size_t kTopicKinds = 5;  // ingest::TopicKind values

// Stages of the per-batch work, for intentstream_stage_seconds{stage}.
enum class Stage { kDecode = 0, kState, kModel, kOperator, kProduce, kCommit, kCount };
inline constexpr size_t kDeadLetterReasons = 12;

struct InputTopicNames {
  std::array<std::string, kTopicKinds> by_kind;  // indexed by ingest::TopicKind
};

// One task's event-time figures (seconds).
struct TaskGauges {
  double anonymous_stream_time_s = 0, customer_stream_time_s = 0, head_skew_s = 0, buffered = 0;
};

struct StateFigures {
  double live_bytes = 0, sst_bytes = 0, memtable_bytes = 0, sessions = 0,
         pending_compaction_bytes = 0, write_stopped = 0;
};

class ProcessorProbe {
  using PerKind = std::array<prometheus::Counter*, kTopicKinds>;
  static prometheus::Counter* Index(const PerKind& arr, ingest::TopicKind kind) {
    return arr[static_cast<size_t>(kind)];
  }

 public:
  // `output_topics` label intentstream_output_messages_total (dead letters, hand-offs,
  // decisions, triggers).
  ProcessorProbe(prometheus::Registry& registry, const InputTopicNames& topics,
                 const std::vector<std::string>& output_topics, const std::string& version);

  void Accepted(ingest::TopicKind kind) { Index(accepted_, kind)->Increment(); }
  void Duplicate(ingest::TopicKind kind) { Index(duplicate_, kind)->Increment(); }
  void DeadLettered(ingest::TopicKind kind, v1::DeadLetterReason reason) {
    Index(dead_lettered_, kind)->Increment();
    dead_letter_reasons_[static_cast<size_t>(reason) % kDeadLetterReasons]->Increment();
  }
  void HandoffSent() { handoffs_sent_->Increment(); }
  void HandoffMerged(int events) {
    handoffs_merged_->Increment();
    handoff_events_merged_->Increment(events);
  }
  // Outputs by topic; `topic_index` is the position in the names given at construction.
  void OutputProduced(size_t topic_index, size_t n) {
    outputs_[topic_index]->Increment(static_cast<double>(n));
  }
  void StageSeconds(Stage stage, double seconds) {
    stages_[static_cast<size_t>(stage)]->Observe(seconds);
  }
  void VisitorCache(bool hit) { (hit ? cache_hits_ : cache_misses_)->Increment(); }
  // Kafka message timestamp to state commit, per event.
  void EventLag(double seconds) { event_lag_->Observe(seconds); }
  void Ready(bool ready) { ready_->Set(ready ? 1 : 0); }
  // The session encoder's cache lookups since the caller's last report (each processing
  // thread reports its own).
  void AddModelCache(uint64_t hits, uint64_t misses);
  // intentstream_model_info{model_version} = 1.
  void ModelVersion(const std::string& version);
  void BatchCommitted(size_t messages, double seconds) {
    commits_->Increment();
    batch_size_->Observe(static_cast<double>(messages));
    commit_seconds_->Observe(seconds);
  }
  // Arrival in the processor to state commit, per event.
  void EventLatency(double seconds) { latency_->Observe(seconds); }
  // Arrival of an event to the delivery of a decision (or trigger) it made: the broker
  // acknowledged it.
  void DecisionDelivered(bool trigger, double seconds) {
    (trigger ? trigger_latency_ : decision_latency_)->Observe(seconds);
  }
  // The buckets of intentstream_decision_latency_seconds: x1.25 from 100 us to past 10 s
  // (a backlog's tail), fine enough to read p50, p99 and p99.9 from.
  static prometheus::Histogram::BucketBoundaries DecisionLatencyBuckets();

  // Partition bookkeeping (called on rebalance, not per event).
  void PartitionAssigned(const TopicPartition& tp);
  void PartitionRevoked(const TopicPartition& tp);
  void ConsumerLag(const TopicPartition& tp, int64_t lag);
  void State(const StateFigures& figures);

  // Event-time ordering (runtime/event_time_scheduler.h). Task label sets are created
  // once the partition count is known, before the first assignment.
  void SetTaskCount(int32_t tasks);
  void Task(int32_t task, const TaskGauges& figures);
  // Changelog restore progress of a task (state.changelog); totals written so far.
  void Restore(int32_t task, uint64_t restored, uint64_t remaining);
  void AddChangelogRecords(uint64_t records);
  // Standby replicas (state.standby_replicas): the tasks followed, and per task how many
  // changelog records it was behind at its last catch-up (then applied).
  void StandbyTasks(size_t tasks);
  void Standby(int32_t task, uint64_t behind);
  void StandbyDropped(int32_t task);
  // Scheduler waits since the caller's last report.
  void AddScheduler(uint64_t idle_waits, uint64_t enforced);
  void LateEvent(double lateness_seconds) { late_->Observe(lateness_seconds); }
  // Output delivery (runtime/output_producer.h) since the caller's last report.
  void AddDelivery(uint64_t retried, uint64_t undeliverable, uint64_t dead_letters_failed);

 private:
  prometheus::Family<prometheus::Counter>* input_family_;
  PerKind accepted_{};
  PerKind duplicate_{};
  PerKind dead_lettered_{};
  std::array<prometheus::Counter*, kDeadLetterReasons> dead_letter_reasons_{};
  prometheus::Counter* handoffs_sent_;
  prometheus::Counter* handoffs_merged_;
  prometheus::Counter* handoff_events_merged_;
  std::vector<prometheus::Counter*> outputs_;
  std::array<prometheus::Histogram*, static_cast<size_t>(Stage::kCount)> stages_{};
  prometheus::Counter* cache_hits_;
  prometheus::Counter* cache_misses_;
  prometheus::Histogram* event_lag_;
  prometheus::Gauge* ready_;
  prometheus::Family<prometheus::Counter>* model_cache_;
  prometheus::Counter* model_hits_;
  prometheus::Counter* model_misses_;
  prometheus::Family<prometheus::Gauge>* model_info_;
  prometheus::Counter* commits_;
  prometheus::Histogram* batch_size_;
  prometheus::Histogram* commit_seconds_;
  prometheus::Histogram* latency_;
  prometheus::Histogram* decision_latency_;
  prometheus::Histogram* trigger_latency_;
  prometheus::Family<prometheus::Gauge>* lag_family_;
  prometheus::Gauge* assigned_;
  std::mutex lag_mu_;
  std::map<TopicPartition, prometheus::Gauge*> lag_;
  prometheus::Gauge *live_bytes_, *sst_bytes_, *memtable_bytes_, *sessions_,
      *pending_compaction_bytes_, *write_stopped_;
  prometheus::Family<prometheus::Gauge>* task_stream_time_;
  prometheus::Family<prometheus::Gauge>* task_skew_;
  prometheus::Family<prometheus::Gauge>* task_buffered_;
  struct TaskSeries {
    prometheus::Gauge *anonymous, *customer, *skew, *buffered;
  };
  std::vector<TaskSeries> tasks_;  // written on the processing thread only
  prometheus::Family<prometheus::Gauge>* restore_restored_;
  prometheus::Family<prometheus::Gauge>* restore_remaining_;
  std::vector<std::pair<prometheus::Gauge*, prometheus::Gauge*>> restores_;  // by task
  prometheus::Counter* changelog_records_;
  prometheus::Gauge* standby_tasks_;
  prometheus::Counter* standby_applied_;
  prometheus::Family<prometheus::Gauge>* standby_lag_family_;
  std::vector<prometheus::Gauge*> standby_lag_;  // by task
  prometheus::Counter* idle_waits_;
  prometheus::Counter* enforced_;
  prometheus::Histogram* late_;
  prometheus::Counter *retried_, *undeliverable_, *dead_letters_failed_;
};

}  // namespace intentstream::serve
