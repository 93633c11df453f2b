#include "runtime/thread_board.h"

#include <algorithm>

namespace intentstream::runtime {

ThreadBoard::ThreadBoard(int threads, std::function<void(bool)> on_ready)
    : on_ready_(std::move(on_ready)),
      owns_(static_cast<size_t>(std::max(1, threads)), 0),
      idle_(owns_.size(), 0) {}

void ThreadBoard::SetThreads(int threads) {
  std::lock_guard lock(mu_);
  owns_.assign(static_cast<size_t>(std::max(1, threads)), 0);
  idle_.assign(owns_.size(), 0);
}

void ThreadBoard::Own(int thread, const std::string& topic, int32_t partition) {
  std::lock_guard lock(mu_);
  owner_[{topic, partition}] = thread;
}

void ThreadBoard::Release(int thread, const std::string& topic, int32_t partition) {
  std::lock_guard lock(mu_);
  // Another thread may have been assigned it already (a cooperative hand-over).
  const auto it = owner_.find({topic, partition});
  if (it != owner_.end() && it->second == thread) owner_.erase(it);
}

void ThreadBoard::ReleaseAll(int thread) {
  std::lock_guard lock(mu_);
  std::erase_if(owner_, [thread](const auto& entry) { return entry.second == thread; });
  owns_.at(static_cast<size_t>(thread)) = 0;
  UpdateReady();
}

bool ThreadBoard::Owned(const std::string& topic, int32_t partition) const {
  std::lock_guard lock(mu_);
  return owner_.count({topic, partition}) > 0;
}

std::vector<int32_t> ThreadBoard::OwnedTasks() const {
  std::lock_guard lock(mu_);
  std::vector<int32_t> tasks;
  for (const auto& [tp, thread] : owner_) tasks.push_back(tp.second);
  std::sort(tasks.begin(), tasks.end());
  tasks.erase(std::unique(tasks.begin(), tasks.end()), tasks.end());
  return tasks;
}

void ThreadBoard::SetAssigned(int thread, bool assigned) {
  std::lock_guard lock(mu_);
  owns_.at(static_cast<size_t>(thread)) = assigned ? 1 : 0;
  UpdateReady();
}

void ThreadBoard::Restoring(int32_t task, uint64_t restored, uint64_t remaining) {
  std::lock_guard lock(mu_);
  restoring_[task] = {restored, remaining};
  UpdateReady();
}

void ThreadBoard::Restored(int32_t task) {
  std::lock_guard lock(mu_);
  restoring_.erase(task);
  UpdateReady();
}

std::map<int32_t, std::pair<uint64_t, uint64_t>> ThreadBoard::restoring() const {
  std::lock_guard lock(mu_);
  return restoring_;
}

bool ThreadBoard::VoteIdle(int thread, bool idle) {
  std::lock_guard lock(mu_);
  idle_.at(static_cast<size_t>(thread)) = idle ? 1 : 0;
  if (std::all_of(idle_.begin(), idle_.end(), [](char v) { return v != 0; })) all_idle_ = true;
  return all_idle_;
}

void ThreadBoard::UpdateReady() {
  const bool ready =
      restoring_.empty() && std::any_of(owns_.begin(), owns_.end(), [](char v) { return v != 0; });
  if (ready == ready_) return;
  ready_ = ready;
  if (on_ready_) on_ready_(ready);
}

}  // namespace intentstream::runtime
