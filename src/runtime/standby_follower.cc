#include "runtime/standby_follower.h"

#include <algorithm>
#include <chrono>

#include "runtime/changelog_restore.h"
#include "serve/processor_probe.h"

namespace intentstream::runtime {

std::vector<int32_t> StandbyTasks(const std::vector<int32_t>& owned, int32_t partitions,
                                  int replicas) {
  std::vector<int32_t> out;
  if (owned.empty() || partitions <= 0) return out;
  const auto m = static_cast<int32_t>(owned.size());
  for (int k = 1; k <= replicas; ++k) {
    for (const int32_t t : owned) {
      const int32_t s = (t + k * m) % partitions;
      if (!std::binary_search(owned.begin(), owned.end(), s) &&
          std::find(out.begin(), out.end(), s) == out.end()) {
        out.push_back(s);
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

StandbyFollower::StandbyFollower(const ProcessorOptions& options, const std::string& bootstrap,
                                 state::StateStore& store, serve::ProcessorProbe& probe,
                                 ThreadBoard& board, int32_t partitions, LogSink* sink)
    : options_(options),
      probe_(probe),
      board_(board),
      partitions_(partitions),
      log_(sink, "standby"),
      restorer_(std::make_unique<ChangelogRestorer>(options, bootstrap, store, log_, nullptr)),
      thread_([this] { Loop(); }) {}

StandbyFollower::~StandbyFollower() {
  Stop();
}

void StandbyFollower::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StandbyFollower::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    try {
      CatchUp();
    } catch (const std::exception& e) {
      log_.Warn("standby catch-up failed; trying again", {{"error", e.what()}});
    }
    lock.lock();
    wake_.wait_for(lock, std::chrono::milliseconds(options_.standby_interval_ms),
                   [this] { return stop_; });
  }
}

void StandbyFollower::CatchUp() {
  const auto tasks = StandbyTasks(board_.OwnedTasks(), partitions_, options_.standby_replicas);
  const std::set<int32_t> now(tasks.begin(), tasks.end());
  for (const int32_t t : following_) {
    if (!now.count(t)) probe_.StandbyDropped(t);
  }
  if (now != following_) {
    std::string list;
    for (const int32_t t : now) list += std::to_string(t) + " ";
    log_.Info("standby tasks", {{"tasks", list}});
  }
  following_ = now;
  probe_.StandbyTasks(following_.size());
  for (const int32_t t : following_) {
    {
      std::lock_guard check(mu_);
      if (stop_) return;
    }
    std::lock_guard restore_lock(board_.restore_mutex());
    // Taken over since the set was computed: the owning thread restores it itself.
    const auto owned = board_.OwnedTasks();
    if (std::binary_search(owned.begin(), owned.end(), t)) continue;
    const auto result = restorer_->Restore(
        t, [](uint64_t, uint64_t) {}, ChangelogRestorer::Mode::kFollow);
    probe_.Standby(t, result.records);
  }
}

}  // namespace intentstream::runtime
