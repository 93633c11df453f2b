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
#include "support/temp_dir.h"

namespace intentstream {
namespace {

constexpr int kPartitions = 4;
constexpr int64_t kGapMs = 30 * 60 * 1000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Sent {
  std::string topic, key, payload;
};

// What a visitor's state must be, computed from the input without the processor's code.
struct Expected {
  uint64_t own_events = 0;
  uint32_t sessions = 0;
  int64_t last_ms = 0;
  uint64_t merged = 0;
  std::string linked_customer;
  std::set<std::pair<int64_t, uint64_t>> window;  // (time, event key) of all events kept
};

void CountOwn(Expected& e, int64_t ms) {
  if (e.own_events == 0 || ms - e.last_ms > kGapMs) ++e.sessions;
  e.last_ms = std::max(e.last_ms, ms);
  ++e.own_events;
}

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
  for (const auto* t : {&topics.web, &topics.app, &topics.links, &topics.profiles,
                        &topics.handoff, &topics.decisions, &topics.triggers,
                        &topics.dead_letters}) {
    cluster.CreateTopic(*t, kPartitions);
  }

  // --- The input: per-visitor sequences interleaved at random, with duplicates, links
  // before/among/after web events, and malformed messages.
  std::mt19937 rng(20261122);
  const int64_t t0 = NowMs() - 48 * 3'600'000;
  std::vector<std::vector<Sent>> streams;
  std::map<std::string, Expected> expected;  // by state key
  std::map<std::string, std::string> anon_to_customer;
  std::set<std::string> malformed;
  for (int c = 0; c < 80; ++c) {
    const std::string cust = "cust-" + std::to_string(c);
    std::vector<Sent> s;
    int64_t t = t0 + c * 7000;
    const int n = 2 + static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) {
      t += (rng() % 4 == 0) ? 2 * kGapMs : 60'000;
      const auto e = testing::App(cust + "-a" + std::to_string(i), cust, t);
      s.push_back({topics.app, cust, e.SerializeAsString()});
      auto& x = expected[state::CustomerKey(cust)];
      CountOwn(x, t);
      x.window.insert({t, Fnv1a64(e.event_id())});
    }
    streams.push_back(std::move(s));
  }
  for (int a = 0; a < 240; ++a) {
    const std::string anon = "anon-" + std::to_string(a);
    const bool linked = a % 2 == 0;
    const std::string cust = "cust-" + std::to_string(a % 80);
    std::vector<Sent> s;
    int64_t t = t0 + a * 5000;
    const int n = 3 + static_cast<int>(rng() % 6);
    const int link_at = linked ? static_cast<int>(rng() % (n + 1)) : -1;
    auto& x = expected[state::AnonymousKey(anon)];
    for (int i = 0; i <= n; ++i) {
      if (i == link_at) {
        s.push_back({topics.links, anon,
                     testing::Link(anon + "-l", anon, cust, t + 1).SerializeAsString()});
        x.linked_customer = cust;
        anon_to_customer[anon] = cust;
      }
      if (i == n) break;
      t += (rng() % 5 == 0) ? 2 * kGapMs : 30'000;
      const auto e = testing::Web(anon + "-w" + std::to_string(i), anon, t,
                                  "/cards/p" + std::to_string(rng() % 20));
      s.push_back({topics.web, anon, e.SerializeAsString()});
      CountOwn(x, t);
      x.window.insert({t, Fnv1a64(e.event_id())});
      if (linked) {
        auto& cx = expected[state::CustomerKey(cust)];
        cx.window.insert({t, Fnv1a64(e.event_id())});
        ++cx.merged;
      }
      if (rng() % 20 == 0) s.push_back(s.back());  // a duplicate delivery
    }
    streams.push_back(std::move(s));
  }
  // Malformed messages ride in their own streams.
  for (int m = 0; m < 40; ++m) {
    std::string payload = m % 2 == 0 ? "{\"eventId\": \"broken-" + std::to_string(m)
                                     : std::string("\x07\x01garbage-") + std::to_string(m);
    malformed.insert(payload);
    streams.push_back({{m % 3 == 0 ? topics.app : topics.web, "junk-" + std::to_string(m), payload}});
  }
  std::vector<Sent> order;
  std::vector<size_t> next(streams.size(), 0);
  std::vector<size_t> live(streams.size());
  for (size_t i = 0; i < live.size(); ++i) live[i] = i;
  while (!live.empty()) {
    const size_t pick = rng() % live.size();
    auto& st = streams[live[pick]];
    order.push_back(st[next[live[pick]]++]);
    if (next[live[pick]] == st.size()) live.erase(live.begin() + static_cast<long>(pick));
  }
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
      std::string(std::getenv("INTENTSTREAM_BINARY_DIR")) + "/tools/intentstream/intentstream";
  const std::string state_dir = dir.Sub("state");
  auto args = [&](int port, int idle_ms) {
    return std::vector<std::string>{
        "run",
        "--set", "kafka.bootstrap.servers=" + cluster.bootstrap_servers(),
        "--set", "state.dir=" + state_dir,
        "--set", "http.listen=127.0.0.1:" + std::to_string(port),
        "--set", "kafka.consumer.session.timeout.ms=6000",
        "--set", "kafka.consumer.heartbeat.interval.ms=500",
        "--set", "processing.batch_max_messages=100",
        "--set", "metrics.interval_ms=100",
        "--set", "processing.exit_when_idle_ms=" + std::to_string(idle_ms)};
  };

  // --- Run 1: killed with SIGKILL once it has committed a few batches.
  {
    const int port = testing::FreeLoopbackPort();
    testing::ChildProcess child(binary, args(port, 0), dir.Sub("run1.log"));
    double commits = 0;
    for (int i = 0; i < 600 && commits < 5; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      commits = MetricValue(testing::HttpGet(port, "/metrics").body,
                            "intentstream_state_commits_total");
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
  size_t visitors = 0;
  store.ForEach(state::Cf::kSessions, [&](std::string_view key, std::string_view value) {
    ++visitors;
    v1::VisitorState s;
    ASSERT_TRUE(s.ParseFromArray(value.data(), static_cast<int>(value.size())));
    const auto it = expected.find(std::string(key));
    ASSERT_NE(it, expected.end()) << "unexpected visitor " << key;
    const Expected& x = it->second;
    EXPECT_EQ(s.events_total(), x.own_events) << key;
    EXPECT_EQ(s.session_count(), x.sessions) << key;
    EXPECT_EQ(s.merged_web_events(), x.merged) << key;
    EXPECT_EQ(s.linked_customer_id(), x.linked_customer) << key;
    std::set<std::pair<int64_t, uint64_t>> window;
    for (const auto& e : s.events()) window.insert({e.time_ms(), e.event_key()});
    EXPECT_EQ(window, x.window) << key;
    EXPECT_EQ(static_cast<size_t>(s.events_size()), x.window.size()) << key << " has repeats";
  });
  EXPECT_EQ(visitors, expected.size());

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
  for (const auto& m : testing::DrainTopic(cluster.bootstrap_servers(), topics.dead_letters, kPartitions)) {
    v1::DeadLetter dl;
    ASSERT_TRUE(dl.ParseFromString(m.value));
    dead_at.insert({dl.source_topic(), dl.source_partition(), dl.source_offset()});
  }
  EXPECT_EQ(dead_at, malformed_at);
}

}  // namespace
}  // namespace intentstream
