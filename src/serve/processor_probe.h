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

#include "common/ids.h"
#include "ingest/decoder.h"

namespace intentstream::serve {

inline constexpr size_t kTopicKinds = 5;  // ingest::TopicKind values
inline constexpr size_t kDeadLetterReasons = 10;

struct InputTopicNames {
  std::array<std::string, kTopicKinds> by_kind;  // indexed by ingest::TopicKind
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
  ProcessorProbe(prometheus::Registry& registry, const InputTopicNames& topics,
                 const std::string& version);

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
  void OutputProduced(size_t n) { outputs_->Increment(static_cast<double>(n)); }
  void BatchCommitted(size_t messages, double seconds) {
    commits_->Increment();
    batch_size_->Observe(static_cast<double>(messages));
    commit_seconds_->Observe(seconds);
  }
  // Arrival in the processor to state commit, per event.
  void EventLatency(double seconds) { latency_->Observe(seconds); }

  // Partition bookkeeping (called on rebalance, not per event).
  void PartitionAssigned(const TopicPartition& tp);
  void PartitionRevoked(const TopicPartition& tp);
  void ConsumerLag(const TopicPartition& tp, int64_t lag);
  void State(const StateFigures& figures);

 private:
  prometheus::Family<prometheus::Counter>* input_family_;
  PerKind accepted_{};
  PerKind duplicate_{};
  PerKind dead_lettered_{};
  std::array<prometheus::Counter*, kDeadLetterReasons> dead_letter_reasons_{};
  prometheus::Counter* handoffs_sent_;
  prometheus::Counter* handoffs_merged_;
  prometheus::Counter* handoff_events_merged_;
  prometheus::Counter* outputs_;
  prometheus::Counter* commits_;
  prometheus::Histogram* batch_size_;
  prometheus::Histogram* commit_seconds_;
  prometheus::Histogram* latency_;
  prometheus::Family<prometheus::Gauge>* lag_family_;
  prometheus::Gauge* assigned_;
  std::mutex lag_mu_;
  std::map<TopicPartition, prometheus::Gauge*> lag_;
  prometheus::Gauge *live_bytes_, *sst_bytes_, *memtable_bytes_, *sessions_,
      *pending_compaction_bytes_, *write_stopped_;
};

}  // namespace intentstream::serve
