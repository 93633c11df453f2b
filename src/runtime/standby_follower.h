// Standby replicas (state.standby_replicas = N): a process keeps warm copies of the
// state of partitions it does not own by following their changelog topics into its own
// RocksDB, so that when it takes one over (its owner died or left) the restore on
// assignment reads only the tail written since the last catch-up.
//
// Which tasks: with the range assignor each member owns a contiguous run of m tasks; a
// process follows the m tasks after its own run for each of the next N members
// ((t + k*m) mod partitions, k = 1..N, skipping its own), that is, deterministically, the
// partitions of the next N members in assignment order when the shares are equal. The
// set is recomputed every catch-up, so it follows rebalances.
//
// Each catch-up is ChangelogRestorer::Restore in kFollow mode (only complete commits are
// applied; the input offsets they carry come along, so the state stays consistent),
// under the ThreadBoard's restore mutex: a processing thread taking a task over waits for
// a catch-up in progress and the follower skips tasks some thread owns.
//
// Thread-safety: its own thread, started by the constructor and stopped by the
// destructor (or Stop()).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/logging.h"
#include "runtime/options.h"
#include "runtime/thread_board.h"

namespace intentstream::state {
class StateStore;
}
namespace intentstream::serve {
class ProcessorProbe;
}

namespace intentstream::runtime {

class ChangelogRestorer;

// The tasks a member owning `owned` (sorted, contiguous under range assignment) follows
// as a standby of the next `replicas` members.
std::vector<int32_t> StandbyTasks(const std::vector<int32_t>& owned, int32_t partitions,
                                  int replicas);

class StandbyFollower {
 public:
  StandbyFollower(const ProcessorOptions& options, const std::string& bootstrap,
                  state::StateStore& store, serve::ProcessorProbe& probe, ThreadBoard& board,
                  int32_t partitions, LogSink* sink);
  ~StandbyFollower();
  StandbyFollower(const StandbyFollower&) = delete;
  StandbyFollower& operator=(const StandbyFollower&) = delete;

  // Stops following and joins the thread. Rethrows nothing: a failed catch-up is logged
  // and tried again at the next interval.
  void Stop();

 private:
  void Loop();
  void CatchUp();

  const ProcessorOptions& options_;
  serve::ProcessorProbe& probe_;
  ThreadBoard& board_;
  const int32_t partitions_;
  Logger log_;
  std::unique_ptr<ChangelogRestorer> restorer_;
  std::set<int32_t> following_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace intentstream::runtime
