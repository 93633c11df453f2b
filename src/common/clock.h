// The two clocks the processor reads: wall time for event-time checks, write stamps and
// lag, steady time for durations.
#pragma once

#include <chrono>
#include <cstdint>

namespace intentstream {

// Unix milliseconds.
inline int64_t WallMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Monotonic microseconds (arbitrary origin).
inline int64_t SteadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace intentstream
