// Crash safety: the processor runs as a separate process against the mock cluster while
// input is still being produced, is killed with SIGKILL mid-stream, and is restarted.
// Afterwards every visitor's state must equal a reference computed from the input alone:
// nothing lost, nothing counted twice. Dead letters are at-least-once: each malformed
// message appears, repeats allowed.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "common/hash.h"
#include "runtime/embedded_cluster.h"
#include "runtime/options.h"
#include "state/keys.h"
#include "state/store.h"
#include "support/child_process.h"
#include "support/events.h"
#include "support/http_client.h"
#include "support/kafka.h"
#include "support/reference_world.h"
#include "support/temp_dir.h"
#include "support/wait.h"

namespace intentstream {
namespace {

constexpr int kPartitions = 4;

double MetricValue(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return -1;
}

TEST(CrashSafety, SigkillMidStreamThenRestartLosesAndDoublesNothing) {
  testing::TempDir dir;
  runtime::EmbeddedCluster cluster;
  const runtime::TopicNames topics;
  cluster.CreateTopics(topics.All(), kPartitions);

  const int64_t t0 = testing::NowMs() - 48 * 3'600'000;
  const testing::ReferenceWorld world = testing::MakeReferenceWorld(topics, 20261122, t0);
  const auto& order = world.order;
  const auto& malformed = world.malformed;
  ASSERT_GT(order.size(), 1500u);

  // --- Produce at a steady pace in the background, so the kill lands mid-stream.
  std::atomic<size_t> produced{0};
  std::thread producer_thread([&] {
    testing::TestProducer producer(cluster.bootstrap_servers());
    for (size_t i = 0; i < order.size(); ++i) {
      producer.Send(order[i].topic, order[i].key, order[i].payload);
      if (i % 50 == 49) {
        producer.Flush();
        produced = i + 1;
        std::this_thread::sleep_for(std::chrono::milliseconds(120));
      }
    }
    producer.Flush();
    produced = order.size();
  });

  const std::string binary =
      std::string(INTENTSTREAM_TEST_BINARY_DIR) + "/tools/intentstream/intentstream";
  const std::string state_dir = dir.Sub("state");
  auto args = [&](int port, int idle_ms) {
    return std::vector<std::string>{"run",
                                    "--set",
                                    "kafka.bootstrap.servers=" + cluster.bootstrap_servers(),
                                    "--set",
                                    "state.dir=" + state_dir,
                                    "--set",
                                    "http.listen=127.0.0.1:" + std::to_string(port),
                                    "--set",
                                    "kafka.consumer.session.timeout.ms=6000",
                                    "--set",
                                    "kafka.consumer.heartbeat.interval.ms=500",
                                    "--set",
                                    "processing.batch_max_messages=100",
                                    "--set",
                                    "metrics.interval_ms=100",
                                    "--set",
                                    "processing.threads=2",
                                    "--set",
                                    "processing.exit_when_idle_ms=" + std::to_string(idle_ms)};
  };

  // --- Run 1: killed with SIGKILL once it has committed a few batches.
  {
    const int port = testing::FreeLoopbackPort();
    testing::ChildProcess child(binary, args(port, 0), dir.Sub("run1.log"));
    double commits = 0;
    for (int i = 0; i < 600 && commits < 5; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      commits =
          MetricValue(testing::HttpGet(port, "/metrics").body, "intentstream_state_commits_total");
    }
    ASSERT_GE(commits, 5) << "first run never committed; see " << dir.Sub("run1.log");
    child.Kill(SIGKILL);
    ASSERT_EQ(child.Wait(std::chrono::seconds(10)), 128 + SIGKILL);
  }
  {
    state::StateStore store(state::StoreOptions{.dir = state_dir, .read_only = true});
    int64_t consumed = 0;
    for (const auto& [tp, off] : store.AllOffsets()) {
      if (tp.topic != topics.handoff) consumed += off.value;
    }
    EXPECT_GT(consumed, 0);
    EXPECT_LT(consumed, static_cast<int64_t>(order.size())) << "the kill was not mid-stream";
  }
  producer_thread.join();

  // --- Run 2: resumes from the state's offsets and drains everything.
  {
    const int port = testing::FreeLoopbackPort();
    testing::ChildProcess child(binary, args(port, 2500), dir.Sub("run2.log"));
    ASSERT_EQ(child.Wait(std::chrono::seconds(120)), 0) << "see " << dir.Sub("run2.log");
  }

  // --- Compare with the reference.
  state::StateStore store(state::StoreOptions{.dir = state_dir, .read_only = true});
  testing::ExpectStateMatches(store, world);

  // Every input message consumed; every malformed one dead-lettered.
  std::map<std::pair<std::string, int32_t>, int64_t> ends;
  std::set<std::tuple<std::string, int32_t, int64_t>> malformed_at;
  for (const auto* t : {&topics.web, &topics.app, &topics.links, &topics.handoff}) {
    for (const auto& m : testing::DrainTopic(cluster.bootstrap_servers(), *t, kPartitions)) {
      ends[{m.topic, m.partition}] = std::max(ends[{m.topic, m.partition}], m.offset + 1);
      if (malformed.count(m.value)) malformed_at.insert({m.topic, m.partition, m.offset});
    }
  }
  for (const auto& [tp, end] : ends) {
    EXPECT_EQ(store.GetOffset({tp.first, Partition{tp.second}}), Offset{end}) << tp.first;
  }
  EXPECT_EQ(malformed_at.size(), malformed.size());
  std::set<std::tuple<std::string, int32_t, int64_t>> dead_at;
  for (const auto& m :
       testing::DrainTopic(cluster.bootstrap_servers(), topics.dead_letters, kPartitions)) {
    v1::DeadLetter dl;
    ASSERT_TRUE(dl.ParseFromString(m.value));
    dead_at.insert({dl.source_topic(), dl.source_partition(), dl.source_offset()});
  }
  EXPECT_EQ(dead_at, malformed_at);
}

}  // namespace
}  // namespace intentstream
