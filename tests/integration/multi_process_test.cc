// Scale-out: two processor processes in one consumer group against the mock cluster.
// Partitions are split between them, identity hand-offs cross from the owner of an
// anonymous id's partition to the owner of the customer's, stopping one process (SIGTERM:
// drain, commit, leave) moves its partitions to the other, and the survivor's final state
// equals the single-process reference: nothing lost or doubled.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "runtime/embedded_cluster.h"
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
constexpr int kInputTopics = 5;  // web, app, links, profiles, hand-off

struct Member {
  std::string state_dir;
  int port;
  std::unique_ptr<testing::ChildProcess> process;
  std::string Metrics() const { return testing::HttpGet(port, "/metrics").body; }
  double Assigned() const {
    return testing::SumSamples(Metrics(), "intentstream_assigned_partitions");
  }
};

TEST(MultiProcess, PartitionsSplitHandoffsCrossAndAStoppedMembersWorkMoves) {
  testing::TempDir dir;
  runtime::EmbeddedCluster cluster;
  const runtime::TopicNames topics;
  cluster.CreateTopics(topics.All(), kPartitions);
  const auto world = testing::MakeReferenceWorld(topics, 777, testing::NowMs() - 48 * 3'600'000);
  const std::string binary =
      std::string(INTENTSTREAM_TEST_BINARY_DIR) + "/tools/intentstream/intentstream";

  std::vector<Member> members(2);
  for (size_t i = 0; i < members.size(); ++i) {
    auto& m = members[i];
    m.state_dir = dir.Sub("state-" + std::to_string(i));
    m.port = testing::FreeLoopbackPort();
    m.process = std::make_unique<testing::ChildProcess>(
        binary,
        std::vector<std::string>{
            "run", "--set", "kafka.bootstrap.servers=" + cluster.bootstrap_servers(), "--set",
            "state.dir=" + m.state_dir, "--set", "http.listen=127.0.0.1:" + std::to_string(m.port),
            "--set", "kafka.consumer.session.timeout.ms=6000", "--set",
            "kafka.consumer.heartbeat.interval.ms=500", "--set", "metrics.interval_ms=100",
            // Two processing threads each: four group members over two processes.
            "--set", "processing.threads=2"},
        dir.Sub("member-" + std::to_string(i) + ".log"));
  }

  // Both members get a share of every topic's partitions.
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        const double a = members[0].Assigned(), b = members[1].Assigned();
        return a > 0 && b > 0 && a + b == kPartitions * kInputTopics;
      },
      std::chrono::seconds(60)))
      << "partitions not split; see " << dir.Sub("member-0.log");

  {
    testing::TestProducer producer(cluster.bootstrap_servers());
    for (const auto& s : world.order) producer.Send(s.topic, s.key, s.payload);
  }
  auto input_seen = [&](const Member& m) {
    const std::string text = m.Metrics();
    double n = 0;
    for (const auto* t : {&topics.web, &topics.app, &topics.links}) {
      n += std::max(0.0, testing::SumSamples(text, "intentstream_input_messages_total",
                                             "topic=\"" + *t + "\""));
    }
    return n;
  };
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return input_seen(members[0]) + input_seen(members[1]) ==
               static_cast<double>(world.order.size());
      },
      std::chrono::seconds(60)))
      << "input not fully consumed by the group";

  // Hand-offs crossed processes: each member merged some that the other sent.
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        double sent = 0, merged = 0;
        for (const auto& m : members) {
          const std::string text = m.Metrics();
          sent += testing::SumSamples(text, "intentstream_identity_handoffs_sent_total");
          merged += testing::SumSamples(text, "intentstream_identity_handoffs_merged_total");
        }
        return sent > 0 && sent == merged;
      },
      std::chrono::seconds(30)));
  double crossed = 0;
  for (const auto& m : members) {
    const std::string text = m.Metrics();
    crossed += std::abs(testing::SumSamples(text, "intentstream_identity_handoffs_sent_total") -
                        testing::SumSamples(text, "intentstream_identity_handoffs_merged_total"));
  }
  EXPECT_GT(crossed, 0) << "no hand-off went from one process to the other";

  // The lookup API: the owner of a customer's partition answers, the other names it.
  // Lookups read committed state, which trails the counters above by up to a commit.
  const auto one_owner = [&](const std::string& id) {
    int owners = 0;
    for (const auto& m : members) {
      owners += testing::HttpGet(m.port, "/v1/visitors/" + id + "?type=customer").status == 200;
    }
    return owners == 1;
  };
  EXPECT_TRUE(testing::WaitFor(
      [&] { return one_owner("cust-0") && one_owner("cust-1") && one_owner("cust-2"); },
      std::chrono::seconds(10), std::chrono::milliseconds(50)));
  for (const std::string id : {"cust-0", "cust-1", "cust-2"}) {
    std::vector<testing::HttpResult> answers;
    for (const auto& m : members)
      answers.push_back(testing::HttpGet(m.port, "/v1/visitors/" + id + "?type=customer"));
    const int owners = (answers[0].status == 200) + (answers[1].status == 200);
    EXPECT_EQ(owners, 1) << id << ": " << answers[0].body << " | " << answers[1].body;
    for (const auto& a : answers) {
      if (a.status != 200) {
        EXPECT_EQ(a.status, 404);
        EXPECT_NE(a.body.find("\"owned\":false"), std::string::npos) << a.body;
      }
    }
  }

  // Stop member 0 cleanly; member 1 takes over all partitions and catches up on them.
  members[0].process->Kill(SIGTERM);
  ASSERT_EQ(members[0].process->Wait(std::chrono::seconds(30)), 0)
      << "SIGTERM must drain and exit 0";
  ASSERT_TRUE(testing::WaitFor([&] { return members[1].Assigned() == kPartitions * kInputTopics; },
                               std::chrono::seconds(30)));
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return testing::SumSamples(members[1].Metrics(), "intentstream_consumer_lag_messages") == 0;
      },
      std::chrono::seconds(60)));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // let the last hand-offs settle
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return testing::SumSamples(members[1].Metrics(), "intentstream_consumer_lag_messages") == 0;
      },
      std::chrono::seconds(30)));
  members[1].process->Kill(SIGTERM);
  ASSERT_EQ(members[1].process->Wait(std::chrono::seconds(30)), 0);

  // The survivor holds every visitor, each equal to the reference.
  state::StateStore survivor(state::StoreOptions{.dir = members[1].state_dir, .read_only = true});
  testing::ExpectStateMatches(survivor, world);
  // What the stopped member kept is a correct part of the same reference.
  state::StateStore stopped(state::StoreOptions{.dir = members[0].state_dir, .read_only = true});
  size_t kept = 0;
  stopped.ForEach(state::Cf::kSessions, [&](std::string_view key, std::string_view value) {
    ++kept;
    v1::VisitorState s;
    ASSERT_TRUE(state::DecodeVisitor(value, &s));
    const auto it = world.expected.find(std::string(key));
    ASSERT_NE(it, world.expected.end());
    EXPECT_EQ(s.events_total(), it->second.own_events) << key;
  });
  EXPECT_GT(kept, 0u);
  EXPECT_LT(kept, world.expected.size());
}

}  // namespace
}  // namespace intentstream
