// Replay equals live: the same generated world is produced twice to a fresh mock cluster
// — once all at once before the processor starts (a backfill: librdkafka hands the
// processor days of event time per partition at a time), once paced while it runs
// (live) — and the decisions and triggers must be identical, byte for byte but for the
// wall-clock fields. This holds only because each task applies its input in event-time
// order, hand-offs wait for other tasks' watermarks, and decisions are made as of their
// trigger event with seeded exploration.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <iostream>
#include <map>
#include <thread>

#include "catalog/catalog.h"
#include "decide/decision_operator.h"
#include "runtime/embedded_cluster.h"
#include "runtime/processor.h"
#include "sim/generator.h"
#include "sim/kafka_output.h"
#include "support/kafka.h"
#include "support/temp_dir.h"

namespace intentstream {
namespace {

constexpr int kPartitions = 4;

struct Outcome {
  std::map<std::string, v1::Decision> decisions;  // by id, wall-clock fields cleared
  std::vector<std::string> triggers;
  runtime::RunSummary summary;
};

void Produce(const std::string& bootstrap, double rate_per_s) {
  sim::WorldOptions world;
  world.seed = 11;
  world.customers = 80;
  world.days = 10;
  std::string error;
  sim::KafkaOutputOptions opts;
  opts.bootstrap = bootstrap;
  opts.rate_per_s = rate_per_s;
  auto out = sim::KafkaOutput::Create(opts, &error);
  ASSERT_TRUE(out) << error;
  sim::Generator generator(world);
  sim::Record r;
  while (generator.Next(&r)) ASSERT_TRUE(out->Produce(r, &error)) << error;
  ASSERT_EQ(out->Flush(60000), 0);
}

Outcome RunWorld(bool live) {
  testing::TempDir dir;
  runtime::EmbeddedCluster cluster;
  runtime::ProcessorOptions options;
  cluster.CreateTopics(options.topics.All(), kPartitions);
  options.store.dir = dir.Sub("state");
  options.http_listen = "";
  options.exit_when_idle_ms = live ? 6000 : 3000;
  // Robust to a loaded machine: a task may wait this long for hand-off watermarks.
  options.max_task_idle_ms = 5000;
  options.kafka_consumer["session.timeout.ms"] = "6000";
  options.kafka_consumer["heartbeat.interval.ms"] = "500";
  decide::DecisionOptions decision;  // defaults: exploration and holdout on
  if (!live) Produce(cluster.bootstrap_servers(), 0);
  LogSink sink(LogSink::Format::kText, LogLevel::kWarn);
  decide::DecisionOperator op(decision, catalog::DefaultCatalog(), decide::DecisionModels{},
                              nullptr, Logger(&sink, "decide"));
  runtime::Processor processor(options, cluster.bootstrap_servers(), &sink,
                               std::make_shared<prometheus::Registry>(), nullptr, &op);
  std::atomic<bool> stop{false};
  Outcome outcome;
  std::thread runner([&] { outcome.summary = processor.Run(stop); });
  if (live) Produce(cluster.bootstrap_servers(), 2500);
  runner.join();
  for (const auto& m :
       testing::DrainTopic(cluster.bootstrap_servers(), options.topics.decisions, kPartitions)) {
    v1::Decision d;
    EXPECT_TRUE(d.ParseFromString(m.value));
    d.clear_decided_time();
    d.clear_processing_latency_us();
    outcome.decisions[d.decision_id()] = d;
  }
  for (const auto& m :
       testing::DrainTopic(cluster.bootstrap_servers(), options.topics.triggers, kPartitions)) {
    outcome.triggers.push_back(m.value);
  }
  std::sort(outcome.triggers.begin(), outcome.triggers.end());
  return outcome;
}

TEST(ReplayEqualsLive, BackfillAndPacedRunsDecideTheSame) {
  const Outcome backfill = RunWorld(false);
  const Outcome live = RunWorld(true);
  for (const auto* o : {&backfill, &live}) {
    std::cerr << (o == &backfill ? "backfill" : "live") << ": late " << o->summary.scheduler.late
              << " idle waits " << o->summary.scheduler.idle_waits << " enforced "
              << o->summary.scheduler.enforced << " decisions " << o->summary.counts.decisions
              << " handoffs " << o->summary.counts.handoffs_merged << "\n";
  }
  ASSERT_GT(backfill.decisions.size(), 200u) << "a world with decisions to compare";
  ASSERT_GT(backfill.triggers.size(), 5u);
  EXPECT_GT(backfill.summary.counts.handoffs_merged, 50u);
  EXPECT_EQ(backfill.summary.counts.accepted, live.summary.counts.accepted);
  EXPECT_EQ(backfill.decisions.size(), live.decisions.size());
  EXPECT_EQ(backfill.triggers.size(), live.triggers.size());
  size_t differing = 0, missing = 0, shown = 0;
  for (const auto& [id, d] : backfill.decisions) {
    const auto it = live.decisions.find(id);
    if (it == live.decisions.end()) {
      ++missing;
      if (shown++ < 4) {
        ADD_FAILURE() << "only in the backfill: " << id << " at " << d.trigger_event_id() << " ("
                      << d.customer_id() << ", " << d.placement() << ")";
      }
      continue;
    }
    if (it->second.SerializeAsString() != d.SerializeAsString()) {
      ++differing;
      if (shown++ < 4) {
        std::string diff;
        google::protobuf::util::MessageDifferencer differ;
        differ.ReportDifferencesToString(&diff);
        differ.Compare(d, it->second);
        ADD_FAILURE() << "decision " << id << " at " << d.trigger_event_id() << " ("
                      << d.customer_id() << ", " << d.placement() << ") differs:\n"
                      << diff;
      }
    }
  }
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(differing, 0u) << "of " << backfill.decisions.size() << " decisions";
  EXPECT_TRUE(backfill.triggers == live.triggers) << "the triggers differ";
  EXPECT_EQ(live.summary.scheduler.late, 0u) << "live input arrived in event-time order";
}

}  // namespace
}  // namespace intentstream
