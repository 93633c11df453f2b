// intentstream-bench-ingest: the ingest -> decode -> state path against the embedded mock
// cluster, with a concurrent producer. Reports events/s per processing thread (events
// over the processing thread's CPU time), wall events/s while active, and the
// arrival-to-commit latency percentiles from the processor's own histogram.
//
// In the same run, the floor of the path's own unavoidable parts on the same events:
// protobuf parse alone (binary, or protobuf's JSON mapping for JSON input) and one
// RocksDB WriteBatch put per event of a value the size of the visitor states the run
// stored (same store options, committed as often as the run committed), and the path's
// rate as a share of what those two allow together.
//
//   intentstream-bench-ingest [--events N] [--visitors N] [--partitions N] [--batch N]
//                             [--json-percent P] [--traffic synthetic|journeys]
//                             [--mode kafka|state] [--commit-interval-ms N] [--ordering on|off]
#include <prometheus/registry.h>

#include <pthread.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <librdkafka/rdkafkacpp.h>
#include <CLI/CLI.hpp>

#include "common/cpu_time.h"
#include "common/logging.h"
#include "intentstream/v1/events.pb.h"
#include "runtime/embedded_cluster.h"
#include "runtime/processor.h"
#include "sim/generator.h"

namespace {

using intentstream::ProcessCpuSeconds;
using intentstream::ThreadCpuSeconds;

namespace rt = intentstream::runtime;
namespace v1 = intentstream::v1;

struct Flags {
  long events = 1'000'000;
  long visitors = 100'000;
  int partitions = 8;
  int batch = 2000;
  int json_percent = 0;
  bool state_only = false;  // --mode state: skip Kafka
  bool journeys = false;    // --traffic journeys: the journey generator's world
  int commit_interval_ms = 100;
  bool ordered = true;    // --ordering on|off
  bool changelog = true;  // --changelog on|off (state.changelog)
};

// Sum of a counter family's values across label sets, and a histogram's quantile as
// PromQL's histogram_quantile computes it (linear within the bucket).
struct Scrape {
  double accepted = 0;
  std::vector<std::pair<double, double>> latency_buckets;  // (upper bound, cumulative count)
};

Scrape Read(prometheus::Registry& registry) {
  Scrape s;
  for (const auto& family : registry.Collect()) {
    if (family.name == "intentstream_input_messages_total") {
      for (const auto& m : family.metric) {
        for (const auto& l : m.label) {
          if (l.name == "outcome" && l.value == "accepted") s.accepted += m.counter.value;
        }
      }
    } else if (family.name == "intentstream_processing_latency_seconds") {
      for (const auto& b : family.metric.front().histogram.bucket) {
        s.latency_buckets.emplace_back(b.upper_bound, static_cast<double>(b.cumulative_count));
      }
    }
  }
  return s;
}

double Quantile(const std::vector<std::pair<double, double>>& buckets, double q) {
  if (buckets.empty() || buckets.back().second == 0) return 0;
  const double rank = q * buckets.back().second;
  double prev_bound = 0, prev_count = 0;
  for (const auto& [bound, count] : buckets) {
    if (count >= rank) {
      if (std::isinf(bound)) return prev_bound;
      return prev_bound +
             (bound - prev_bound) * (rank - prev_count) / std::max(1.0, count - prev_count);
    }
    prev_bound = bound;
    prev_count = count;
  }
  return prev_bound;
}

// Synthetic traffic: 80% web, 20% app, visitor popularity skewed (a few heavy visitors,
// a long tail), unique event ids.
//
// With --traffic journeys the events come from the journey generator instead: a bank's
// world of customers, prospects and bots (docs/journeys.md), sized to the event count.
class Traffic {
 public:
  explicit Traffic(const Flags& f) : f_(f), rng_(42) {
    now_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    if (f.journeys) {
      intentstream::sim::WorldOptions w;
      w.seed = 42;
      w.days = 60;
      // ~470 records per customer over 60 days (measured); cap at exactly the count.
      w.customers = std::max<int64_t>(50, f.events / 400);
      w.max_records = f.events;
      generator_ = std::make_unique<intentstream::sim::Generator>(w);
    }
  }
  // Fills topic, key and payload of event i; false when the generator's world ended.
  bool Next(long i, std::string* topic, std::string* key, std::string* payload) {
    if (generator_) {
      if (!generator_->Next(&record_)) return false;
      *topic = std::string(intentstream::sim::TopicName(record_.topic));
      *key = record_.key;
      *payload = record_.value;
      return true;
    }
    const long visitor = static_cast<long>(
        std::pow(static_cast<double>(rng_() % 1'000'000) / 1e6, 2.0) * f_.visitors);
    const int64_t t = now_ms_ - 3'600'000 + i / 100;
    const bool is_app = rng_() % 5 == 0;
    if (is_app) {
      *key = "cust-" + std::to_string(visitor);
      app_.set_event_id("bench-" + std::to_string(i));
      app_.set_customer_id(*key);
      app_.mutable_event_time()->set_seconds(t / 1000);
      app_.set_action(v1::APP_ACTION_SCREEN_VIEW);
      app_.set_screen("accounts");
      app_.set_device(v1::DEVICE_IOS_APP);
      *payload = app_.SerializeAsString();
      *topic = "app-events";
    } else {
      *key = "anon-" + std::to_string(visitor);
      web_.set_event_id("bench-" + std::to_string(i));
      web_.set_anonymous_id(*key);
      web_.mutable_event_time()->set_seconds(t / 1000);
      web_.set_event_type(v1::WEB_EVENT_TYPE_PAGE_VIEW);
      web_.set_url_path("/credit-cards/p" + std::to_string(rng_() % 200));
      web_.set_device(v1::DEVICE_MOBILE_WEB);
      web_.set_channel("organic");
      web_.set_dwell_ms(static_cast<uint32_t>(rng_() % 60000));
      *payload = web_.SerializeAsString();
      *topic = "web-events";
    }
    if (static_cast<int>(rng_() % 100) < f_.json_percent) {
      payload->clear();
      (void)google::protobuf::util::MessageToJsonString(
          is_app ? static_cast<const google::protobuf::Message&>(app_) : web_, payload);
    }
    return true;
  }

 private:
  const Flags& f_;
  std::mt19937_64 rng_;
  int64_t now_ms_;
  v1::WebEvent web_;
  v1::AppEvent app_;
  std::unique_ptr<intentstream::sim::Generator> generator_;
  intentstream::sim::Record record_;
};

void Produce(const Flags& f, const std::string& bootstrap, prometheus::Registry& registry,
             std::atomic<bool>& done) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap, err);
  conf->set("partitioner", "murmur2_random", err);
  conf->set("linger.ms", "5", err);
  conf->set("batch.num.messages", "10000", err);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), err));
  // The mock cluster keeps ~5 MiB per partition: stay at most this far ahead.
  const long window = 20'000L * f.partitions;
  Traffic traffic(f);
  std::string topic, key, payload;
  const long report_every = f.events / 10;
  for (long i = 0; i < f.events; ++i) {
    if (i % 5000 == 0) {
      while (i - static_cast<long>(Read(registry).accepted) > window) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    if (!traffic.Next(i, &topic, &key, &payload)) break;
    while (producer->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                             payload.data(), payload.size(), key.data(), key.size(), 0,
                             nullptr) == RdKafka::ERR__QUEUE_FULL) {
      producer->poll(5);
    }
    producer->poll(0);
    if (report_every > 0 && (i + 1) % report_every == 0) {
      std::fprintf(stderr, "\r  produced %3ld%%", (i + 1) * 100 / f.events);
    }
  }
  producer->flush(60000);
  std::fprintf(stderr, "\n");
  done = true;
}

// The visitor values a run stored (at most `max`), to put again in the floor: real values
// compress and compact as the run's did.
std::vector<std::string> StoredVisitorValues(const intentstream::state::StateStore& store,
                                             size_t max = 100000) {
  std::vector<std::string> values;
  store.ForEach(intentstream::state::Cf::kSessions, [&](std::string_view, std::string_view v) {
    if (values.size() < max) values.emplace_back(v);
  });
  return values;
}

// Parses one input payload the way the decoder does before validation: the topic's
// message, binary or protobuf's JSON mapping. False when it does not parse.
bool ParseOnly(const std::string& topic, const std::string& payload, v1::WebEvent* web,
               v1::AppEvent* app, v1::IdentityLink* link, v1::CustomerProfile* profile) {
  google::protobuf::Message* m = web;
  if (topic == "app-events") m = app;
  if (topic == "identity-links") m = link;
  if (topic == "customer-profiles") m = profile;
  if (!payload.empty() && payload[0] == '{') {
    return google::protobuf::util::JsonStringToMessage(payload, m).ok();
  }
  return m->ParseFromString(payload);
}

struct Floor {
  double parse_per_s = 0;
  double put_per_s = 0;
  double value_bytes = 0;  // mean of the values put
  double per_s = 0;        // both parts, one after the other, per event
};

// The floor on the same events as the run (a fresh Traffic of the same flags). Each event
// puts one of the run's stored values, in turn, under its own visitor's key.
Floor MeasureFloor(const Flags& f, const rt::ProcessorOptions& options,
                   const std::vector<std::string>& values, long events_per_commit) {
  Traffic traffic(f);
  std::vector<std::string> topics, keys, payloads;
  std::string topic, key, payload;
  for (long i = 0; i < f.events && traffic.Next(i, &topic, &key, &payload); ++i) {
    topics.push_back(topic);
    keys.push_back("a/" + key);
    payloads.push_back(payload);
  }
  Floor floor;
  for (const auto& v : values) floor.value_bytes += static_cast<double>(v.size());
  floor.value_bytes /= std::max<double>(1, static_cast<double>(values.size()));
  {
    v1::WebEvent web;
    v1::AppEvent app;
    v1::IdentityLink link;
    v1::CustomerProfile profile;
    size_t parsed = 0;
    const double t0 = ThreadCpuSeconds();
    for (size_t i = 0; i < payloads.size(); ++i) {
      parsed += ParseOnly(topics[i], payloads[i], &web, &app, &link, &profile) ? 1 : 0;
    }
    floor.parse_per_s = static_cast<double>(parsed) / (ThreadCpuSeconds() - t0);
  }
  {
    const auto dir = std::filesystem::path(options.store.dir + "-floor");
    std::filesystem::remove_all(dir);
    auto store_options = options.store;
    store_options.dir = dir.string();
    intentstream::state::StateStore store(store_options);
    auto writes = store.NewWriteSet();
    const std::string none;
    const double t0 = ThreadCpuSeconds();
    for (size_t i = 0; i < keys.size(); ++i) {
      writes.Put(intentstream::state::Cf::kSessions, keys[i],
                 values.empty() ? none : values[i % values.size()]);
      if ((static_cast<long>(i) + 1) % std::max(1L, events_per_commit) == 0) {
        store.Commit(writes);
        writes.Clear();
      }
    }
    store.Commit(writes);
    floor.put_per_s = static_cast<double>(keys.size()) / (ThreadCpuSeconds() - t0);
  }
  std::filesystem::remove_all(options.store.dir + "-floor");
  floor.per_s = 1.0 / (1.0 / floor.parse_per_s + 1.0 / floor.put_per_s);
  return floor;
}

void PrintFloor(const Floor& floor, double path_per_s, long events_per_commit) {
  std::printf("\n%-44s %14s\n", "floor of the path's parts (same events)", "value");
  std::printf("%-44s %14.0f\n", "protobuf parse alone, events/s", floor.parse_per_s);
  std::printf("%-44s %14.0f\n", "mean stored visitor value, bytes", floor.value_bytes);
  std::printf("%-44s %14ld\n", "events per commit", events_per_commit);
  std::printf("%-44s %14.0f\n", "WriteBatch put per event alone, events/s", floor.put_per_s);
  std::printf("%-44s %14.0f\n", "floor (parse + put per event), events/s", floor.per_s);
  std::printf("%-44s %13.1f%%\n", "path events/s per thread / floor",
              100 * path_per_s / floor.per_s);
}

intentstream::ingest::TopicKind KindOf(const std::string& topic) {
  using K = intentstream::ingest::TopicKind;
  if (topic == "app-events") return K::kApp;
  if (topic == "identity-links") return K::kLink;
  if (topic == "customer-profiles") return K::kProfile;
  return K::kWeb;
}

// The state path alone: the same traffic handed straight to the BatchProcessor, committed
// every `batch` messages. The difference to the Kafka run is the client's share.
int RunStateOnly(const Flags& f, const rt::ProcessorOptions& options) {
  intentstream::state::StateStore store(options.store);
  rt::BatchProcessor batch(options, store, nullptr, nullptr, nullptr, "bench");
  Traffic traffic(f);
  std::vector<std::string> topics(static_cast<size_t>(f.batch)), keys(topics.size()),
      payloads(topics.size());
  std::vector<rt::InputMessage> inputs;
  std::vector<rt::OutputMessage> outputs;
  rt::BatchCounts counts;
  double cpu = 0;
  for (long i = 0; i < f.events;) {
    inputs.clear();
    for (int j = 0; j < f.batch && i < f.events; ++j, ++i) {
      if (!traffic.Next(i, &topics[j], &keys[j], &payloads[j])) {
        i = f.events;
        break;
      }
      inputs.push_back({KindOf(topics[j]), topics[j], intentstream::Partition{0},
                        intentstream::Offset{i}, keys[j], payloads[j], 0});
    }
    const double t0 = ThreadCpuSeconds();
    batch.ApplyMessages(inputs,
                        std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count(),
                        &outputs, &counts);
    auto& commit = batch.TakeWrites();
    store.Commit(commit.writes);
    cpu += ThreadCpuSeconds() - t0;
  }
  std::printf("\n%-44s %14s\n", "figure (state path only, no Kafka)", "value");
  std::printf("%-44s %14llu\n", "events applied", static_cast<unsigned long long>(counts.accepted));
  std::printf("%-44s %14.2f\n", "apply+commit CPU, s", cpu);
  std::printf("%-44s %14.0f\n", "events/s (state path, one thread)", counts.accepted / cpu);
  const Floor floor = MeasureFloor(f, options, StoredVisitorValues(store), f.batch);
  PrintFloor(floor, counts.accepted / cpu, f.batch);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  CLI::App app{"intentstream-bench-ingest: Kafka -> decode -> order -> state, events/s per thread"};
  app.add_option("--events", f.events, "events to produce")->check(CLI::PositiveNumber);
  app.add_option("--visitors", f.visitors, "synthetic visitors")->check(CLI::PositiveNumber);
  app.add_option("--partitions", f.partitions, "partitions per topic")->check(CLI::PositiveNumber);
  app.add_option("--batch", f.batch, "processing.batch_max_messages")->check(CLI::PositiveNumber);
  app.add_option("--json-percent", f.json_percent, "share of JSON input")
      ->check(CLI::Range(0, 100));
  app.add_option("--commit-interval-ms", f.commit_interval_ms, "processing.commit_interval_ms")
      ->check(CLI::NonNegativeNumber);
  std::string mode = "kafka", traffic = "synthetic", ordering = "on";
  app.add_option("--mode", mode, "kafka: the whole loop; state: the state path alone")
      ->check(CLI::IsMember({"kafka", "state"}));
  app.add_option("--traffic", traffic, "synthetic (skewed) or journeys (the generator's world)")
      ->check(CLI::IsMember({"synthetic", "journeys"}));
  app.add_option("--ordering", ordering,
                 "event-time ordering per task (processing.event_time_order); off only to "
                 "measure its cost")
      ->check(CLI::IsMember({"on", "off"}));
  std::string changelog = "on";
  app.add_option("--changelog", changelog,
                 "write each commit's state to the changelog topics (state.changelog); off "
                 "to measure its cost (tools/bench_restore reports it side by side)")
      ->check(CLI::IsMember({"on", "off"}));
  CLI11_PARSE(app, argc, argv);
  f.changelog = changelog == "on";
  f.state_only = mode == "state";
  f.journeys = traffic == "journeys";
  f.ordered = ordering == "on";
  rt::EmbeddedCluster cluster;
  rt::ProcessorOptions options;
  cluster.CreateTopics(options.topics.All(), f.partitions);
  const auto dir =
      std::filesystem::temp_directory_path() / ("intentstream-bench-" + std::to_string(getpid()));
  options.store.dir = dir.string();
  options.http_listen = "";
  options.batch_max_messages = f.batch;
  options.commit_interval_ms = f.commit_interval_ms;
  options.exit_when_idle_ms = 1500;
  options.kafka_consumer["fetch.wait.max.ms"] = "10";
  options.event_time_order = f.ordered;
  options.changelog = f.changelog;

  if (f.state_only) {
    const int rc = RunStateOnly(f, options);
    std::filesystem::remove_all(dir);
    return rc;
  }
  intentstream::LogSink sink(intentstream::LogSink::Format::kText, intentstream::LogLevel::kWarn);
  auto registry = std::make_shared<prometheus::Registry>();
  std::printf(
      "intentstream-bench-ingest: %ld events (%s), %d partitions, batch %d, %d%% JSON, "
      "event-time ordering %s, changelog %s\n",
      f.events, f.journeys ? "journey generator world" : "synthetic skewed visitors", f.partitions,
      f.batch, f.json_percent, f.ordered ? "on" : "off", f.changelog ? "on" : "off");
  std::atomic<bool> produced{false};
  double cpu_before = 0, cpu_after = 0, proc_before = 0, proc_after = 0;
  rt::RunSummary summary;
  {
    rt::Processor processor(options, cluster.bootstrap_servers(), &sink, registry, nullptr,
                            nullptr);
    std::thread producer([&] { Produce(f, cluster.bootstrap_servers(), *registry, produced); });
    std::atomic<bool> stop{false};
    cpu_before = ThreadCpuSeconds();
    proc_before = ProcessCpuSeconds();
    summary = processor.Run(stop);
    cpu_after = ThreadCpuSeconds();
    proc_after = ProcessCpuSeconds();
    producer.join();
  }
  const Scrape s = Read(*registry);
  std::vector<std::string> values;
  {
    auto read_options = options.store;
    read_options.read_only = true;
    values = StoredVisitorValues(intentstream::state::StateStore(read_options));
  }
  const double events = static_cast<double>(summary.counts.accepted);
  const double cpu = cpu_after - cpu_before;
  std::printf("\n%-44s %14s\n", "figure", "value");
  std::printf("%-44s %14.0f\n", "events processed", events);
  std::printf("%-44s %14.2f\n", "processing thread CPU, s", cpu);
  std::printf("%-44s %14.0f\n", "events/s per processing thread (CPU)", events / cpu);
  std::printf("%-44s %14.2f\n", "active wall time, s", summary.active_seconds);
  std::printf("%-44s %14.0f\n", "events/s wall (whole process, 2 cores)",
              events / summary.active_seconds);
  std::printf("%-44s %14.2f\n", "process CPU incl. broker+producer, s", proc_after - proc_before);
  std::printf("%-44s %14.2f\n", "latency p50 arrival->commit, ms",
              1000 * Quantile(s.latency_buckets, 0.50));
  std::printf("%-44s %14.2f\n", "latency p99 arrival->commit, ms",
              1000 * Quantile(s.latency_buckets, 0.99));
  std::printf("%-44s %14llu\n", "state commits", static_cast<unsigned long long>(summary.commits));
  std::printf("%-44s %14llu\n", "late records (ordering)",
              static_cast<unsigned long long>(summary.scheduler.late));
  std::printf("%-44s %8llu / %llu\n", "idle waits / enforced",
              static_cast<unsigned long long>(summary.scheduler.idle_waits),
              static_cast<unsigned long long>(summary.scheduler.enforced));
  const long per_commit =
      static_cast<long>(events / std::max<double>(1, static_cast<double>(summary.commits)));
  const Floor floor = MeasureFloor(f, options, values, per_commit);
  PrintFloor(floor, events / cpu, per_commit);
  std::filesystem::remove_all(dir);
  return summary.counts.accepted >= static_cast<uint64_t>(f.events) ? 0 : 1;
}
