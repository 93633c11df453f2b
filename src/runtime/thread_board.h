// What the processing threads of one process post for each other, for the HTTP handlers
// and for the readiness gauge: which input partitions each thread owns, which tasks are
// restoring from the changelog, and the shared exit conditions (a stop, a failed
// thread, every thread drained and idle).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace intentstream::runtime {

class ThreadBoard {
 public:
  // `on_ready` is called (under the board's lock) when the process's readiness changes:
  // some thread owns partitions and none is restoring.
  ThreadBoard(int threads, std::function<void(bool)> on_ready);

  // The number of processing threads, before they start.
  void SetThreads(int threads);

  // Ownership of input partitions (the lookups answer only for owned ones).
  void Own(int thread, const std::string& topic, int32_t partition);
  void Release(int thread, const std::string& topic, int32_t partition);
  void ReleaseAll(int thread);
  bool Owned(const std::string& topic, int32_t partition) const;
  // The tasks (partition numbers) some thread owns.
  std::vector<int32_t> OwnedTasks() const;

  // Held while a task's state is restored from its changelog: by a processing thread
  // taking the task over, and by the standby following it, so the two never write the
  // same task at once.
  std::mutex& restore_mutex() { return restore_mu_; }
  // Whether `thread` owns any partition (after its assignment has finished).
  void SetAssigned(int thread, bool assigned);

  // Changelog restore progress per task, for /readyz.
  void Restoring(int32_t task, uint64_t restored, uint64_t remaining);
  void Restored(int32_t task);
  std::map<int32_t, std::pair<uint64_t, uint64_t>> restoring() const;

  // The threads leave their loops when the process is asked to stop (the caller of
  // Processor::Run forwards its flag), when one of them failed, or once every thread
  // voted idle (drained and nothing arrived for processing.exit_when_idle_ms): then they
  // all leave together, so none takes over the partitions of another that left first.
  bool Stopping() const { return stop_ || all_idle_; }
  void RequestStop() { stop_ = true; }
  // Set by a request to stop (not by idleness): output delivery gives up waiting on it.
  const std::atomic<bool>& stop_flag() const { return stop_; }
  // Returns true when this vote made (or found) every thread idle.
  bool VoteIdle(int thread, bool idle);
  bool all_idle() const { return all_idle_; }

 private:
  void UpdateReady();  // under mu_

  std::function<void(bool)> on_ready_;
  mutable std::mutex mu_;
  std::mutex restore_mu_;
  std::map<std::pair<std::string, int32_t>, int> owner_;        // partition -> owning thread
  std::vector<char> owns_;                                      // per thread: has partitions
  std::vector<char> idle_;                                      // per thread: voted idle
  std::map<int32_t, std::pair<uint64_t, uint64_t>> restoring_;  // task -> (done, remaining)
  bool ready_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<bool> all_idle_{false};
};

}  // namespace intentstream::runtime
