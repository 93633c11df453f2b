// One processing thread: a consumer in the group and everything that works on the
// partitions the group gives it (processor.h describes the loop). Its own batch,
// scheduler, encoder and operator, producers and changelog writer; the state store,
// the metrics and the ThreadBoard are the process's, shared with the other threads.
//
// Thread-safety: constructed on one thread, then Run() on its own; nothing else is
// called while Run() runs.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "common/logging.h"
#include "runtime/options.h"
#include "runtime/processor.h"
#include "runtime/thread_board.h"

namespace intentstream::state {
class StateStore;
}
namespace intentstream::serve {
class ProcessorProbe;
}

namespace intentstream::runtime {

// What a processing thread needs of its process.
struct ThreadContext {
  const ProcessorOptions* options = nullptr;
  std::string bootstrap;
  LogSink* sink = nullptr;
  state::StateStore* store = nullptr;
  serve::ProcessorProbe* probe = nullptr;
  ThreadBoard* board = nullptr;
  std::string version;
};

class StreamThread {
 public:
  // Creates the thread's Kafka clients (throws ConfigError for bad Kafka properties).
  StreamThread(int index, ThreadContext context, ThreadStages stages);
  ~StreamThread();
  StreamThread(const StreamThread&) = delete;
  StreamThread& operator=(const StreamThread&) = delete;

  // Reads the input topics' partition counts (the first thread, before the others
  // exist): throws when the inputs are not co-partitioned. 0 when no input exists yet.
  int32_t CheckCopartitioning();
  // Sets the task count on this thread's parts (before Run()).
  void SetPartitionCount(int32_t partitions);
  // Creates or checks the changelog topics (the first thread, before the others run).
  void CheckChangelogTopics();

  // Processes until the board says stop, then commits, leaves the group and returns.
  // Throws on fatal errors (the caller aborts the other threads).
  RunSummary Run();

  using Clock = std::chrono::steady_clock;
  // From the first message received to the last commit (both unset before any).
  Clock::time_point first_message() const;
  Clock::time_point last_commit() const;
  bool received_any() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace intentstream::runtime
