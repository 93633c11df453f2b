// Changelog topics and restore on assignment (state.changelog), with real processor
// processes on the mock cluster: a member processes part of a world and stops, its state
// directory is deleted (a lost volume), and a member with an empty directory restores the
// partitions from the changelogs, then reads the rest of the input from the offsets the
// restored state carries. Its final state equals the reference computed from the input
// alone; no input partition is read again from its beginning; no hand-off or dead letter
// is produced twice. A restore killed with SIGKILL half-way resumes on restart and ends
// exact.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "runtime/batch_processor.h"
#include "runtime/embedded_cluster.h"
#include "runtime/options.h"
#include "state/changelog.h"
#include "state/store.h"
#include "support/child_process.h"
#include "support/http_client.h"
#include "support/kafka.h"
#include "support/metrics_text.h"
#include "support/reference_world.h"
#include "support/temp_dir.h"
#include "support/wait.h"

namespace intentstream {
namespace {

constexpr int kPartitions = 4;

std::string Binary() {
  return std::string(INTENTSTREAM_TEST_BINARY_DIR) + "/tools/intentstream/intentstream";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A processor that exits once its input is drained.
std::unique_ptr<testing::ChildProcess> StartMember(const runtime::EmbeddedCluster& cluster,
                                                   const std::string& state_dir,
                                                   const std::string& log,
                                                   std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {
      "run", "--set", "kafka.bootstrap.servers=" + cluster.bootstrap_servers(), "--set",
      "state.dir=" + state_dir, "--set", "http.listen=",
      // A member that joins after another left is assigned
      // once the left member's session has timed out.
      "--set", "kafka.consumer.session.timeout.ms=6000", "--set",
      "kafka.consumer.heartbeat.interval.ms=500", "--exit-when-idle-ms", "2000"};
  for (auto& e : extra) args.push_back(std::move(e));
  return std::make_unique<testing::ChildProcess>(Binary(), args, log);
}

void Produce(const runtime::EmbeddedCluster& cluster, const std::vector<testing::Sent>& sent,
             size_t begin, size_t end) {
  testing::TestProducer producer(cluster.bootstrap_servers());
  for (size_t i = begin; i < end; ++i) producer.Send(sent[i].topic, sent[i].key, sent[i].payload);
  producer.Flush();
}

// "topic[p]@offset" of every "partitions assigned" line in a member's log.
std::map<std::string, std::string> AssignedAt(const std::string& log) {
  std::map<std::string, std::string> out;
  const std::regex entry(R"(([A-Za-z0-9._-]+\[[0-9]+\])@([0-9]+|start))");
  for (std::sregex_iterator it(log.begin(), log.end(), entry), end; it != end; ++it) {
    out[(*it)[1]] = (*it)[2];
  }
  return out;
}

// Every hand-off id and dead letter produced, each exactly once.
void ExpectNoOutputTwice(const runtime::EmbeddedCluster& cluster, const runtime::TopicNames& topics,
                         const testing::ReferenceWorld& world) {
  std::map<std::string, int> handoffs;
  for (const auto& m :
       testing::DrainTopic(cluster.bootstrap_servers(), topics.handoff, kPartitions)) {
    if (m.key.rfind(std::string(runtime::kWatermarkKeyPrefix), 0) == 0) continue;
    v1::IdentityHandoff h;
    ASSERT_TRUE(h.ParseFromString(m.value));
    ++handoffs[h.handoff_id()];
  }
  EXPECT_GT(handoffs.size(), 0u);
  for (const auto& [id, n] : handoffs) EXPECT_EQ(n, 1) << "hand-off " << id << " produced twice";
  const auto dead =
      testing::DrainTopic(cluster.bootstrap_servers(), topics.dead_letters, kPartitions);
  EXPECT_EQ(dead.size(), world.malformed.size()) << "a dead letter was produced twice (or lost)";
}

// A processes the first half of `world` and stops; then its volume is lost, and the
// second half is produced for the member that comes next.
void ProcessFirstHalfThenLoseTheVolume(const runtime::EmbeddedCluster& cluster,
                                       testing::TempDir& dir,
                                       const testing::ReferenceWorld& world) {
  const size_t half = world.order.size() / 2;
  Produce(cluster, world.order, 0, half);
  const std::string a_dir = dir.Sub("state-a");
  auto a = StartMember(cluster, a_dir, dir.Sub("a.log"));
  ASSERT_EQ(a->Wait(std::chrono::seconds(120)), 0) << ReadFile(dir.Sub("a.log"));
  std::filesystem::remove_all(a_dir);
  Produce(cluster, world.order, half, world.order.size());
}

TEST(ChangelogRestore, LostVolumeRestoresFromTheChangelogWithoutReplayingInput) {
  testing::TempDir dir;
  runtime::EmbeddedCluster cluster;
  const runtime::TopicNames topics;
  cluster.CreateTopics(topics.All(), kPartitions);
  const auto world = testing::MakeReferenceWorld(topics, 1717, testing::NowMs() - 48 * 3'600'000);
  ASSERT_NO_FATAL_FAILURE(ProcessFirstHalfThenLoseTheVolume(cluster, dir, world));

  // B starts empty, restores, and reads the second half only.
  const std::string b_dir = dir.Sub("state-b");
  auto b = StartMember(cluster, b_dir, dir.Sub("b.log"));
  ASSERT_EQ(b->Wait(std::chrono::seconds(120)), 0) << ReadFile(dir.Sub("b.log"));
  const std::string b_log = ReadFile(dir.Sub("b.log"));
  EXPECT_NE(b_log.find("partition restored from the changelog"), std::string::npos) << b_log;

  // Input resumed where A's committed state stood: never from the beginning.
  const auto assigned = AssignedAt(b_log);
  for (const auto* topic : {&topics.web, &topics.app, &topics.links}) {
    for (int p = 0; p < kPartitions; ++p) {
      const std::string tp = *topic + "[" + std::to_string(p) + "]";
      ASSERT_TRUE(assigned.count(tp)) << tp << " not in B's assignment:\n" << b_log;
      EXPECT_NE(assigned.at(tp), "start") << tp << " was read again from its beginning";
      if (assigned.at(tp) != "start") {
        EXPECT_GT(std::stoll(assigned.at(tp)), 0) << tp;
      }
    }
  }

  state::StateStore restored(state::StoreOptions{.dir = b_dir, .read_only = true});
  testing::ExpectStateMatches(restored, world);
  ExpectNoOutputTwice(cluster, topics, world);
}

TEST(ChangelogRestore, RestoreKilledHalfWayResumesAndEndsExact) {
  testing::TempDir dir;
  runtime::EmbeddedCluster cluster;
  const runtime::TopicNames topics;
  cluster.CreateTopics(topics.All(), kPartitions);
  const auto world = testing::MakeReferenceWorld(topics, 4242, testing::NowMs() - 48 * 3'600'000);
  ASSERT_NO_FATAL_FAILURE(ProcessFirstHalfThenLoseTheVolume(cluster, dir, world));

  // One record per RocksDB write makes the restore long enough to be killed inside it.
  const std::string b_dir = dir.Sub("state-b");
  const std::vector<std::string> slow = {"--set", "state.restore_batch_records=1"};
  auto first = StartMember(cluster, b_dir, dir.Sub("b1.log"), slow);
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return ReadFile(dir.Sub("b1.log")).find("restoring partition from the changelog") !=
               std::string::npos;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(2)))
      << ReadFile(dir.Sub("b1.log"));
  first->Kill(SIGKILL);
  first->Wait(std::chrono::seconds(10));
  {
    // Killed inside the restore: not every partition reached its end.
    state::StateStore killed(state::StoreOptions{.dir = b_dir, .read_only = true});
    int complete = 0;
    std::string v;
    for (int p = 0; p < kPartitions; ++p) {
      complete +=
          killed.Get(state::Cf::kMeta, state::ChangelogPositionKey(state::Cf::kMeta, p), &v);
    }
    EXPECT_LT(complete, kPartitions) << "the restore ended before the kill; nothing was tested";
  }

  auto second = StartMember(cluster, b_dir, dir.Sub("b2.log"), slow);
  ASSERT_EQ(second->Wait(std::chrono::seconds(180)), 0) << ReadFile(dir.Sub("b2.log"));
  const auto assigned = AssignedAt(ReadFile(dir.Sub("b2.log")));
  for (int p = 0; p < kPartitions; ++p) {
    const std::string tp = topics.web + "[" + std::to_string(p) + "]";
    ASSERT_TRUE(assigned.count(tp)) << tp;
    EXPECT_NE(assigned.at(tp), "start") << tp;
  }
  state::StateStore restored(state::StoreOptions{.dir = b_dir, .read_only = true});
  testing::ExpectStateMatches(restored, world);
  ExpectNoOutputTwice(cluster, topics, world);
}

// "records=N" of every "partition restored from the changelog" line in a member's log.
uint64_t RestoredRecords(const std::string& log) {
  uint64_t total = 0;
  const std::regex entry(R"(partition restored from the changelog.* records=([0-9]+))");
  for (std::sregex_iterator it(log.begin(), log.end(), entry), end; it != end; ++it) {
    total += std::stoull((*it)[1]);
  }
  return total;
}

TEST(ChangelogRestore, StandbyTakesOverAfterSigkillRestoringOnlyTheTail) {
  testing::TempDir dir;
  runtime::EmbeddedCluster cluster;
  const runtime::TopicNames topics;
  cluster.CreateTopics(topics.All(), kPartitions);
  const auto world = testing::MakeReferenceWorld(topics, 2323, testing::NowMs() - 48 * 3'600'000);
  const int a_port = testing::FreeLoopbackPort(), b_port = testing::FreeLoopbackPort();
  auto member = [&](const std::string& name, int port) {
    return StartMember(
        cluster, dir.Sub("state-" + name), dir.Sub(name + ".log"),
        {"--set", "state.standby_replicas=1", "--set", "state.standby_interval_ms=100", "--set",
         "processing.threads=1", "--set", "processing.exit_when_idle_ms=0", "--set",
         "http.listen=127.0.0.1:" + std::to_string(port), "--set", "metrics.interval_ms=100"});
  };
  auto metric = [](int port, const std::string& name) {
    return testing::SumSamples(testing::HttpGet(port, "/metrics").body, name);
  };
  // Nothing buffered for event-time ordering, nothing behind, and no commit for a
  // second: everything read is applied and committed (hand-offs a member sends itself
  // arrive as input, so lag alone can read 0 before they do).
  auto settled = [&](int port) {
    double commits = -1;
    return testing::WaitFor(
        [&] {
          const double now = metric(port, "intentstream_state_commits_total");
          const bool still = now == commits &&
                             metric(port, "intentstream_task_buffered_records") == 0 &&
                             metric(port, "intentstream_consumer_lag_messages") == 0;
          commits = now;
          return still;
        },
        std::chrono::seconds(90), std::chrono::milliseconds(1000));
  };
  auto a = member("a", a_port);
  auto b = member("b", b_port);
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        const double x = metric(a_port, "intentstream_assigned_partitions");
        const double y = metric(b_port, "intentstream_assigned_partitions");
        return x > 0 && y > 0 && metric(b_port, "intentstream_standby_tasks") > 0;
      },
      std::chrono::seconds(60)))
      << ReadFile(dir.Sub("b.log"));
  Produce(cluster, world.order, 0, world.order.size());

  // B follows A's partitions: once A has consumed its share and B's standby caught up,
  // B's copy of A's tasks is current.
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return metric(a_port, "intentstream_consumer_lag_messages") == 0 &&
               metric(b_port, "intentstream_consumer_lag_messages") == 0 &&
               metric(a_port, "intentstream_input_messages_total") > 0;
      },
      std::chrono::seconds(90)));
  // A has applied and committed everything it read, so the kill loses no applied work.
  ASSERT_TRUE(settled(a_port));
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return metric(b_port, "intentstream_standby_applied_records_total") > 0 &&
               metric(b_port, "intentstream_standby_lag_records") == 0;
      },
      std::chrono::seconds(30)));
  const double followed = metric(b_port, "intentstream_standby_applied_records_total");
  const uint64_t restored_before = RestoredRecords(ReadFile(dir.Sub("b.log")));

  a->Kill(SIGKILL);
  a->Wait(std::chrono::seconds(10));
  // B takes every partition over (after A's session times out) and becomes ready.
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return metric(b_port, "intentstream_assigned_partitions") ==
                   kPartitions * 5.0 /* web, app, links, profiles, hand-offs */
               && testing::HttpGet(b_port, "/readyz").status == 200;
      },
      std::chrono::seconds(60)))
      << ReadFile(dir.Sub("b.log"));
  const uint64_t tail = RestoredRecords(ReadFile(dir.Sub("b.log"))) - restored_before;
  ::testing::Test::RecordProperty("standby_followed_records", std::to_string(followed));
  ::testing::Test::RecordProperty("takeover_restored_records", std::to_string(tail));
  EXPECT_LT(static_cast<double>(tail), 0.1 * followed)
      << "the takeover restored " << tail << " records; the standby had followed " << followed;
  // A's input partitions resumed from the offsets the standby copy carries.
  const auto assigned = AssignedAt(ReadFile(dir.Sub("b.log")));
  for (const auto* topic : {&topics.web, &topics.links}) {
    for (int p = 0; p < kPartitions; ++p) {
      const std::string tp = *topic + "[" + std::to_string(p) + "]";
      ASSERT_TRUE(assigned.count(tp)) << tp;
      EXPECT_NE(assigned.at(tp), "start") << tp << " was read again from its beginning";
    }
  }
  // B has caught up, the hand-offs it sent itself included.
  ASSERT_TRUE(settled(b_port));
  b->Kill(SIGTERM);
  ASSERT_EQ(b->Wait(std::chrono::seconds(30)), 0) << ReadFile(dir.Sub("b.log"));

  state::StateStore survivor(state::StoreOptions{.dir = dir.Sub("state-b"), .read_only = true});
  testing::ExpectStateMatches(survivor, world);
}

}  // namespace
}  // namespace intentstream
