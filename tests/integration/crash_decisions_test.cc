// Crash safety of the decision stage: the processor (the real binary, decision stage on)
// runs on a generated world produced while it runs, is killed with SIGKILL mid-stream and
// restarted. Its decisions, offer state and posteriors must then equal those of a
// reference processor that read the same input without a crash: nothing doubled (a
// decision re-emitted after the restart is the same decision, by id and content),
// nothing lost.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "runtime/embedded_cluster.h"
#include "runtime/options.h"
#include "sim/generator.h"
#include "sim/kafka_output.h"
#include "state/store.h"
#include "support/child_process.h"
#include "support/http_client.h"
#include "support/kafka.h"
#include "support/metrics_text.h"
#include "support/temp_dir.h"
#include "support/wait.h"

namespace intentstream {
namespace {

constexpr int kPartitions = 4;

std::map<std::string, std::string> Entries(const std::string& dir, state::Cf cf,
                                           const std::string& prefix = "") {
  state::StateStore store(state::StoreOptions{.dir = dir, .read_only = true});
  std::map<std::string, std::string> out;
  store.ForEach(cf, [&](std::string_view k, std::string_view v) {
    if (k.substr(0, prefix.size()) == prefix) out[std::string(k)] = std::string(v);
  });
  return out;
}

// Decisions on a topic by id, wall-clock fields cleared; fails on an id seen twice with
// different contents.
std::map<std::string, std::string> DecisionsById(const std::string& bootstrap,
                                                 const std::string& topic) {
  std::map<std::string, std::string> out;
  for (const auto& m : testing::DrainTopic(bootstrap, topic, kPartitions)) {
    v1::Decision d;
    EXPECT_TRUE(d.ParseFromString(m.value));
    d.clear_decided_time();
    d.clear_processing_latency_us();
    const std::string bytes = d.SerializeAsString();
    const auto [it, inserted] = out.emplace(d.decision_id(), bytes);
    EXPECT_TRUE(inserted || it->second == bytes)
        << "decision " << d.decision_id() << " emitted twice with different contents";
  }
  return out;
}

TEST(CrashSafety, DecisionsOfferStateAndPosteriorsSurviveSigkillExactly) {
  testing::TempDir dir;
  runtime::EmbeddedCluster cluster;
  runtime::TopicNames topics;
  cluster.CreateTopics(topics.All(), kPartitions);
  for (const char* t :
       {"reference-identity-handoff", "decisions-ref", "triggers-ref", "dead-letters-ref"}) {
    cluster.CreateTopic(t, kPartitions);
  }

  // The world, produced at a steady pace in the background so the kill lands mid-stream.
  sim::WorldOptions world;
  world.seed = 5;
  world.customers = 60;
  world.days = 10;
  std::atomic<uint64_t> produced{0};
  std::thread producer([&] {
    sim::KafkaOutputOptions o;
    o.bootstrap = cluster.bootstrap_servers();
    o.rate_per_s = 1500;
    std::string error;
    auto out = sim::KafkaOutput::Create(o, &error);
    ASSERT_TRUE(out) << error;
    sim::Generator generator(world);
    sim::Record r;
    while (generator.Next(&r)) {
      ASSERT_TRUE(out->Produce(r, &error)) << error;
      ++produced;
    }
    ASSERT_EQ(out->Flush(60000), 0);
  });

  const std::string binary =
      std::string(INTENTSTREAM_TEST_BINARY_DIR) + "/tools/intentstream/intentstream";
  auto args = [&](const std::string& state, int port, int idle_ms, std::vector<std::string> extra) {
    std::vector<std::string> a = {"run",
                                  "--set",
                                  "kafka.bootstrap.servers=" + cluster.bootstrap_servers(),
                                  "--set",
                                  "state.dir=" + state,
                                  "--set",
                                  "http.listen=127.0.0.1:" + std::to_string(port),
                                  "--set",
                                  "kafka.consumer.session.timeout.ms=6000",
                                  "--set",
                                  "kafka.consumer.heartbeat.interval.ms=500",
                                  "--set",
                                  "processing.batch_max_messages=200",
                                  "--set",
                                  "processing.max_task_idle_ms=5000",
                                  "--set",
                                  "metrics.interval_ms=100",
                                  "--set",
                                  "processing.threads=2",
                                  "--set",
                                  "processing.exit_when_idle_ms=" + std::to_string(idle_ms)};
    for (auto& e : extra) {
      a.push_back("--set");
      a.push_back(std::move(e));
    }
    return a;
  };

  const std::string state = dir.Sub("state");
  {  // Run 1: killed with SIGKILL once decisions have committed.
    const int port = testing::FreeLoopbackPort();
    testing::ChildProcess child(binary, args(state, port, 0, {}), dir.Sub("run1.log"));
    double decisions = 0, commits = 0;
    for (int i = 0; i < 1200 && (decisions < 20 || commits < 5); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      const auto m = testing::HttpGet(port, "/metrics").body;
      decisions = testing::SumSamples(m, "intentstream_decisions_total");
      commits = testing::SumSamples(m, "intentstream_state_commits_total");
    }
    ASSERT_GE(decisions, 20) << "see " << dir.Sub("run1.log");
    child.Kill(SIGKILL);
    ASSERT_EQ(child.Wait(std::chrono::seconds(10)), 128 + SIGKILL);
  }
  EXPECT_LT(produced.load(), 20000u);
  producer.join();
  {  // Run 2: resumes from the state's offsets and drains everything.
    const int port = testing::FreeLoopbackPort();
    testing::ChildProcess child(binary, args(state, port, 6000, {}), dir.Sub("run2.log"));
    ASSERT_EQ(child.Wait(std::chrono::seconds(180)), 0) << "see " << dir.Sub("run2.log");
  }
  const std::string ref = dir.Sub("reference");
  {  // The reference: another group reads the same input once, without a crash (and
     // without changelog topics: the crashed run, with them, must end the same).
    const int port = testing::FreeLoopbackPort();
    testing::ChildProcess child(
        binary,
        args(ref, port, 6000,
             {"group.id=reference", "topic.decisions=decisions-ref", "topic.triggers=triggers-ref",
              "topic.dead_letters=dead-letters-ref", "state.changelog=false"}),
        dir.Sub("reference.log"));
    ASSERT_EQ(child.Wait(std::chrono::seconds(180)), 0) << "see " << dir.Sub("reference.log");
  }

  const auto decisions = DecisionsById(cluster.bootstrap_servers(), topics.decisions);
  const auto expected = DecisionsById(cluster.bootstrap_servers(), "decisions-ref");
  ASSERT_GT(expected.size(), 100u);
  size_t missing = 0, differing = 0;
  for (const auto& [id, bytes] : expected) {
    const auto it = decisions.find(id);
    if (it == decisions.end()) {
      ++missing;
    } else if (it->second != bytes) {
      ++differing;
    }
  }
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(differing, 0u);
  EXPECT_EQ(decisions.size(), expected.size()) << "no decision the reference did not make";
  // Offer state (counters, contacts, cooldowns, decision counts), latest decisions and the
  // posteriors: equal, key by key.
  EXPECT_EQ(Entries(state, state::Cf::kOffers), Entries(ref, state::Cf::kOffers));
  EXPECT_EQ(Entries(state, state::Cf::kMeta, "task/"), Entries(ref, state::Cf::kMeta, "task/"));
  EXPECT_FALSE(Entries(ref, state::Cf::kMeta, "task/").empty()) << "posteriors were learned";
  const auto latest = Entries(state, state::Cf::kDecisions);
  const auto latest_ref = Entries(ref, state::Cf::kDecisions);
  ASSERT_EQ(latest.size(), latest_ref.size());
  for (const auto& [key, value] : latest_ref) {
    v1::Decision a, b;
    ASSERT_TRUE(a.ParseFromString(latest.at(key)));
    ASSERT_TRUE(b.ParseFromString(value));
    EXPECT_EQ(a.decision_id(), b.decision_id()) << key;
  }
}

}  // namespace
}  // namespace intentstream
