// The processor with the default session encoder, on the mock cluster: as events stream
// in (in several polls, so the encoder's cache is used incrementally), every visitor's
// embedding is written to RocksDB and equals a full re-encode of its stored window.
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "model/incremental_encoder.h"
#include "model/model.h"
#include "runtime/embedded_cluster.h"
#include "runtime/processor.h"
#include "state/keys.h"
#include "state/visitor_codec.h"
#include "support/events.h"
#include "support/kafka.h"
#include "support/temp_dir.h"
#include "support/wait.h"

namespace intentstream {
namespace {

TEST(EmbeddingPipeline, EveryVisitorsEmbeddingEqualsAFullReencode) {
  testing::TempDir dir;
  runtime::EmbeddedCluster cluster;
  runtime::ProcessorOptions options;
  cluster.CreateTopics(options.topics.All(), 2);
  options.store.dir = dir.Sub("state");
  options.http_listen = "";
  options.exit_when_idle_ms = 1500;
  options.batch_max_messages = 50;  // many polls: incremental updates on warm caches
  options.kafka_consumer["session.timeout.ms"] = "6000";

  auto model =
      model::SessionModel::Load(std::string(INTENTSTREAM_TEST_SOURCE_DIR) + "/models/default");
  model::IncrementalEncoder encoder(model, {.cache_capacity = 16});  // small: evictions too

  const char* paths[] = {"/mortgages",   "/mortgages/calculator", "/credit-cards/travel-rewards",
                         "/savings",     "/help/lost-card",       "/loans/car",
                         "/search?q=isa"};
  const int64_t t0 = testing::NowMs() - 3'600'000;
  {
    testing::TestProducer producer(cluster.bootstrap_servers());
    for (int i = 0; i < 1500; ++i) {  // 40 visitors, up to ~37 events each, some > window
      const std::string anon = "anon-" + std::to_string(i % 40);
      producer.Send(options.topics.web, anon,
                    testing::Web("e" + std::to_string(i), anon, t0 + i * 1000, paths[i % 7])
                        .SerializeAsString());
    }
    for (int i = 0; i < 200; ++i) {
      const std::string cust = "cust-" + std::to_string(i % 10);
      producer.Send(options.topics.app, cust,
                    testing::App("a" + std::to_string(i), cust, t0 + i * 2000).SerializeAsString());
    }
  }
  {
    LogSink sink(LogSink::Format::kText, LogLevel::kWarn);
    runtime::Processor processor(options, cluster.bootstrap_servers(), &sink,
                                 std::make_shared<prometheus::Registry>(), &encoder, nullptr);
    std::atomic<bool> stop{false};
    const auto summary = processor.Run(stop);
    EXPECT_EQ(summary.counts.accepted, 1700u);
    EXPECT_GT(summary.commits, 1u);
  }
  EXPECT_GT(encoder.cache_stats().hits, 0u) << "no incremental update used the cache";

  state::StateStore store(state::StoreOptions{.dir = options.store.dir, .read_only = true});
  size_t visitors = 0;
  store.ForEach(state::Cf::kSessions, [&](std::string_view key, std::string_view value) {
    ++visitors;
    v1::VisitorState s;
    ASSERT_TRUE(state::DecodeVisitor(value, &s));
    EXPECT_EQ(s.model_version(), model->version()) << key;
    const auto got = model::DecodeEmbedding(s.embedding());
    std::vector<const v1::SessionEvent*> events;
    for (const auto& e : s.events()) events.push_back(&e);
    const auto want = model->EncodeFull(model::EventPtrs(events));
    ASSERT_EQ(got.size(), static_cast<size_t>(model->embedding_dim())) << key;
    ASSERT_EQ(want.size(), got.size()) << key;
    float max_diff = 0, norm = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      max_diff = std::max(max_diff, std::abs(got[i] - want[i]));
      norm += got[i] * got[i];
    }
    EXPECT_LT(max_diff, 1e-4f) << key;
    EXPECT_NEAR(norm, 1.0f, 1e-3f) << key;
  });
  EXPECT_EQ(visitors, 50u);
}

}  // namespace
}  // namespace intentstream
