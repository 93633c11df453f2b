// Hostile and careless input against the real parts: a ~1 MB message, outputs the broker
// refuses, and SIGTERM while the broker is gone. None of them may stop the stream for
// good or leave the process hanging.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <prometheus/registry.h>

#include <chrono>
#include <thread>

#include "runtime/embedded_cluster.h"
#include "runtime/processor.h"
#include "support/child_process.h"
#include "support/events.h"
#include "support/http_client.h"
#include "support/kafka.h"
#include "support/temp_dir.h"
#include "support/wait.h"

namespace intentstream {
namespace {

constexpr int kPartitions = 2;

class HardeningTest : public ::testing::Test {
 protected:
  HardeningTest() {
    cluster_.CreateTopics(topics_.All(), kPartitions);
    options_.store.dir = dir_.Sub("state");
    options_.http_listen = "";
    options_.exit_when_idle_ms = 1500;
    options_.kafka_consumer["session.timeout.ms"] = "6000";
    options_.kafka_consumer["heartbeat.interval.ms"] = "500";
  }

  runtime::RunSummary Run() {
    LogSink sink(LogSink::Format::kText, LogLevel::kError);
    runtime::Processor processor(options_, cluster_.bootstrap_servers(), &sink,
                                 std::make_shared<prometheus::Registry>(), nullptr, nullptr);
    std::atomic<bool> stop{false};
    return processor.Run(stop);
  }

  std::vector<v1::DeadLetter> DeadLetters() {
    std::vector<v1::DeadLetter> out;
    for (const auto& m :
         testing::DrainTopic(cluster_.bootstrap_servers(), topics_.dead_letters, kPartitions)) {
      v1::DeadLetter dl;
      EXPECT_TRUE(dl.ParseFromString(m.value));
      out.push_back(dl);
    }
    return out;
  }

  testing::TempDir dir_;
  runtime::EmbeddedCluster cluster_;
  runtime::TopicNames topics_;
  runtime::ProcessorOptions options_;
  const int64_t t0_ = testing::NowMs() - 3'600'000;
};

TEST_F(HardeningTest, OneMegabyteMessageIsDeadLetteredAndTheStreamGoesOn) {
  {
    testing::TestProducer producer(cluster_.bootstrap_servers());
    // The hostile probe's message: a 1 MB URL path in otherwise valid JSON.
    const std::string big = R"({"eventId":"e-w1m","anonymousId":"anon-w1m","urlPath":"/)" +
                            std::string(999'890, 'A') + "\"}";
    producer.Send(topics_.web, "anon-w1m", big);
    producer.Send(topics_.web, "anon-1", testing::Web("w1", "anon-1", t0_).SerializeAsString());
  }
  const auto summary = Run();
  EXPECT_EQ(summary.stop_reason, "idle") << "it drained instead of hanging";
  EXPECT_EQ(summary.counts.accepted, 1u);
  EXPECT_EQ(summary.counts.dead_letters, 1u);
  const auto dead = DeadLetters();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].reason(), v1::DEAD_LETTER_REASON_OVERSIZE);
  EXPECT_TRUE(dead[0].payload_truncated());
  EXPECT_GT(dead[0].original_size_bytes(), 999'000u);
  EXPECT_LT(dead[0].ByteSizeLong(), 64u * 1024) << "fits what any producer can send";
  EXPECT_EQ(dead[0].payload_sha256().size(), 64u);
  // And again after a restart: the same message does not stop it either (it is past).
  EXPECT_EQ(Run().stop_reason, "idle");
}

TEST_F(HardeningTest, OutputsTheBrokerRefusesBecomeDeadLettersAndTheLoopGoesOn) {
  {
    testing::TestProducer producer(cluster_.bootstrap_servers());
    producer.Send(topics_.links, "anon-1",
                  testing::Link("l1", "anon-1", "cust-1", t0_).SerializeAsString());
  }
  // The next Produce request (the hand-off) fails permanently.
  constexpr int16_t kProduce = 0;  // the Kafka protocol's ApiKey of Produce
  rd_kafka_mock_push_request_errors(cluster_.mock_cluster(), kProduce, 1,
                                    RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
  const auto summary = Run();
  EXPECT_EQ(summary.stop_reason, "idle");
  EXPECT_GE(summary.delivery.undeliverable, 1u);
  const auto dead = DeadLetters();
  ASSERT_FALSE(dead.empty());
  bool found = false;
  for (const auto& dl : dead) {
    if (dl.reason() != v1::DEAD_LETTER_REASON_UNDELIVERABLE_OUTPUT) continue;
    found = true;
    EXPECT_EQ(dl.source_topic(), topics_.handoff);
    EXPECT_NE(dl.detail().find("not deliverable"), std::string::npos) << dl.detail();
    v1::IdentityHandoff h;
    EXPECT_TRUE(h.ParseFromString(dl.original_payload())) << "the output itself is kept";
  }
  EXPECT_TRUE(found);
  // The state committed: nothing is read again.
  EXPECT_EQ(Run().counts.accepted, 0u);
}

TEST_F(HardeningTest, SigtermEndsTheProcessWithinItsBoundEvenWithTheBrokerDown) {
  {
    testing::TestProducer producer(cluster_.bootstrap_servers());
    for (int i = 0; i < 20; ++i) {
      producer.Send(topics_.web, "anon-" + std::to_string(i),
                    testing::Web("w" + std::to_string(i), "anon-" + std::to_string(i), t0_)
                        .SerializeAsString());
    }
  }
  const int port = testing::FreeLoopbackPort();
  const std::string binary =
      std::string(INTENTSTREAM_TEST_BINARY_DIR) + "/tools/intentstream/intentstream";
  testing::ChildProcess child(
      binary,
      {"run", "--set", "kafka.bootstrap.servers=" + cluster_.bootstrap_servers(), "--set",
       "state.dir=" + dir_.Sub("state"), "--set", "http.listen=127.0.0.1:" + std::to_string(port),
       "--set", "kafka.consumer.session.timeout.ms=6000", "--set",
       "processing.shutdown_timeout_ms=3000"},
      dir_.Sub("run.log"));
  ASSERT_TRUE(testing::WaitFor([&] { return testing::HttpGet(port, "/readyz").status == 200; },
                               std::chrono::seconds(60)))
      << "see " << dir_.Sub("run.log");
  ASSERT_EQ(rd_kafka_mock_broker_set_down(cluster_.mock_cluster(), 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  const auto sent = std::chrono::steady_clock::now();
  child.Kill(SIGTERM);
  const int rc = child.Wait(std::chrono::seconds(15));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  EXPECT_NE(rc, -1) << "still running " << seconds << " s after SIGTERM";
  EXPECT_LT(seconds, 3.0 + 2.0) << "the bound is processing.shutdown_timeout_ms (3 s)";
  rd_kafka_mock_broker_set_up(cluster_.mock_cluster(), 1);
}

}  // namespace
}  // namespace intentstream
