// A real Prometheus (Debian's `prometheus`) scrapes the processor on loopback while
// traffic flows through the embedded mock cluster; PromQL over its HTTP API must find
// the expected series and see them move. The scrape also passes `promtool check metrics`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <chrono>
#include <cstdio>
#include <fstream>
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
  LogSink sink(LogSink::Format::kText, LogLevel::kWarn);
  runtime::Processor processor(options, cluster.bootstrap_servers(), &sink,
                               std::make_shared<prometheus::Registry>(), nullptr, nullptr);
  std::atomic<bool> stop{false};
  std::thread runner([&] { processor.Run(stop); });

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

}  // namespace
}  // namespace intentstream
