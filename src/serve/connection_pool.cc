#include "serve/connection_pool.h"

namespace intentstream::serve {

ConnectionPool::ConnectionPool(size_t threads) {
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
  // Until a thread waits it can't take a connection: wait, so that the first clients
  // after Start() are not refused.
  std::unique_lock lock(mu_);
  idle_changed_.wait(lock, [&] { return idle_ == threads_.size(); });
}

ConnectionPool::~ConnectionPool() {
  shutdown();
}

void ConnectionPool::enqueue(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    if (!shutdown_ && jobs_.size() < idle_) {
      jobs_.push_back(std::move(fn));
      work_.notify_one();
      return;
    }
  }
  fn();  // no idle thread: the caller refuses the connection
}

void ConnectionPool::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (shutdown_) return;
    shutdown_ = true;
  }
  work_.notify_all();
  for (auto& t : threads_) t.join();
}

void ConnectionPool::Work() {
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    idle_changed_.notify_all();
    work_.wait(lock, [&] { return shutdown_ || !jobs_.empty(); });
    --idle_;
    if (jobs_.empty()) return;  // shut down, nothing left to do
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}

}  // namespace intentstream::serve
