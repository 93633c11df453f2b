// Polling helpers for integration tests.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "common/clock.h"

namespace intentstream::testing {

inline int64_t NowMs() {
  return WallMillis();
}

// Polls `done` every `every` until it holds or `limit` passes; returns its last value.
template <typename Fn>
bool WaitFor(Fn done, std::chrono::milliseconds limit,
             std::chrono::milliseconds every = std::chrono::milliseconds(200)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(every);
  }
  return done();
}

// Stops and joins a thread running Processor::Run when the test leaves, however it
// leaves: a failed ASSERT would otherwise destroy a joinable thread (std::terminate),
// which hides the failure's message and the processor's log.
class JoinOnExit {
 public:
  JoinOnExit(std::atomic<bool>& stop, std::thread& thread) : stop_(stop), thread_(thread) {}
  ~JoinOnExit() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  JoinOnExit(const JoinOnExit&) = delete;
  JoinOnExit& operator=(const JoinOnExit&) = delete;

 private:
  std::atomic<bool>& stop_;
  std::thread& thread_;
};

}  // namespace intentstream::testing
