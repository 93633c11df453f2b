// What the benches share: the CPU time of the processor's processing threads, found by
// the thread name they inherit from the thread that starts them.
#pragma once

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace intentstream::bench {

inline void SetThreadName(const char* name) {
  pthread_setname_np(pthread_self(), name);
}

// The CPU time of the processing threads: the processor starts them from the main
// thread, so they carry its name (kProcessingName; the producer, the sampler, librdkafka
// and RocksDB name their own threads). They end with the run, so /proc is sampled every
// 100 ms and each thread's last reading kept: at most its last 100 ms are missed, and
// those are the idle tail before the run exits (exit_when_idle_ms).
constexpr const char* kProcessingName = "bench-proc";

class ProcessingCpu {
 public:
  ProcessingCpu() : main_tid_(static_cast<long>(syscall(SYS_gettid))) {
    sampler_ = std::thread([this] {
      SetThreadName("bench-sampler");
      while (!stop_.load()) {
        Sample();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      Sample();
    });
  }
  ~ProcessingCpu() { Stop(); }
  // Stops sampling; the processing threads' CPU seconds, summed, and how many there were.
  std::pair<double, int> Stop() {
    if (sampler_.joinable()) {
      stop_ = true;
      sampler_.join();
    }
    double sum = 0;
    for (const auto& [tid, seconds] : latest_) sum += seconds;
    return {sum, static_cast<int>(latest_.size())};
  }

 private:
  static std::string ReadFirstLine(const std::filesystem::path& p) {
    std::FILE* file = std::fopen(p.c_str(), "r");
    if (file == nullptr) return "";
    char buf[512] = {};
    const bool ok = std::fgets(buf, sizeof buf, file) != nullptr;
    std::fclose(file);
    std::string line = ok ? buf : "";
    while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
    return line;
  }
  // A thread's CPU seconds: schedstat's run time (ns), else stat's utime + stime (ticks).
  static double CpuOf(const std::filesystem::path& task) {
    const std::string sched = ReadFirstLine(task / "schedstat");
    if (!sched.empty()) return std::strtod(sched.c_str(), nullptr) / 1e9;
    const std::string stat = ReadFirstLine(task / "stat");
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) return 0;
    std::vector<std::string> fields;
    size_t pos = close + 2;
    while (pos < stat.size()) {
      const size_t next = stat.find(' ', pos);
      fields.push_back(stat.substr(pos, next - pos));
      if (next == std::string::npos) break;
      pos = next + 1;
    }
    if (fields.size() < 13) return 0;  // utime, stime: fields 14 and 15 of stat
    return (std::strtod(fields[11].c_str(), nullptr) + std::strtod(fields[12].c_str(), nullptr)) /
           static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  void Sample() {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec)) {
      const long tid = std::strtol(entry.path().filename().c_str(), nullptr, 10);
      if (tid == main_tid_ || ReadFirstLine(entry.path() / "comm") != kProcessingName) continue;
      const double cpu = CpuOf(entry.path());
      if (cpu > 0) latest_[tid] = cpu;
    }
  }

  const long main_tid_;
  std::atomic<bool> stop_{false};
  std::map<long, double> latest_;
  std::thread sampler_;
};

// Call on the thread that will construct and run the processor, before it does.
inline void NameThisThreadForProcessingCpu() {
  SetThreadName(kProcessingName);
}

}  // namespace intentstream::bench
