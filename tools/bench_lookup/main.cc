// intentstream-bench-lookup: latency of the synchronous decision lookup,
// GET /v1/decisions/{customer_id}?placement=home, on loopback, measured side by side
// with GET /healthz (the HTTP floor: the same server, connection and client, no lookup).
//
// It starts the embedded mock cluster, produces a generated world (the journey
// generator), runs the processor with the decision stage until every record is applied,
// then sends the requests from one keep-alive client, interleaving the two kinds, and
// prints percentiles of each and their ratio.
//
//   intentstream-bench-lookup [--customers N] [--days N] [--requests N] [--seed N]
#include <httplib.h>
#include <prometheus/registry.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "common/logging.h"
#include "decide/decision_operator.h"
#include "runtime/embedded_cluster.h"
#include "runtime/processor.h"
#include "serve/decision_probe.h"
#include "sim/generator.h"
#include "sim/kafka_output.h"

namespace {

namespace rt = intentstream::runtime;
using Clock = std::chrono::steady_clock;

struct Flags {
  int64_t customers = 500;
  int32_t days = 14;
  int requests = 20000;
  uint64_t seed = 1;
};

double Accepted(prometheus::Registry& registry) {
  double n = 0;
  for (const auto& family : registry.Collect()) {
    if (family.name != "intentstream_input_messages_total") continue;
    for (const auto& m : family.metric) {
      for (const auto& l : m.label) {
        if (l.name == "outcome" && (l.value == "accepted" || l.value == "duplicate")) {
          n += m.counter.value;
        }
      }
    }
  }
  return n;
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  return v[i];
}

int Run(const Flags& flags) {
  intentstream::LogSink sink(intentstream::LogSink::Format::kText, intentstream::LogLevel::kWarn);
  rt::EmbeddedCluster cluster;
  rt::ProcessorOptions options;
  cluster.CreateTopics(options.topics.All(), 4);
  char dir_template[] = "/tmp/intentstream-bench-lookup-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  options.store.dir = std::string(dir_template) + "/state";
  options.http_listen = "127.0.0.1:0";

  // The world, produced before the processor starts (a backfill).
  intentstream::sim::WorldOptions world;
  world.customers = flags.customers;
  world.days = flags.days;
  world.seed = flags.seed;
  std::set<std::string> customers;
  uint64_t produced = 0;
  {
    intentstream::sim::KafkaOutputOptions out_opts;
    out_opts.bootstrap = cluster.bootstrap_servers();
    std::string error;
    auto out = intentstream::sim::KafkaOutput::Create(out_opts, &error);
    if (!out) {
      std::fprintf(stderr, "producer: %s\n", error.c_str());
      return 1;
    }
    intentstream::sim::Generator generator(world);
    intentstream::sim::Record record;
    while (generator.Next(&record)) {
      if (!out->Produce(record, &error)) {
        std::fprintf(stderr, "produce: %s\n", error.c_str());
        return 1;
      }
      if (record.topic == intentstream::sim::Topic::kApp) customers.insert(record.key);
      ++produced;
    }
    if (out->Flush(60000) != 0) {
      std::fprintf(stderr, "produce: not everything was delivered\n");
      return 1;
    }
  }
  std::printf("world: %lld customers, %d days, %llu records produced\n",
              static_cast<long long>(flags.customers), flags.days,
              static_cast<unsigned long long>(produced));

  auto registry = std::make_shared<prometheus::Registry>();
  intentstream::serve::DecisionProbe probe(*registry);
  intentstream::decide::DecisionOperator op(
      intentstream::decide::DecisionOptions{}, intentstream::catalog::DefaultCatalog(),
      intentstream::decide::DecisionModels{}, &probe, intentstream::Logger(&sink, "decide"));
  rt::Processor processor(options, cluster.bootstrap_servers(), &sink, registry, nullptr, &op);
  std::atomic<bool> stop{false};
  std::thread runner([&] { processor.Run(stop); });
  const auto start = Clock::now();
  while (Accepted(*registry) < static_cast<double>(produced)) {
    if (Clock::now() - start > std::chrono::minutes(10)) {
      std::fprintf(stderr, "the processor did not apply the world within 10 minutes\n");
      stop = true;
      runner.join();
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::printf("applied in %.1f s\n", std::chrono::duration<double>(Clock::now() - start).count());

  httplib::Client client("127.0.0.1", processor.http_port());
  client.set_keep_alive(true);
  // Customers with a homepage decision: every app customer logs in at least once in a
  // two-week world, but check rather than assume.
  std::vector<std::string> ids;
  for (const auto& c : customers) {
    auto r = client.Get("/v1/decisions/" + c + "?placement=home");
    if (r && r->status == 200) ids.push_back(c);
  }
  if (ids.empty()) {
    std::fprintf(stderr, "no customer has a decision\n");
    stop = true;
    runner.join();
    return 1;
  }
  std::mt19937_64 rng(flags.seed);
  std::vector<double> lookup_us, health_us;
  lookup_us.reserve(static_cast<size_t>(flags.requests));
  health_us.reserve(static_cast<size_t>(flags.requests));
  size_t bytes = 0, failures = 0;
  for (int i = 0; i < flags.requests + 500; ++i) {  // the first 500 of each warm up
    const std::string path = "/v1/decisions/" + ids[rng() % ids.size()] + "?placement=home";
    auto t0 = Clock::now();
    auto r = client.Get(path);
    auto t1 = Clock::now();
    auto h = client.Get("/healthz");
    auto t2 = Clock::now();
    if (!r || r->status != 200 || !h || h->status != 200) {
      ++failures;
      continue;
    }
    if (i < 500) continue;
    bytes += r->body.size();
    lookup_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    health_us.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
  }
  stop = true;
  runner.join();

  std::printf(
      "\n%d requests of each, one keep-alive connection, %zu customers with a "
      "decision, %zu failed\n\n",
      flags.requests, ids.size(), failures);
  std::printf("%-34s %10s %10s %10s %10s\n", "request", "p50 us", "p99 us", "p99.9 us", "bytes");
  std::printf("%-34s %10.1f %10.1f %10.1f %10zu\n", "GET /v1/decisions/{id}?placement=home",
              Percentile(lookup_us, 0.5), Percentile(lookup_us, 0.99), Percentile(lookup_us, 0.999),
              lookup_us.empty() ? 0 : bytes / lookup_us.size());
  std::printf("%-34s %10.1f %10.1f %10.1f %10s\n", "GET /healthz (the HTTP floor)",
              Percentile(health_us, 0.5), Percentile(health_us, 0.99), Percentile(health_us, 0.999),
              "-");
  std::printf("%-34s %10.2f %10.2f %10.2f\n", "ratio",
              Percentile(lookup_us, 0.5) / Percentile(health_us, 0.5),
              Percentile(lookup_us, 0.99) / Percentile(health_us, 0.99),
              Percentile(lookup_us, 0.999) / Percentile(health_us, 0.999));
  std::error_code ec;
  std::filesystem::remove_all(dir_template, ec);
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"Latency of GET /v1/decisions on loopback, next to /healthz"};
  app.add_option("--customers", flags.customers, "customers in the generated world")
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--days", flags.days, "days in the generated world")->check(CLI::Range(1, 365));
  app.add_option("--requests", flags.requests, "requests of each kind")
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--seed", flags.seed, "world and request seed");
  CLI11_PARSE(app, argc, argv);
  return Run(flags);
}
