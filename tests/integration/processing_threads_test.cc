// processing.threads on the mock cluster: two processing threads in one process share
// the partitions and the one state store, each with stages of its own, and end with the
// state the reference computes from the input alone.
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "runtime/embedded_cluster.h"
#include "runtime/processor.h"
#include "support/kafka.h"
#include "support/reference_world.h"
#include "support/temp_dir.h"
#include "support/wait.h"

namespace intentstream {
namespace {

constexpr int kPartitions = 4;

// Records which OS threads call it: an instance must only ever see one.
class ThreadCheckingOperator final : public op::DecisionOperator {
 public:
  void Decide(std::span<op::VisitorUpdate> updates, op::StateWriter&, op::DecisionSink&) override {
    Seen();
    if (!updates.empty()) steps_ += 1;
  }
  void Flush(op::StateWriter&) override { Seen(); }
  void ForgetTasks() override {}

  std::set<std::thread::id> threads() const {
    std::lock_guard lock(mu_);
    return threads_;
  }
  uint64_t steps() const { return steps_; }

 private:
  void Seen() {
    std::lock_guard lock(mu_);
    threads_.insert(std::this_thread::get_id());
  }
  mutable std::mutex mu_;
  std::set<std::thread::id> threads_;
  uint64_t steps_ = 0;
};

TEST(ProcessingThreads, TwoThreadsSplitThePartitionsAndEndWithTheReferenceState) {
  testing::TempDir dir;
  runtime::EmbeddedCluster cluster;
  const runtime::TopicNames topics;
  cluster.CreateTopics(topics.All(), kPartitions);
  const auto world = testing::MakeReferenceWorld(topics, 4242, testing::NowMs() - 48 * 3'600'000);
  {
    testing::TestProducer producer(cluster.bootstrap_servers());
    for (const auto& s : world.order) producer.Send(s.topic, s.key, s.payload);
  }

  runtime::ProcessorOptions options;
  options.store.dir = dir.Sub("state");
  options.http_listen = "";
  options.threads = 2;
  options.exit_when_idle_ms = 1500;
  options.kafka_consumer["session.timeout.ms"] = "6000";
  options.kafka_consumer["heartbeat.interval.ms"] = "500";

  std::mutex mu;
  std::map<int, std::shared_ptr<ThreadCheckingOperator>> operators;
  LogSink sink(LogSink::Format::kText, LogLevel::kWarn);
  runtime::RunSummary summary;
  {
    runtime::Processor processor(options, cluster.bootstrap_servers(), &sink,
                                 std::make_shared<prometheus::Registry>(), [&](int thread) {
                                   auto op = std::make_shared<ThreadCheckingOperator>();
                                   std::lock_guard lock(mu);
                                   operators[thread] = op;
                                   return runtime::ThreadStages{.encoder = nullptr,
                                                                .decision_operator = op.get(),
                                                                .owner = op};
                                 });
    std::atomic<bool> stop{false};
    summary = processor.Run(stop);
  }
  EXPECT_EQ(summary.threads, 2);
  EXPECT_EQ(summary.stop_reason, "idle");
  ASSERT_EQ(operators.size(), 2u) << "one set of stages per processing thread";

  // Each thread's operator ran on that thread alone, and both threads did work. (A task
  // may move between the threads while the group forms, so tasks are not compared.)
  std::set<std::thread::id> all_threads;
  for (const auto& [index, op] : operators) {
    const auto seen = op->threads();
    EXPECT_EQ(seen.size(), 1u) << "operator of thread " << index << " called from " << seen.size()
                               << " threads";
    all_threads.insert(seen.begin(), seen.end());
    EXPECT_GT(op->steps(), 0u) << "thread " << index << " decided nothing";
  }
  EXPECT_EQ(all_threads.size(), 2u);

  state::StateStore store(state::StoreOptions{.dir = options.store.dir, .read_only = true});
  testing::ExpectStateMatches(store, world);
}

}  // namespace
}  // namespace intentstream
