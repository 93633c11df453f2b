// A real Prometheus (Debian's `prometheus`) scrapes the processor on loopback while
// traffic flows through the embedded mock cluster; PromQL over its HTTP API must find
// the expected series and see them move. The scrape also passes `promtool check metrics`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <thread>

#include "decide/decision_operator.h"
#include "runtime/embedded_cluster.h"
#include "runtime/processor.h"
#include "serve/decision_probe.h"
#include "support/child_process.h"
#include "support/events.h"
#include "support/http_client.h"
#include "support/kafka.h"
#include "support/temp_dir.h"
#include "support/wait.h"

namespace intentstream {
namespace {

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// First sample value of an instant query; NaN when the result is empty.
double Query(int port, const std::string& promql) {
  const auto r = testing::HttpGet(port, "/api/v1/query?query=" + UrlEncode(promql));
  if (r.status != 200 || r.body.find("\"status\":\"success\"") == std::string::npos) return NAN;
  const size_t v = r.body.find("\"value\":[");
  if (v == std::string::npos) return NAN;
  const size_t q1 = r.body.find('"', r.body.find(',', v) + 1);
  const size_t q2 = r.body.find('"', q1 + 1);
  return std::stod(r.body.substr(q1 + 1, q2 - q1 - 1));
}

TEST(Prometheus, ScrapesSeriesThatExistAndMove) {
  testing::TempDir dir;
  runtime::EmbeddedCluster cluster;
  runtime::ProcessorOptions options;
  cluster.CreateTopics(options.topics.All(), 2);
  options.store.dir = dir.Sub("state");
  options.http_listen = "127.0.0.1:0";
  options.metrics_interval_ms = 200;
  LogSink sink(LogSink::Format::kText,
               LogLevel::kInfo);  // info: the rebalances and restores, shown on failure
  runtime::Processor processor(options, cluster.bootstrap_servers(), &sink,
                               std::make_shared<prometheus::Registry>(), nullptr, nullptr);
  std::atomic<bool> stop{false};
  std::thread runner([&] { processor.Run(stop); });
  testing::JoinOnExit join_runner(stop, runner);

  // The scrape itself is valid exposition format.
  {
    const std::string scrape = testing::HttpGet(processor.http_port(), "/metrics").body;
    const std::string path = dir.Sub("scrape.txt");
    std::ofstream(path) << scrape;
    const std::string cmd =
        "promtool check metrics < " + path + " > " + dir.Sub("promtool.log") + " 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0)
        << "promtool check metrics failed; see " << dir.Sub("promtool.log");
  }

  const int prom_port = testing::FreeLoopbackPort();
  const std::string config = dir.Sub("prometheus.yml");
  std::ofstream(config) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                           "scrape_configs:\n  - job_name: intentstream\n    static_configs:\n"
                           "      - targets: ['127.0.0.1:"
                        << processor.http_port() << "']\n";
  testing::ChildProcess prom("/usr/bin/prometheus",
                             {"--config.file=" + config, "--storage.tsdb.path=" + dir.Sub("tsdb"),
                              "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
                             dir.Sub("prometheus.log"));
  ASSERT_TRUE(testing::WaitFor([&] { return Query(prom_port, "up{job=\"intentstream\"}") == 1; },
                               std::chrono::seconds(60)))
      << "Prometheus never scraped the processor; see " << dir.Sub("prometheus.log");

  const std::string accepted = "sum(intentstream_input_messages_total{outcome=\"accepted\"})";
  testing::TestProducer producer(cluster.bootstrap_servers());
  auto send = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      producer.Send(options.topics.web, "anon-" + std::to_string(i % 17),
                    testing::Web("e" + std::to_string(i), "anon-" + std::to_string(i % 17),
                                 testing::NowMs() - 60'000)
                        .SerializeAsString());
    }
    producer.Send(options.topics.web, "bad", "{not json");
    producer.Flush();
  };
  send(0, 200);
  ASSERT_TRUE(testing::WaitFor([&] { return Query(prom_port, accepted) == 200; },
                               std::chrono::seconds(60)));
  send(200, 500);
  ASSERT_TRUE(
      testing::WaitFor([&] { return Query(prom_port, accepted) == 500; }, std::chrono::seconds(60)))
      << "the accepted counter did not move";
  EXPECT_GT(Query(prom_port,
                  "sum(increase(intentstream_input_messages_total{outcome=\"accepted\"}[1m]))"),
            0);
  EXPECT_EQ(Query(prom_port, "sum(intentstream_dead_letters_total{reason=\"invalid_json\"})"), 2);
  EXPECT_EQ(Query(prom_port, "sum(intentstream_assigned_partitions)"), 10);
  EXPECT_EQ(Query(prom_port, "intentstream_ready"), 1);
  EXPECT_GE(Query(prom_port, "sum(intentstream_consumer_lag_messages)"), 0);
  EXPECT_GT(Query(prom_port, "intentstream_state_commits_total"), 0);
  EXPECT_GT(Query(prom_port, "sum(intentstream_processing_latency_seconds_count)"), 0);
  EXPECT_GT(Query(prom_port,
                  "histogram_quantile(0.99, sum by (le) "
                  "(rate(intentstream_event_lag_seconds_bucket[1m])))"),
            0);
  EXPECT_GT(Query(prom_port, "sum(intentstream_stage_seconds_count{stage=\"state\"})"), 0);
  EXPECT_EQ(Query(prom_port, "count(intentstream_build_info)"), 1);

  stop = true;
  runner.join();
  prom.Kill(SIGTERM);
  prom.Wait(std::chrono::seconds(10));
}

// A Prometheus instance scraping one processor on loopback.
class ScrapingPrometheus {
 public:
  ScrapingPrometheus(const testing::TempDir& dir, int target_port)
      : port_(testing::FreeLoopbackPort()),
        process_("/usr/bin/prometheus",
                 {"--config.file=" + WriteConfig(dir, target_port),
                  "--storage.tsdb.path=" + dir.Sub("tsdb"),
                  "--web.listen-address=127.0.0.1:" + std::to_string(port_)},
                 dir.Sub("prometheus.log")) {}
  ~ScrapingPrometheus() {
    process_.Kill(SIGTERM);
    process_.Wait(std::chrono::seconds(10));
  }
  int port() const { return port_; }

 private:
  static std::string WriteConfig(const testing::TempDir& dir, int target_port) {
    const std::string config = dir.Sub("prometheus.yml");
    std::ofstream(config) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                             "scrape_configs:\n  - job_name: intentstream\n    static_configs:\n"
                             "      - targets: ['127.0.0.1:"
                          << target_port << "']\n";
    return config;
  }
  int port_;
  testing::ChildProcess process_;
};

// The fairness monitor end to end: logins of customers of two monitored groups through
// the processor and the decision operator; one group already holds the business
// account, so that offer never reaches it. Prometheus must see the skew gauge move from
// "no data" (NaN) to -1 for that group and past the alert's bound for the other, and
// the tiles carry template messages.
TEST(Prometheus, FairnessSkewGaugeMovesWithTheTilesShown) {
  testing::TempDir dir;
  runtime::EmbeddedCluster cluster;
  runtime::ProcessorOptions options;
  cluster.CreateTopics(options.topics.All(), 2);
  options.store.dir = dir.Sub("state");
  options.http_listen = "127.0.0.1:0";
  options.metrics_interval_ms = 200;
  LogSink sink(LogSink::Format::kText, LogLevel::kWarn);
  auto registry = std::make_shared<prometheus::Registry>();
  serve::DecisionProbe probe(*registry);
  decide::DecisionOptions decision_options;
  decision_options.fairness.min_tiles = 10;
  decide::DecisionOperator decisions(decision_options, catalog::DefaultCatalog(), {}, &probe,
                                     Logger(&sink, "decide"));
  runtime::Processor processor(options, cluster.bootstrap_servers(), &sink, registry, nullptr,
                               &decisions);
  std::atomic<bool> stop{false};
  std::thread runner([&] { processor.Run(stop); });
  testing::JoinOnExit join_runner(stop, runner);
  ScrapingPrometheus prom(dir, processor.http_port());
  const std::string female =
      "intentstream_offer_parity_skew_ratio{offer=\"OFR_BUSINESS_ACCOUNT\",group=\"female\"}";
  const std::string male =
      "intentstream_offer_parity_skew_ratio{offer=\"OFR_BUSINESS_ACCOUNT\",group=\"male\"}";
  ASSERT_TRUE(testing::WaitFor([&] { return std::isnan(Query(prom.port(), female)); },
                               std::chrono::seconds(60)));
  // Query() is NaN for "no result" too: the series must exist, with a NaN value.
  ASSERT_TRUE(testing::WaitFor([&] { return Query(prom.port(), "count(" + female + ")") == 1; },
                               std::chrono::seconds(60)))
      << "the gauge is not exported before any tile";

  testing::TestProducer producer(cluster.bootstrap_servers());
  const int64_t t0 = testing::NowMs() - 120'000;
  for (int c = 0; c < 40; ++c) {
    const std::string id = "cust-" + std::to_string(c);
    auto p = testing::Profile(id, t0);
    p.set_income_band(v1::INCOME_BAND_MIDDLE);
    p.set_credit_grade(3);
    p.add_products_held("CURRENT_ACCOUNT");
    if (c % 2 == 0) p.add_products_held("BUSINESS_ACCOUNT");
    p.mutable_monitoring()->set_gender(c % 2 == 0 ? "female" : "male");
    producer.Send(options.topics.profiles, id, p.SerializeAsString());
  }
  producer.Flush();
  for (int c = 0; c < 40; ++c) {
    const std::string id = "cust-" + std::to_string(c);
    producer.Send(
        options.topics.app, id,
        testing::App("login-" + std::to_string(c), id, t0 + 1000 + c, v1::APP_ACTION_LOGIN)
            .SerializeAsString());
  }
  producer.Flush();
  EXPECT_TRUE(
      testing::WaitFor([&] { return Query(prom.port(), female) == -1; }, std::chrono::seconds(60)))
      << "the skew of the group that never sees the offer did not reach -1; last "
      << Query(prom.port(), female);
  // The skew reaches -1 with the first tiles: wait for the scrape that has every login's.
  testing::WaitFor(
      [&] {
        return Query(prom.port(), "intentstream_fairness_window_tiles{group=\"female\"}") >= 60;
      },
      std::chrono::seconds(30));
  EXPECT_GT(Query(prom.port(), male), 0.15);
  // The alert's expression holds for exactly these two series.
  EXPECT_EQ(Query(prom.port(),
                  "count(abs(intentstream_offer_parity_skew_ratio{offer=\"OFR_BUSINESS_ACCOUNT\"})"
                  " > 0.15)"),
            2);
  EXPECT_EQ(Query(prom.port(), "intentstream_fairness_window_tiles{group=\"female\"}"), 60);
  EXPECT_EQ(Query(prom.port(), "sum(intentstream_messages_total{source=\"template\"})"), 120);
  EXPECT_EQ(Query(prom.port(), "sum(intentstream_message_rephrase_total)"), 0);
  // The new families (NaN gauges included) are valid exposition format.
  const std::string path = dir.Sub("scrape.txt");
  std::ofstream(path) << testing::HttpGet(processor.http_port(), "/metrics").body;
  EXPECT_EQ(
      std::system(
          ("promtool check metrics < " + path + " > " + dir.Sub("promtool.log") + " 2>&1").c_str()),
      0)
      << "see " << dir.Sub("promtool.log");

  stop = true;
  runner.join();
}

}  // namespace
}  // namespace intentstream
