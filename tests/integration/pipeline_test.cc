// The real parts on loopback: librdkafka's mock cluster, the processor with RocksDB on a
// temp dir, and its HTTP endpoint. Produces a known mix of good, duplicate and malformed
// input in phases and asserts exact state, exact dead letters and exact hand-offs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <chrono>
#include <map>
#include <thread>

#include "common/hash.h"
#include "runtime/batch_processor.h"
#include "runtime/embedded_cluster.h"
#include "runtime/processor.h"
#include "state/keys.h"
#include "state/visitor_codec.h"
#include "support/events.h"
#include "support/http_client.h"
#include "support/kafka.h"
#include "support/temp_dir.h"
#include "support/wait.h"

namespace intentstream {
namespace {

using ::testing::HasSubstr;
constexpr int kPartitions = 4;

class PipelineTest : public ::testing::Test {
 protected:
  PipelineTest() {
    cluster_.CreateTopics(topics_.All(), kPartitions);
    options_.store.dir = dir_.Sub("state");
    options_.http_listen = "127.0.0.1:0";
    options_.exit_when_idle_ms = 1500;
    options_.kafka_consumer["session.timeout.ms"] = "6000";
    options_.kafka_consumer["heartbeat.interval.ms"] = "500";
    options_.metrics_interval_ms = 200;
  }

  // Runs a processor until the input is drained; returns its summary and, while it is
  // still up, a /metrics and /readyz scrape.
  runtime::RunSummary RunProcessor(std::string* metrics = nullptr) {
    LogSink sink(LogSink::Format::kText, LogLevel::kWarn);
    runtime::Processor processor(options_, cluster_.bootstrap_servers(), &sink,
                                 std::make_shared<prometheus::Registry>(), nullptr, nullptr);
    EXPECT_EQ(testing::HttpGet(processor.http_port(), "/readyz").status, 503)
        << "not ready before assignment";
    std::atomic<bool> stop{false};
    runtime::RunSummary summary;
    std::thread runner([&] { summary = processor.Run(stop); });
    bool was_ready = false;
    for (int i = 0; i < 200 && !was_ready; ++i) {
      was_ready = testing::HttpGet(processor.http_port(), "/readyz").status == 200;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    runner.join();
    EXPECT_TRUE(was_ready) << "/readyz never answered 200";
    if (metrics) *metrics = testing::HttpGet(processor.http_port(), "/metrics").body;
    return summary;
  }

  v1::VisitorState Visitor(const std::string& key) {
    state::StateStore store(state::StoreOptions{.dir = options_.store.dir, .read_only = true});
    std::string v;
    v1::VisitorState s;
    EXPECT_TRUE(store.Get(state::Cf::kSessions, key, &v)) << key;
    EXPECT_TRUE(state::DecodeVisitor(v, &s)) << key;
    return s;
  }

  testing::TempDir dir_;
  runtime::EmbeddedCluster cluster_;
  runtime::TopicNames topics_;
  runtime::ProcessorOptions options_;
  const int64_t t0_ = testing::NowMs() - 3'600'000;
};

TEST_F(PipelineTest, KnownMixGivesExactStateDeadLettersAndHandoffs) {
  testing::TestProducer producer(cluster_.bootstrap_servers());
  // Phase 1: web history, app events, a profile, a duplicate and malformed input.
  for (int i = 0; i < 3; ++i) {
    producer.Send(
        topics_.web, "anon-1",
        testing::Web("w1-" + std::to_string(i), "anon-1", t0_ + i * 1000).SerializeAsString());
  }
  producer.Send(topics_.web, "anon-1", testing::Web("w1-0", "anon-1", t0_).SerializeAsString());
  producer.Send(topics_.web, "anon-2",
                R"({"eventId":"w2-0","anonymousId":"anon-2","eventTime":")" +
                    std::string("2026-01-01T00:00:00Z") +
                    R"(","eventType":"WEB_EVENT_TYPE_SEARCH","searchQuery":"isa rates"})");
  producer.Send(topics_.app, "cust-1",
                testing::App("a1-0", "cust-1", t0_ + 500).SerializeAsString());
  producer.Send(topics_.app, "cust-1",
                testing::App("a1-1", "cust-1", t0_ + 1500, v1::APP_ACTION_TILE_CLICK, "OFFER_X")
                    .SerializeAsString());
  producer.Send(topics_.app, "cust-2", testing::App("a2-0", "cust-2", t0_).SerializeAsString());
  producer.Send(topics_.profiles, "cust-2", testing::Profile("cust-2", t0_).SerializeAsString());

  std::string truncated = testing::Web("bad-1", "anon-3", t0_).SerializeAsString();
  truncated.resize(truncated.size() - 3);
  auto unknown_enum = testing::App("bad-3", "bad-3", t0_);  // keyed by its customer id
  unknown_enum.set_action(static_cast<v1::AppAction>(99));
  auto absurd_time = testing::App("bad-5", "bad-5", testing::NowMs() + 86'400'000);
  auto oversize = testing::Web("bad-6", "anon-3", t0_);
  oversize.set_page_title(std::string(70'000, 't'));
  const std::map<std::string, std::pair<std::string, v1::DeadLetterReason>> bad = {
      {"bad-1", {topics_.web, v1::DEAD_LETTER_REASON_TRUNCATED}},
      {"bad-2", {topics_.web, v1::DEAD_LETTER_REASON_INVALID_JSON}},
      {"bad-3", {topics_.app, v1::DEAD_LETTER_REASON_UNKNOWN_ENUM}},
      {"bad-4", {topics_.links, v1::DEAD_LETTER_REASON_MISSING_FIELD}},
      {"bad-5", {topics_.app, v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP}},
      {"bad-6", {topics_.web, v1::DEAD_LETTER_REASON_OVERSIZE}},
      {"bad-7", {topics_.web, v1::DEAD_LETTER_REASON_KEY_MISMATCH}},
  };
  producer.Send(topics_.web, "bad-1", truncated);
  producer.Send(topics_.web, "bad-2", R"({"eventId": "bad-2", "anonymousId": )");
  producer.Send(topics_.app, "bad-3", unknown_enum.SerializeAsString());
  producer.Send(topics_.links, "bad-4",
                testing::Link("bad-4", "anon-3", "", t0_).SerializeAsString());
  producer.Send(topics_.app, "bad-5", absurd_time.SerializeAsString());
  producer.Send(topics_.web, "bad-6", oversize.SerializeAsString());
  producer.Send(topics_.web, "bad-7", testing::Web("bad-7", "anon-4", t0_).SerializeAsString());
  producer.Flush();

  std::string metrics;
  auto summary = RunProcessor(&metrics);
  EXPECT_EQ(summary.stop_reason, "idle");
  EXPECT_EQ(summary.counts.accepted, 8u);  // 4 web, 3 app, 1 profile
  EXPECT_EQ(summary.counts.duplicates, 1u);
  EXPECT_EQ(summary.counts.dead_letters, 7u);
  EXPECT_EQ(summary.counts.handoffs_sent, 0u);
  EXPECT_THAT(
      metrics,
      HasSubstr(
          R"(intentstream_input_messages_total{outcome="dead_letter",topic="web-events"} 4)"));
  EXPECT_THAT(metrics, HasSubstr(R"(intentstream_dead_letters_total{reason="truncated"} 1)"));
  EXPECT_THAT(
      metrics,
      HasSubstr(R"(intentstream_input_messages_total{outcome="duplicate",topic="web-events"} 1)"));

  // Phase 2: the login links anon-1 to cust-1 (a fresh processor resumes from RocksDB).
  producer.Send(topics_.links, "anon-1",
                testing::Link("l1", "anon-1", "cust-1", t0_ + 5000).SerializeAsString());
  producer.Flush();
  summary = RunProcessor();
  EXPECT_EQ(summary.counts.accepted, 2u) << "the link and its hand-off; nothing re-read";
  EXPECT_EQ(summary.counts.duplicates, 0u);
  EXPECT_EQ(summary.counts.handoffs_sent, 1u);

  // Phase 3: a web event after the login follows the link.
  producer.Send(topics_.web, "anon-1",
                testing::Web("w1-late", "anon-1", t0_ + 9000, "/loans/car").SerializeAsString());
  producer.Flush();
  summary = RunProcessor();
  EXPECT_EQ(summary.counts.handoffs_sent, 1u);
  EXPECT_EQ(summary.counts.handoffs_merged, 1u);

  // Exact hand-offs, on the partition Java clients would pick for the customer.
  auto handoffs = testing::DrainTopic(cluster_.bootstrap_servers(), topics_.handoff, kPartitions);
  // Task watermarks share the topic (runtime/event_time_scheduler.h): not hand-offs.
  std::erase_if(handoffs,
                [](const auto& m) { return m.key.rfind(runtime::kWatermarkKeyPrefix, 0) == 0; });
  ASSERT_EQ(handoffs.size(), 2u);
  std::set<std::string> ids;
  for (const auto& m : handoffs) {
    v1::IdentityHandoff h;
    ASSERT_TRUE(h.ParseFromString(m.value));
    ids.insert(h.handoff_id());
    EXPECT_EQ(m.key, "cust-1");
    EXPECT_EQ(m.partition, KafkaMurmur2Partition("cust-1", kPartitions));
    EXPECT_EQ(h.events_size(), h.handoff_id() == "l1" ? 3 : 1);
  }
  EXPECT_EQ(ids, (std::set<std::string>{"l1", "w1-late"}));

  // Exact dead letters.
  const auto dead =
      testing::DrainTopic(cluster_.bootstrap_servers(), topics_.dead_letters, kPartitions);
  ASSERT_EQ(dead.size(), bad.size());
  for (const auto& m : dead) {
    v1::DeadLetter dl;
    ASSERT_TRUE(dl.ParseFromString(m.value));
    const auto it = bad.find(m.key);
    ASSERT_NE(it, bad.end()) << m.key;
    EXPECT_EQ(dl.source_topic(), it->second.first) << m.key;
    EXPECT_EQ(dl.reason(), it->second.second) << m.key << ": " << dl.detail();
    EXPECT_FALSE(dl.detail().empty());
    EXPECT_EQ(dl.original_key(), m.key);
    EXPECT_GE(dl.source_offset(), 0);
  }

  // Exact state.
  const auto anon1 = Visitor(state::AnonymousKey("anon-1"));
  EXPECT_EQ(anon1.web_events(), 4u);
  EXPECT_EQ(anon1.linked_customer_id(), "cust-1");
  const auto cust1 = Visitor(state::CustomerKey("cust-1"));
  EXPECT_EQ(cust1.app_events(), 2u);
  EXPECT_EQ(cust1.merged_web_events(), 4u);
  ASSERT_EQ(cust1.events_size(), 6);
  std::vector<int64_t> times;
  for (const auto& e : cust1.events()) times.push_back(e.time_ms() - t0_);
  EXPECT_EQ(times, (std::vector<int64_t>{0, 500, 1000, 1500, 2000, 9000}));
  EXPECT_EQ(cust1.events(5).category(), "/loans/car");
  const auto anon2 = Visitor(state::AnonymousKey("anon-2"));
  EXPECT_EQ(anon2.web_events(), 1u);
  ASSERT_EQ(anon2.events_size(), 1);
  EXPECT_EQ(anon2.events(0).query_term_hashes_size(), 2);
  state::StateStore store(state::StoreOptions{.dir = options_.store.dir, .read_only = true});
  std::string v;
  EXPECT_TRUE(store.Get(state::Cf::kProfiles, "cust-2", &v));
  EXPECT_FALSE(store.Get(state::Cf::kSessions, state::AnonymousKey("anon-3"), &v))
      << "rejected input leaves no state";
}

}  // namespace
}  // namespace intentstream
