// intentstream-bench-ingest: the ingest path against the embedded mock cluster, with a
// concurrent producer. `--stages core` (default) is decode -> order -> state; `--stages
// full` adds the session encoder (model.dir), the intents and the decision operator on
// the default catalogue, as `intentstream run` builds them (app::Pipeline). Reports
// events/s per processing thread (events over the processing threads' CPU time), wall
// events/s while active and per core (events over the process's CPU time), the share of
// time per stage, and the latency percentiles from the processor's own histograms:
// arrival -> commit and (full) event -> decision delivery.
//
// `--load-percent 50,90`: after the unthrottled run, one run per level producing at that
// share of the measured maximum (a steady rate), reporting the latencies under load.
// `--report issue14`: the full path's figures at one thread, its latencies at 50% and
// 90% of its maximum, and one against two processing threads.
//
// Core mode also measures the floor of the path's own unavoidable parts on the same
// events: protobuf parse alone (binary, or protobuf's JSON mapping for JSON input) and
// one RocksDB WriteBatch put per event of a value the size of the visitor states the run
// stored (same store options, committed as often as the run committed), and the path's
// rate as a share of what those two allow together.
//
//   intentstream-bench-ingest [--events N] [--visitors N] [--partitions N] [--batch N]
//                             [--json-percent P] [--traffic synthetic|journeys]
//                             [--mode kafka|state] [--commit-interval-ms N] [--ordering on|off]
//                             [--stages core|full] [--model-dir D] [--threads N]
//                             [--load-percent P[,P...]] [--paced-events N] [--linger-ms N]
//                             [--report issue14]
#include <prometheus/registry.h>

#include <pthread.h>
#include <time.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <librdkafka/rdkafkacpp.h>
#include <CLI/CLI.hpp>

#include "app/pipeline.h"
#include "bench_support/processing_cpu.h"
#include "common/cpu_time.h"
#include "common/logging.h"
#include "intentstream/v1/events.pb.h"
#include "runtime/embedded_cluster.h"
#include "runtime/processor.h"
#include "serve/metric_readout.h"
#include "sim/generator.h"

namespace {

using intentstream::ProcessCpuSeconds;
using intentstream::ThreadCpuSeconds;

namespace IS = intentstream;
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
  bool full = false;      // --stages full: encoder, intents and decisions too
  std::string model_dir = "models/default";
  int threads = 1;                 // processing.threads
  std::vector<int> load_percents;  // paced runs after the unthrottled one
  long paced_events = 0;           // events per paced run; 0: --events
  int linger_ms = -1;              // the outputs' producer linger.ms; -1: the default
};

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

double Accepted(const prometheus::Registry& registry) {
  return intentstream::serve::CounterSum(registry, "intentstream_input_messages_total", "outcome",
                                         "accepted");
}

// The events of one run, generated before it starts (the journey world takes a while to
// build, and a pace must not wait on the generator).
struct Events {
  std::vector<std::string> topics, keys, payloads;
  size_t size() const { return topics.size(); }
};

Events Generate(const Flags& f, long events) {
  Events e;
  Traffic traffic(f);
  std::string topic, key, payload;
  for (long i = 0; i < events && traffic.Next(i, &topic, &key, &payload); ++i) {
    e.topics.push_back(topic);
    e.keys.push_back(key);
    e.payloads.push_back(payload);
  }
  return e;
}

// Produces the events, at `rate` events/s when rate > 0 (a steady pace: event i leaves at
// start + i / rate), else as fast as the processor takes them. Returns how many it
// produced.
long Produce(const Flags& f, const Events& input, double rate, const std::string& label,
             const std::string& bootstrap, prometheus::Registry& registry,
             const std::function<bool()>& ready) {
  IS::bench::SetThreadName("bench-producer");
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap, err);
  conf->set("partitioner", "murmur2_random", err);
  // Paced: each event leaves when it is due (no batching delay to skew the pace).
  conf->set("linger.ms", rate > 0 ? "0" : "5", err);
  conf->set("batch.num.messages", "10000", err);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), err));
  // The mock cluster keeps ~5 MiB per partition: stay at most this far ahead.
  const long window = 20'000L * f.partitions;
  const long events = static_cast<long>(input.size());
  const auto send = [&](size_t i) {
    while (producer->produce(input.topics[i], RdKafka::Topic::PARTITION_UA,
                             RdKafka::Producer::RK_MSG_COPY,
                             const_cast<char*>(input.payloads[i].data()), input.payloads[i].size(),
                             input.keys[i].data(), input.keys[i].size(), 0,
                             nullptr) == RdKafka::ERR__QUEUE_FULL) {
      producer->poll(5);
    }
    producer->poll(0);
  };
  if (events == 0) return 0;
  // The first event at once (the processor exits when its partitions are drained and
  // idle: it must find input when it gets them), the rest from when it has them: a pace
  // that starts during the group join would hand it a backlog, not a steady rate.
  send(0);
  producer->flush(10000);
  while (!ready()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const long report_every = std::max(1L, events / 20);
  const auto start = std::chrono::steady_clock::now();
  long i = 1;
  for (; i < events; ++i) {
    if (i % 5000 == 0) {
      while (i - static_cast<long>(Accepted(registry)) > window) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    if (rate > 0) {
      const auto due =
          start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                      std::chrono::duration<double>(static_cast<double>(i - 1) / rate));
      if (due > std::chrono::steady_clock::now()) {
        producer->poll(0);
        std::this_thread::sleep_until(due);
      }
    }
    send(static_cast<size_t>(i));
    if ((i + 1) % report_every == 0) {
      std::fprintf(stderr, "\r  %s: produced %3ld%%", label.c_str(), (i + 1) * 100 / events);
    }
  }
  producer->flush(60000);
  std::fprintf(stderr, "\r  %s: produced %ld events, processing the rest\n", label.c_str(), i);
  return i;
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

rt::ProcessorOptions MakeOptions(const Flags& f, const std::filesystem::path& dir, int threads) {
  rt::ProcessorOptions options;
  options.store.dir = dir.string();
  options.http_listen = "";
  options.batch_max_messages = f.batch;
  options.commit_interval_ms = f.commit_interval_ms;
  options.exit_when_idle_ms = 1500;
  options.kafka_consumer["fetch.wait.max.ms"] = "10";
  options.event_time_order = f.ordered;
  options.changelog = f.changelog;
  options.threads = threads;
  if (f.linger_ms >= 0) options.kafka_producer["linger.ms"] = std::to_string(f.linger_ms);
  if (f.full) options.model_dir = f.model_dir;
  return options;
}

struct RunResult {
  rt::RunSummary summary;
  int threads = 1;
  long produced = 0;
  double target_rate = 0;     // paced runs: events/s asked of the producer; 0: unthrottled
  double processing_cpu = 0;  // the processing threads' CPU seconds, summed
  int processing_threads_seen = 0;
  double process_cpu = 0;  // the whole process: threads, broker, producer
  IS::serve::HistogramReadout commit_latency, decision_latency;
  std::vector<std::pair<std::string, double>> stages;
  std::vector<std::string> values;  // core: stored visitor values, for the floor

  double events() const { return static_cast<double>(summary.counts.accepted); }
  double wall_per_s() const { return events() / std::max(1e-9, summary.active_seconds); }
  double per_thread_per_s() const { return events() / std::max(1e-9, processing_cpu); }
  double per_core_per_s() const { return events() / std::max(1e-9, process_cpu); }
};

// One run on a fresh cluster and state directory: `events` events at `rate` events/s
// (0: as fast as they are taken), `threads` processing threads.
RunResult RunKafka(const Flags& f, int threads, long events, double rate,
                   const std::string& label) {
  rt::EmbeddedCluster cluster;
  const auto dir =
      std::filesystem::temp_directory_path() / ("intentstream-bench-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  const rt::ProcessorOptions options = MakeOptions(f, dir, threads);
  cluster.CreateTopics(options.topics.All(), f.partitions);
  IS::LogSink sink(IS::LogSink::Format::kText, IS::LogLevel::kWarn);
  auto registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<IS::app::Pipeline> pipeline;
  if (f.full) pipeline = std::make_unique<IS::app::Pipeline>(options, &sink, registry);
  RunResult r;
  r.threads = threads;
  r.target_rate = rate;
  std::fprintf(stderr, "  %s: generating %ld events\n", label.c_str(), events);
  const Events input = Generate(f, events);
  {
    rt::StageFactory stages =
        pipeline ? pipeline->Factory() : rt::StageFactory([](int) { return rt::ThreadStages{}; });
    rt::Processor processor(options, cluster.bootstrap_servers(), &sink, registry,
                            std::move(stages));
    std::thread producer([&] {
      r.produced = Produce(f, input, rate, label, cluster.bootstrap_servers(), *registry,
                           [&] { return processor.ready(); });
    });
    std::atomic<bool> stop{false};
    IS::bench::ProcessingCpu processing_cpu;
    const double proc_before = ProcessCpuSeconds();
    r.summary = processor.Run(stop);
    r.process_cpu = ProcessCpuSeconds() - proc_before;
    std::tie(r.processing_cpu, r.processing_threads_seen) = processing_cpu.Stop();
    producer.join();
  }
  r.commit_latency = IS::serve::ReadHistogram(*registry, "intentstream_processing_latency_seconds");
  r.decision_latency = IS::serve::ReadHistogram(*registry, "intentstream_decision_latency_seconds",
                                                "output", "decision");
  r.stages = IS::serve::StageSeconds(*registry);
  if (!f.full) {
    auto read_options = options.store;
    read_options.read_only = true;
    r.values = StoredVisitorValues(IS::state::StateStore(read_options));
  }
  std::filesystem::remove_all(dir);
  return r;
}

std::string Ms(const IS::serve::HistogramReadout& h, double q) {
  if (h.count == 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", 1000 * IS::serve::Quantile(h, q));
  return buf;
}

void PrintStages(const RunResult& r) {
  double total = 0;
  for (const auto& [stage, seconds] : r.stages) total += seconds;
  if (total <= 0 || r.events() == 0) return;
  std::printf("\n%-28s %12s %12s %8s\n", "time per stage", "seconds", "us/event", "share");
  for (const auto& [stage, seconds] : r.stages) {
    std::printf("  %-26s %12.3f %12.2f %7.1f%%\n", stage.c_str(), seconds,
                seconds * 1e6 / r.events(), 100.0 * seconds / total);
  }
}

void PrintRun(const RunResult& r, bool full) {
  const auto& s = r.summary;
  std::printf("\n%-48s %14s\n", "figure", "value");
  std::printf("%-48s %14.0f\n", "events processed", r.events());
  if (full) {
    std::printf("%-48s %14llu\n", "decisions", static_cast<unsigned long long>(s.counts.decisions));
    std::printf("%-48s %14llu\n", "triggers", static_cast<unsigned long long>(s.counts.triggers));
  }
  std::printf("%-48s %14d\n", "processing threads", s.threads);
  std::printf("%-48s %14.2f\n", "processing threads' CPU, s", r.processing_cpu);
  std::printf("%-48s %14.0f\n", "events/s per processing thread (CPU)", r.per_thread_per_s());
  std::printf("%-48s %14.2f\n", "active wall time, s", s.active_seconds);
  std::printf("%-48s %14.0f\n", "events/s wall (whole process)", r.wall_per_s());
  std::printf("%-48s %14.2f\n", "process CPU incl. broker+producer, s", r.process_cpu);
  std::printf("%-48s %14.0f\n", "events/s per core (process CPU)", r.per_core_per_s());
  std::printf("%-48s %14s\n", "latency p50 arrival->commit, ms",
              Ms(r.commit_latency, 0.50).c_str());
  std::printf("%-48s %14s\n", "latency p99 arrival->commit, ms",
              Ms(r.commit_latency, 0.99).c_str());
  if (full) {
    std::printf("%-48s %14s\n", "latency p50 event->decision delivered, ms",
                Ms(r.decision_latency, 0.50).c_str());
    std::printf("%-48s %14s\n", "latency p99 event->decision delivered, ms",
                Ms(r.decision_latency, 0.99).c_str());
  }
  std::printf("%-48s %14llu\n", "state commits", static_cast<unsigned long long>(s.commits));
  std::printf("%-48s %14llu\n", "late records (ordering)",
              static_cast<unsigned long long>(s.scheduler.late));
  std::printf("%-48s %8llu / %llu\n", "idle waits / enforced",
              static_cast<unsigned long long>(s.scheduler.idle_waits),
              static_cast<unsigned long long>(s.scheduler.enforced));
  PrintStages(r);
}

// The latencies under a steady load, one line per paced run.
void PrintPaced(const RunResult& max, const std::vector<RunResult>& paced) {
  std::printf("\nlatency under load (max %.0f events/s wall at %d thread%s; ms)\n",
              max.wall_per_s(), max.threads, max.threads == 1 ? "" : "s");
  std::printf("%-6s %10s %10s %10s | %-26s | %-26s\n", "load", "target/s", "achieved/s",
              "decisions", "event->decision delivered", "arrival->commit");
  std::printf("%-6s %10s %10s %10s | %8s %8s %8s | %8s %8s %8s\n", "", "", "", "", "p50", "p99",
              "p99.9", "p50", "p99", "p99.9");
  for (const auto& r : paced) {
    char load[16];
    std::snprintf(load, sizeof load, "%.0f%%", 100 * r.target_rate / max.wall_per_s());
    std::printf("%-6s %10.0f %10.0f %10.0f | %8s %8s %8s | %8s %8s %8s\n", load, r.target_rate,
                r.wall_per_s(), r.decision_latency.count, Ms(r.decision_latency, 0.50).c_str(),
                Ms(r.decision_latency, 0.99).c_str(), Ms(r.decision_latency, 0.999).c_str(),
                Ms(r.commit_latency, 0.50).c_str(), Ms(r.commit_latency, 0.99).c_str(),
                Ms(r.commit_latency, 0.999).c_str());
  }
}

void PrintThreadsCompared(const RunResult& one, const RunResult& two) {
  std::printf("\n%-40s %12s %12s %8s\n", "full path, unthrottled", "1 thread", "2 threads",
              "ratio");
  const auto line = [](const char* what, double a, double b) {
    std::printf("%-40s %12.0f %12.0f %8.2f\n", what, a, b, b / std::max(1e-9, a));
  };
  line("events/s wall", one.wall_per_s(), two.wall_per_s());
  line("events/s per processing thread (CPU)", one.per_thread_per_s(), two.per_thread_per_s());
  line("events/s per core (process CPU)", one.per_core_per_s(), two.per_core_per_s());
  std::printf("%-40s %12.2f %12.2f\n", "processing threads' CPU, s", one.processing_cpu,
              two.processing_cpu);
  std::printf("(%u cores on this machine)\n", std::thread::hardware_concurrency());
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  CLI::App app{
      "intentstream-bench-ingest: Kafka -> decode -> order -> state (-> encoder -> decisions), "
      "events/s per thread and latencies"};
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
  std::string stages = "core";
  app.add_option("--stages", stages,
                 "core: decode, order, state; full: also the session encoder, intents and "
                 "decisions (app::Pipeline; use --traffic journeys for decisions)")
      ->check(CLI::IsMember({"core", "full"}));
  app.add_option("--model-dir", f.model_dir, "model.dir for --stages full");
  app.add_option("--threads", f.threads, "processing.threads")->check(CLI::Range(1, 64));
  app.add_option("--load-percent", f.load_percents,
                 "after the unthrottled run, paced runs at these shares of its events/s")
      ->delimiter(',')
      ->check(CLI::Range(1, 100));
  app.add_option("--paced-events", f.paced_events, "events per paced run (default: --events)")
      ->check(CLI::PositiveNumber);
  app.add_option("--linger-ms", f.linger_ms,
                 "linger.ms of the outputs' producer (kafka.producer.linger.ms); default: the "
                 "processor's")
      ->check(CLI::NonNegativeNumber);
  std::string report;
  app.add_option("--report", report,
                 "issue14: full path at 1 thread with stage shares, its latencies at 50% and "
                 "90% of its maximum, 1 against 2 threads (journeys traffic)")
      ->check(CLI::IsMember({"issue14"}));
  CLI11_PARSE(app, argc, argv);
  const bool issue14 = report == "issue14";
  f.changelog = changelog == "on";
  f.state_only = mode == "state";
  f.journeys = traffic == "journeys" || issue14;
  f.ordered = ordering == "on";
  f.full = stages == "full" || issue14;
  if (issue14) {
    if (app.count("--events") == 0) f.events = 200'000;
    if (app.count("--paced-events") == 0) f.paced_events = 80'000;
    f.load_percents = {50, 90};
    f.threads = 1;
  }
  if (f.paced_events == 0) f.paced_events = f.events;
  if (f.full && !std::filesystem::exists(f.model_dir)) {
    std::fprintf(stderr, "--model-dir %s not found (run from the repository root)\n",
                 f.model_dir.c_str());
    return 2;
  }
  // The processing threads inherit this name (ProcessingCpu).
  IS::bench::NameThisThreadForProcessingCpu();

  if (f.state_only) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("intentstream-bench-" + std::to_string(getpid()));
    const rt::ProcessorOptions options = MakeOptions(f, dir, 1);
    const int rc = RunStateOnly(f, options);
    std::filesystem::remove_all(dir);
    return rc;
  }
  std::printf(
      "intentstream-bench-ingest: %ld events (%s), stages %s%s, %d partitions, batch %d, %d%% "
      "JSON, event-time ordering %s, changelog %s, output linger.ms %s\n",
      f.events, f.journeys ? "journey generator world" : "synthetic skewed visitors",
      f.full ? "full (model.dir " : "core", f.full ? (f.model_dir + ")").c_str() : "", f.partitions,
      f.batch, f.json_percent, f.ordered ? "on" : "off", f.changelog ? "on" : "off",
      f.linger_ms >= 0 ? std::to_string(f.linger_ms).c_str() : "default");
  bool complete = true;
  const auto check = [&](const RunResult& r) {
    complete = complete && r.summary.counts.accepted >= static_cast<uint64_t>(r.produced);
  };
  const std::string max_label =
      "unthrottled, " + std::to_string(f.threads) + " thread" + (f.threads == 1 ? "" : "s");
  const RunResult max = RunKafka(f, f.threads, f.events, 0, max_label);
  check(max);
  if (issue14) std::printf("\n== full path, unthrottled, 1 processing thread\n");
  PrintRun(max, f.full);
  if (!f.full && f.load_percents.empty()) {
    const long per_commit = static_cast<long>(
        max.events() / std::max<double>(1, static_cast<double>(max.summary.commits)));
    const auto dir =
        std::filesystem::temp_directory_path() / ("intentstream-bench-" + std::to_string(getpid()));
    const Floor floor = MeasureFloor(f, MakeOptions(f, dir, 1), max.values, per_commit);
    PrintFloor(floor, max.per_thread_per_s(), per_commit);
  }
  if (!f.load_percents.empty()) {
    std::vector<RunResult> paced;
    for (const int p : f.load_percents) {
      const double rate = max.wall_per_s() * p / 100.0;
      paced.push_back(RunKafka(f, f.threads, f.paced_events, rate,
                               "paced at " + std::to_string(p) + "% (" +
                                   std::to_string(static_cast<long>(rate)) + " events/s)"));
      check(paced.back());
    }
    if (issue14) std::printf("\n== full path, paced, 1 processing thread\n");
    PrintPaced(max, paced);
  }
  if (issue14) {
    const RunResult two = RunKafka(f, 2, f.events, 0, "unthrottled, 2 threads");
    check(two);
    std::printf("\n== full path, unthrottled, 2 processing threads\n");
    PrintRun(two, true);
    std::printf("\n== 1 against 2 processing threads\n");
    PrintThreadsCompared(max, two);
  }
  return complete ? 0 : 1;
}
