// CPU seconds used so far by the calling thread or the whole process: benches report
// per-thread throughput from these, so a loaded machine's waits do not count.
#pragma once

#include <time.h>

namespace intentstream {

inline double CpuSeconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}
inline double ThreadCpuSeconds() {
  return CpuSeconds(CLOCK_THREAD_CPUTIME_ID);
}
inline double ProcessCpuSeconds() {
  return CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
}

}  // namespace intentstream
