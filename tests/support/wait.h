// Polling helpers for integration tests.
#pragma once

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

}  // namespace intentstream::testing
