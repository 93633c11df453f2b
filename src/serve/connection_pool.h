// cpp-httplib's task queue for accepted connections: a fixed set of threads, one
// connection each. A connection that finds no idle thread is not queued: it runs at
// once on the accepting thread, where the listener recognises it and refuses it (503),
// so a burst of clients can never build an unbounded backlog.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace intentstream::serve {

class ConnectionPool final : public httplib::TaskQueue {
 public:
  // Starts `threads` threads and returns once all of them wait for work.
  explicit ConnectionPool(size_t threads);
  ~ConnectionPool() override;
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Hands `fn` to an idle thread, or runs it on the calling thread when none is idle.
  void enqueue(std::function<void()> fn) override;
  // Lets the threads finish what they were given and joins them.
  void shutdown() override;

 private:
  void Work();

  std::mutex mu_;
  std::condition_variable work_;
  std::condition_variable idle_changed_;
  std::deque<std::function<void()>> jobs_;  // never more than idle_ entries
  size_t idle_ = 0;
  bool shutdown_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace intentstream::serve
