// The processing loop. Each processing thread (processing.threads) is a consumer in the
// group with its own partitions and runs, for them:
//
//   poll -> decode -> EventTimeScheduler (event-time order per task) -> BatchProcessor
//   (dedup, state, hand-offs, encoder, operator) -> produce outputs and hand-off
//   watermarks -> wait for delivery -> commit state + offsets in one WriteBatch -> store
//   the offsets in the consumer (auto-committed to Kafka for lag tooling).
//
// On assignment the consumer seeks each partition to the offset stored in RocksDB; on
// revocation the pending batch is finished, outputs flushed and offsets committed before
// the partitions are released. The threads share the one state store (their keys are
// disjoint: a task belongs to one thread at a time), the metrics and the HTTP endpoint;
// rebalances hand partitions between them as between processes. Thread-safety: Run() on
// one thread (it starts the processing threads); ready(), http_port() and store() may be
// read from any thread (the HTTP handlers do).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/logging.h"
#include "operator/stage.h"
#include "runtime/batch_processor.h"
#include "runtime/event_time_scheduler.h"
#include "runtime/options.h"
#include "runtime/output_producer.h"

namespace prometheus {
class Registry;
}

namespace intentstream::runtime {

struct RunSummary {
  BatchCounts counts;
  uint64_t commits = 0;  // atomic state + offset commits
  uint64_t outputs = 0;
  uint64_t restored_records = 0;   // applied from the changelogs on assignment
  double restore_seconds = 0;      // spent restoring them
  uint64_t changelog_records = 0;  // state writes delivered to the changelogs
  double seconds = 0;
  // From the first message received to the last commit: the time spent processing,
  // without start-up, group joins and the idle tail.
  double active_seconds = 0;
  // Why Run() returned: "stopped", "idle".
  std::string stop_reason;
  int threads = 1;  // processing threads the run used
  DeliveryStats delivery;
  SchedulerCounters scheduler;
};

// One processing thread's stages: its own encoder and operator (neither is thread-safe).
// Either may be null; `owner` keeps alive whatever they point at.
struct ThreadStages {
  op::SessionEncoder* encoder = nullptr;
  op::DecisionOperator* decision_operator = nullptr;
  std::shared_ptr<void> owner;
};
// Called once per processing thread (0, 1, ...) on the thread that calls Run(), before
// the threads start.
using StageFactory = std::function<ThreadStages(int thread)>;

class Processor {
 public:
  // Opens the state and the Kafka clients and starts the HTTP endpoint; `stages` builds
  // each processing thread's encoder and operator. Throws ConfigError for bad
  // configuration and std::runtime_error when a resource can't be opened.
  Processor(ProcessorOptions options, std::string bootstrap_servers, LogSink* log_sink,
            std::shared_ptr<prometheus::Registry> registry, StageFactory stages);
  // One set of stages: `encoder` and `decision_operator` may be null and must outlive
  // the processor. Given either, the processor runs one processing thread.
  Processor(ProcessorOptions options, std::string bootstrap_servers, LogSink* log_sink,
            std::shared_ptr<prometheus::Registry> registry, op::SessionEncoder* encoder,
            op::DecisionOperator* decision_operator);
  ~Processor();
  Processor(const Processor&) = delete;
  Processor& operator=(const Processor&) = delete;

  // Subscribes and processes until `stop` becomes true or, with exit_when_idle_ms, the
  // input is drained. Then finishes the batch, commits, leaves the group and returns.
  // Throws on fatal Kafka errors, output delivery failure or state errors: the state
  // then stands at the last commit and a restart resumes from there.
  RunSummary Run(const std::atomic<bool>& stop);

  // True while partitions are assigned and their state is open.
  bool ready() const { return ready_.load(); }
  int http_port() const;
  state::StateStore& store();

  static std::string Version();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> ready_{false};
};

}  // namespace intentstream::runtime
