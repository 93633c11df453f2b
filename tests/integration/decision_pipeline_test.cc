// The decision stage end to end on the real parts (mock Kafka cluster, RocksDB on a temp
// dir, the HTTP endpoint): a scripted customer journey whose decisions, removals,
// triggers and feedback effects are asserted exactly, across processor restarts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <google/protobuf/util/json_util.h>

#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "catalog/catalog.h"
#include "common/hash.h"
#include "decide/decision_operator.h"
#include "runtime/batch_processor.h"
#include "runtime/embedded_cluster.h"
#include "runtime/processor.h"
#include "serve/decision_probe.h"
#include "support/events.h"
#include "support/http_client.h"
#include "support/kafka.h"
#include "support/metrics_text.h"
#include "support/temp_dir.h"
#include "support/wait.h"

namespace intentstream {
namespace {

using ::testing::HasSubstr;
constexpr int kPartitions = 4;

class DecisionPipelineTest : public ::testing::Test {
 protected:
  DecisionPipelineTest() {
    cluster_.CreateTopics(topics_.All(), kPartitions);
    options_.store.dir = dir_.Sub("state");
    options_.http_listen = "127.0.0.1:0";
    options_.exit_when_idle_ms = 1500;
    options_.kafka_consumer["session.timeout.ms"] = "6000";
    options_.kafka_consumer["heartbeat.interval.ms"] = "500";
    // Robust to a loaded machine: a task waits this long for hand-off watermarks (the
    // sentinels make them arrive; this only bounds how long they may take).
    options_.max_task_idle_ms = 10000;
    decision_.exploration_share = 0;  // deterministic rankings to assert on
    decision_.holdout_percent = 0;
  }

  // Runs a processor with the decision stage until the input is drained; returns its
  // summary, and while it is up a /metrics scrape and a lookup.
  runtime::RunSummary Run(std::string* metrics = nullptr,
                          std::map<std::string, testing::HttpResult>* lookups = nullptr) {
    LogSink sink(LogSink::Format::kText, LogLevel::kWarn);
    auto registry = std::make_shared<prometheus::Registry>();
    serve::DecisionProbe probe(*registry);
    decide::DecisionOperator op(decision_, catalog::DefaultCatalog(), decide::DecisionModels{},
                                &probe, Logger(&sink, "decide"));
    runtime::Processor processor(options_, cluster_.bootstrap_servers(), &sink, registry, nullptr,
                                 &op);
    std::atomic<bool> stop{false};
    runtime::RunSummary summary;
    std::thread runner([&] { summary = processor.Run(stop); });
    if (lookups) {
      // While it runs (the lookups need assigned partitions): once `ready_when` answers
      // with `ready_text`, take every lookup.
      EXPECT_TRUE(testing::WaitFor(
          [&] {
            const auto r = testing::HttpGet(processor.http_port(), ready_when_);
            return r.status == 200 && r.body.find(ready_text_) != std::string::npos;
          },
          std::chrono::seconds(60), std::chrono::milliseconds(50)))
          << ready_when_;
      for (auto& [path, result] : *lookups) result = testing::HttpGet(processor.http_port(), path);
    }
    runner.join();
    if (metrics) *metrics = testing::HttpGet(processor.http_port(), "/metrics").body;
    return summary;
  }

  // Every task's web stream reaches `t`: its hand-off watermark passes every customer
  // event before `t`, so no customer-side record waits for an idle timeout.
  void Sentinels(testing::TestProducer& p, int64_t t) {
    std::set<int32_t> covered;
    for (int n = 0; covered.size() < kPartitions; ++n) {
      const std::string anon = "sentinel-" + std::to_string(sentinel_++) + "-" + std::to_string(n);
      if (!covered.insert(KafkaMurmur2Partition(anon, kPartitions)).second) continue;
      p.Send(topics_.web, anon, testing::Web("e-" + anon, anon, t, "/help").SerializeAsString());
    }
  }

  // intentstream_decision_latency_seconds timed every decision and trigger the run
  // delivered, from its event's arrival to its acknowledgement: in seconds, more than
  // nothing and less than the run.
  static void ExpectEveryDecisionTimed(const std::string& metrics,
                                       const runtime::RunSummary& summary) {
    for (const auto& [output, delivered] :
         {std::pair{"decision", summary.counts.decisions}, {"trigger", summary.counts.triggers}}) {
      const std::string label = std::string("output=\"") + output + "\"";
      const double count =
          testing::SumSamples(metrics, "intentstream_decision_latency_seconds_count", label);
      const double sum =
          testing::SumSamples(metrics, "intentstream_decision_latency_seconds_sum", label);
      EXPECT_EQ(count, static_cast<double>(delivered)) << output;
      if (delivered == 0) continue;
      EXPECT_GT(sum, 0) << output;
      EXPECT_LT(sum / count, summary.seconds) << output << ": seconds, not microseconds";
    }
  }

  template <typename M>
  std::vector<M> Drain(const std::string& topic) {
    std::vector<M> out;
    for (const auto& m : testing::DrainTopic(cluster_.bootstrap_servers(), topic, kPartitions)) {
      M msg;
      EXPECT_TRUE(msg.ParseFromString(m.value));
      out.push_back(msg);
    }
    std::sort(out.begin(), out.end(),
              [](const M& a, const M& b) { return a.SerializeAsString() < b.SerializeAsString(); });
    return out;
  }
  std::vector<v1::Decision> Decisions(const std::string& customer, const std::string& placement) {
    std::vector<v1::Decision> out;
    for (const auto& d : Drain<v1::Decision>(topics_.decisions)) {
      if (d.customer_id() == customer && d.placement() == placement) out.push_back(d);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.trigger_time().seconds() < b.trigger_time().seconds();
    });
    return out;
  }
  static std::string RemovedBy(const v1::Decision& d, const std::string& offer) {
    for (const auto& r : d.removed()) {
      if (r.offer_id() == offer) return r.rule();
    }
    return "";
  }
  static const v1::RankedOffer* Shown(const v1::Decision& d, const std::string& offer) {
    for (const auto& o : d.offers()) {
      if (o.offer_id() == offer) return &o;
    }
    return nullptr;
  }

  v1::CustomerProfile Profile(const std::string& id, bool consent) {
    auto p = testing::Profile(id, t0_ - 60'000, consent);
    p.set_income_band(v1::INCOME_BAND_UPPER_MIDDLE);
    p.set_credit_grade(3);
    p.set_risk_appetite(v1::RISK_APPETITE_MEDIUM);
    p.add_products_held("CURRENT_ACCOUNT");
    return p;
  }

  testing::TempDir dir_;
  runtime::EmbeddedCluster cluster_;
  runtime::TopicNames topics_;
  runtime::ProcessorOptions options_;
  decide::DecisionOptions decision_;
  const int64_t t0_ = testing::NowMs() - 10 * 3'600'000;
  int sentinel_ = 0;
  std::string ready_when_, ready_text_;
};

TEST_F(DecisionPipelineTest, ScriptedJourneyGivesExactDecisionsTriggersAndFeedbackEffects) {
  testing::TestProducer producer(cluster_.bootstrap_servers());
  // Phase 1: cust-1 researches travel cards on the web before logging in; cust-2 looks
  // at them in the app but has no marketing consent.
  producer.Send(topics_.profiles, "cust-1", Profile("cust-1", true).SerializeAsString());
  producer.Send(topics_.profiles, "cust-2", Profile("cust-2", false).SerializeAsString());
  // Four untagged page views: enough evidence for the travel threshold (0.6) under the
  // taxonomy's rules (decide/intent_rules.h).
  for (int i = 0; i < 4; ++i) {
    producer.Send(topics_.web, "anon-1",
                  testing::Web("w" + std::to_string(i), "anon-1", t0_ + i * 1000,
                               "/credit-cards/travel-rewards")
                      .SerializeAsString());
  }
  producer.Send(topics_.links, "anon-1",
                testing::Link("l1", "anon-1", "cust-1", t0_ + 4000).SerializeAsString());
  producer.Send(
      topics_.app, "cust-1",
      testing::App("login-1", "cust-1", t0_ + 60'000, v1::APP_ACTION_LOGIN).SerializeAsString());
  for (int i = 0; i < 3; ++i) {
    auto s = testing::App("c2-s" + std::to_string(i), "cust-2", t0_ + 10'000 + i * 1000);
    s.set_screen("products/travel-card");
    producer.Send(topics_.app, "cust-2", s.SerializeAsString());
  }
  producer.Send(
      topics_.app, "cust-2",
      testing::App("login-2", "cust-2", t0_ + 70'000, v1::APP_ACTION_LOGIN).SerializeAsString());
  Sentinels(producer, t0_ + 2 * 3'600'000);
  producer.Flush();
  std::string metrics;
  auto summary = Run(&metrics);
  EXPECT_EQ(summary.stop_reason, "idle");
  ExpectEveryDecisionTimed(metrics, summary);

  // cust-1: the merged web history crossed the travel threshold at the hand-off: a push
  // trigger for the travel card; then the login's homepage tiles lead with it.
  const auto triggers = Drain<v1::Trigger>(topics_.triggers);
  ASSERT_EQ(triggers.size(), 1u);
  const v1::Trigger& trig = triggers[0];
  EXPECT_EQ(trig.customer_id(), "cust-1");
  EXPECT_EQ(trig.intent(), "travel_rewards");
  EXPECT_EQ(trig.channel(), "push");
  EXPECT_EQ(trig.offer_id(), "OFR_TRAVEL_CARD");
  EXPECT_EQ(trig.created_time().seconds(), (t0_ + 4000) / 1000) << "at the link's time";
  EXPECT_EQ(trig.event_ids_size(), 3) << "the (at most) three pages that drove it";
  const auto push1 = Decisions("cust-1", "push");
  ASSERT_EQ(push1.size(), 1u);
  EXPECT_EQ(push1[0].decision_id(), trig.decision_id());

  auto home1 = Decisions("cust-1", "home_tile");
  ASSERT_EQ(home1.size(), 1u);
  const v1::Decision d1 = home1[0];  // a copy: home1 is read again below
  EXPECT_EQ(d1.trigger_event_id(), "login-1");
  ASSERT_EQ(d1.offers_size(), 3);
  EXPECT_EQ(d1.offers(0).offer_id(), "OFR_TRAVEL_CARD");
  EXPECT_EQ(d1.intents(0).intent(), "travel_rewards");
  EXPECT_EQ(RemovedBy(d1, "OFR_FIRST_HOME_MORTGAGE"), "CONFIDENCE_CAP");
  EXPECT_EQ(d1.catalogue_version(), catalog::DefaultCatalog()->version());

  // cust-2: the crossing found no consent on push or email: audited, no trigger; tiles
  // need none.
  const auto push2 = Decisions("cust-2", "push");
  ASSERT_EQ(push2.size(), 1u);
  EXPECT_EQ(push2[0].offers_size(), 0);
  EXPECT_EQ(RemovedBy(push2[0], "OFR_TRAVEL_CARD"), "NO_MARKETING_CONSENT");
  const auto home2 = Decisions("cust-2", "home_tile");
  ASSERT_EQ(home2.size(), 1u);
  EXPECT_EQ(home2[0].offers(0).offer_id(), "OFR_TRAVEL_CARD");

  EXPECT_EQ(testing::SumSamples(metrics, "intentstream_decisions_total", "placement=\"home_tile\""),
            2);
  EXPECT_EQ(testing::SumSamples(metrics, "intentstream_triggers_total", "travel_rewards"), 1);
  EXPECT_EQ(testing::SumSamples(metrics, "intentstream_triggers_suppressed_total",
                                "NO_MARKETING_CONSENT"),
            1)
      << "one crossing, suppressed (push and email both refused)";
  EXPECT_EQ(Decisions("cust-2", "email").size(), 1u);

  // Phase 2 (a new processor on the same state): cust-1 sees the tiles, clicks the first,
  // dismisses the second, logs in again later.
  const std::string first = d1.offers(0).offer_id();
  const std::string second = d1.offers(1).offer_id();
  // Phase 2 starts on a posterior bucket boundary (decision.posterior.bucket_ms, 15 min),
  // so the click and the next login share a bucket whatever the wall clock says.
  const int64_t bucket_ms = decision_.posterior_bucket_ms;
  const int64_t t1 = (t0_ + 3 * 3'600'000) / bucket_ms * bucket_ms + bucket_ms;
  int n = 0;
  for (int r = 0; r < 3; ++r) {
    producer.Send(topics_.app, "cust-1",
                  testing::App("imp-" + std::to_string(r), "cust-1", t1 + (n++) * 1000,
                               v1::APP_ACTION_TILE_IMPRESSION, d1.offers(r).offer_id())
                      .SerializeAsString());
  }
  producer.Send(
      topics_.app, "cust-1",
      testing::App("click-1", "cust-1", t1 + (n++) * 1000, v1::APP_ACTION_TILE_CLICK, first)
          .SerializeAsString());
  producer.Send(
      topics_.app, "cust-1",
      testing::App("dismiss-1", "cust-1", t1 + (n++) * 1000, v1::APP_ACTION_TILE_DISMISS, second)
          .SerializeAsString());
  producer.Send(topics_.app, "cust-1",
                testing::App("imp-x", "cust-1", t1 + (n++) * 1000, v1::APP_ACTION_TILE_IMPRESSION,
                             "OFR_NOT_IN_THE_CATALOGUE")
                    .SerializeAsString());
  producer.Send(
      topics_.app, "cust-1",
      testing::App("login-3", "cust-1", t1 + 5 * 60'000, v1::APP_ACTION_LOGIN).SerializeAsString());
  Sentinels(producer, t0_ + 5 * 3'600'000);
  producer.Flush();
  ready_when_ = "/v1/decisions/cust-1?placement=home";
  ready_text_ = "login-3";
  std::map<std::string, testing::HttpResult> lookups = {
      {"/v1/decisions/cust-1?placement=home", {}},
      {"/v1/decisions/cust-9?placement=home", {}},
      {"/v1/decisions/cust-1?placement=billboard", {}}};
  summary = Run(&metrics, &lookups);
  EXPECT_EQ(summary.counts.decisions, 1u) << "only the new login decides";
  ExpectEveryDecisionTimed(metrics, summary);
  EXPECT_EQ(Drain<v1::Trigger>(topics_.triggers).size(), 1u) << "no trigger repeated";

  home1 = Decisions("cust-1", "home_tile");
  ASSERT_EQ(home1.size(), 2u);
  const v1::Decision& d2 = home1[1];
  EXPECT_EQ(d2.trigger_event_id(), "login-3");
  EXPECT_EQ(RemovedBy(d2, second), "SUPPRESSED_AFTER_DISMISSAL");
  const auto* again = Shown(d2, first);
  ASSERT_NE(again, nullptr) << "a clicked offer stays eligible";
  // The click is visible to the very next decision: the customer's own evidence moves the
  // posterior by exactly one click and no miss (the task's posterior catches up at the
  // next bucket).
  EXPECT_FLOAT_EQ(again->factors().posterior_alpha(), d1.offers(0).factors().posterior_alpha() + 1);
  EXPECT_FLOAT_EQ(again->factors().posterior_beta(), d1.offers(0).factors().posterior_beta());
  EXPECT_EQ(
      testing::SumSamples(metrics, "intentstream_offer_feedback_total", "kind=\"impression\""), 3);
  EXPECT_EQ(testing::SumSamples(metrics, "intentstream_offer_feedback_total", "kind=\"click\""), 1);
  EXPECT_EQ(testing::SumSamples(metrics, "intentstream_feedback_unknown_offer_total"), 1);

  // The latest decision, read synchronously.
  const auto& got = lookups["/v1/decisions/cust-1?placement=home"];
  ASSERT_EQ(got.status, 200) << got.body;
  v1::Decision parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(got.body, &parsed).ok()) << got.body;
  EXPECT_EQ(parsed.decision_id(), d2.decision_id());
  EXPECT_EQ(lookups["/v1/decisions/cust-9?placement=home"].status, 404);
  EXPECT_EQ(lookups["/v1/decisions/cust-1?placement=billboard"].status, 400);
}

TEST_F(DecisionPipelineTest, OutputFormatJsonWritesProtobufsJsonMapping) {
  options_.output_json = true;  // output.format = json
  testing::TestProducer producer(cluster_.bootstrap_servers());
  producer.Send(topics_.profiles, "cust-1", Profile("cust-1", true).SerializeAsString());
  for (int i = 0; i < 4; ++i) {  // four pages cross the travel threshold (rules-v2)
    producer.Send(topics_.web, "anon-1",
                  testing::Web("w" + std::to_string(i), "anon-1", t0_ + i * 1000,
                               "/credit-cards/travel-rewards")
                      .SerializeAsString());
  }
  producer.Send(topics_.links, "anon-1",
                testing::Link("l1", "anon-1", "cust-1", t0_ + 3000).SerializeAsString());
  producer.Send(
      topics_.app, "cust-1",
      testing::App("login-1", "cust-1", t0_ + 60'000, v1::APP_ACTION_LOGIN).SerializeAsString());
  Sentinels(producer, t0_ + 2 * 3'600'000);
  producer.Flush();
  Run();
  size_t decisions = 0, triggers = 0;
  for (const auto& [topic, count] : std::vector<std::pair<std::string, size_t*>>{
           {topics_.decisions, &decisions}, {topics_.triggers, &triggers}}) {
    for (const auto& m : testing::DrainTopic(cluster_.bootstrap_servers(), topic, kPartitions)) {
      ASSERT_FALSE(m.value.empty());
      EXPECT_EQ(m.value.front(), '{') << "JSON, not the binary protobuf: " << topic;
      if (topic == topics_.decisions) {
        v1::Decision d;
        ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(m.value, &d).ok()) << m.value;
        EXPECT_EQ(d.customer_id(), "cust-1");
        EXPECT_GT(d.offers_size(), 0);
        EXPECT_THAT(m.value, HasSubstr("\"offers\""));
      } else {
        v1::Trigger t;
        ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(m.value, &t).ok()) << m.value;
        EXPECT_EQ(t.intent(), "travel_rewards");
      }
      ++*count;
    }
  }
  EXPECT_GT(decisions, 0u);
  EXPECT_EQ(triggers, 1u);
}

}  // namespace
}  // namespace intentstream
