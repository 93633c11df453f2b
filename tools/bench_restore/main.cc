// intentstream-bench-restore: what the changelog (state.changelog) costs and what it buys,
// side by side in one run on the embedded mock cluster, for one journey-generator world:
//
//   1. ingest without and with the changelog (two consumer groups reading the same input):
//      events/s per processing thread and wall, and the changelog's share;
//   2. a lost volume: time until the state is current again, restoring from the
//      changelog versus rebuilding from the input topics' beginning.
//
//   intentstream-bench-restore [--days N] [--customers N] [--partitions N]
//                              [--stages core|full] [--model-dir D] [--threads N]
//
// `--stages core` (default): state only, no model. `--stages full`: the session encoder,
// intents and decision operator on the default catalogue (app::Pipeline, as `intentstream
// run` builds them) in every run, so the rebuild pays what a real one does per event and
// the changelog also carries the decision stage's state.
//
// The mock cluster keeps about 5 MiB per partition and does not compact: the world must
// fit (the bench says when a topic came close), and the changelog holds every write, not
// the latest per key as a compacted topic would (restore reads more than on a real
// cluster).
#include <prometheus/registry.h>

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include <librdkafka/rdkafkacpp.h>
#include <CLI/CLI.hpp>

#include "app/pipeline.h"
#include "bench_support/processing_cpu.h"
#include "common/logging.h"
#include "runtime/embedded_cluster.h"
#include "runtime/processor.h"
#include "sim/generator.h"
#include "state/changelog.h"

namespace {

namespace rt = intentstream::runtime;
namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

struct Flags {
  int days = 30;
  long customers = 150;
  int partitions = 8;
  std::string stages = "core";
  int threads = 0;  // processing.threads; 0: the processor's default
  std::string model_dir = "models/default";
  bool full() const { return stages == "full"; }
};

struct Run {
  rt::RunSummary summary;
  double cpu_s = 0;    // the processing threads' CPU seconds, summed
  double ready_s = 0;  // Run() start to ready (assignment and any restore done)
};

int64_t Produce(const Flags& f, const std::string& bootstrap) {
  intentstream::sim::WorldOptions w;
  w.seed = 7;
  w.days = f.days;
  w.customers = f.customers;
  intentstream::sim::Generator generator(w);
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap, err);
  conf->set("partitioner", "murmur2_random", err);
  conf->set("linger.ms", "5", err);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), err));
  intentstream::sim::Record r;
  int64_t n = 0;
  while (generator.Next(&r)) {
    const std::string topic(intentstream::sim::TopicName(r.topic));
    while (producer->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                             r.value.data(), r.value.size(), r.key.data(), r.key.size(),
                             r.event_time_ms, nullptr) == RdKafka::ERR__QUEUE_FULL) {
      producer->poll(5);
    }
    ++n;
  }
  producer->flush(60000);
  return n;
}

Run Process(const Flags& f, rt::ProcessorOptions options, const std::string& bootstrap) {
  intentstream::LogSink sink(intentstream::LogSink::Format::kText, intentstream::LogLevel::kWarn);
  auto registry = std::make_shared<prometheus::Registry>();
  Run run;
  // The catalogue and the models load before the clock starts.
  std::unique_ptr<intentstream::app::Pipeline> pipeline;
  if (f.full()) {
    options.model_dir = f.model_dir;
    pipeline = std::make_unique<intentstream::app::Pipeline>(options, &sink, registry);
  }
  rt::StageFactory stages =
      pipeline ? pipeline->Factory() : rt::StageFactory([](int) { return rt::ThreadStages{}; });
  rt::Processor processor(options, bootstrap, &sink, registry, std::move(stages));
  std::atomic<bool> stop{false}, finished{false};
  const auto started = SteadyClock::now();
  std::thread watch([&] {
    while (!finished.load() && !processor.ready()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    run.ready_s = std::chrono::duration<double>(SteadyClock::now() - started).count();
  });
  intentstream::bench::ProcessingCpu processing_cpu;
  run.summary = processor.Run(stop);
  run.cpu_s = processing_cpu.Stop().first;
  finished = true;
  watch.join();
  return run;
}

// Bytes in a topic's partitions (a warning when one nears the mock's ~5 MiB limit).
void WarnIfNearLimit(const std::string& bootstrap, const std::string& topic, int partitions) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap, err);
  conf->set("group.id", "bench-restore-probe", err);
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  int64_t most = 0;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    if (c->query_watermark_offsets(topic, p, &low, &high, 5000) == RdKafka::ERR_NO_ERROR) {
      most = std::max(most, high - low);
      if (low > 0) {
        std::printf(
            "WARNING: %s[%d] dropped its first %lld records (mock cluster limit): "
            "use a smaller world\n",
            topic.c_str(), p, static_cast<long long>(low));
      }
    }
  }
  std::printf("  %-40s %10lld records in its largest partition\n", topic.c_str(),
              static_cast<long long>(most));
  c->close();
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  CLI::App app{"intentstream-bench-restore: changelog ingest cost and restore vs rebuild"};
  app.add_option("--days", f.days, "length of the world, days")->check(CLI::Range(1, 3650));
  app.add_option("--customers", f.customers, "bank customers in the world")
      ->check(CLI::PositiveNumber);
  app.add_option("--partitions", f.partitions, "partitions per topic")->check(CLI::PositiveNumber);
  app.add_option("--stages", f.stages,
                 "core: state only; full: encoder, intents and decisions (app::Pipeline)")
      ->check(CLI::IsMember({"core", "full"}));
  app.add_option("--model-dir", f.model_dir, "model.dir for --stages full");
  app.add_option("--threads", f.threads, "processing.threads (default: the number of cores)")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);
  if (f.full() && !fs::exists(f.model_dir)) {
    std::fprintf(stderr, "--model-dir %s not found (run from the repository root)\n",
                 f.model_dir.c_str());
    return 2;
  }

  // The processing threads inherit this name (ProcessingCpu).
  intentstream::bench::NameThisThreadForProcessingCpu();
  rt::EmbeddedCluster cluster;
  const std::string bootstrap = cluster.bootstrap_servers();
  const auto base =
      fs::temp_directory_path() / ("intentstream-bench-restore-" + std::to_string(getpid()));
  auto options = [&](const std::string& group, bool changelog, const std::string& dir) {
    rt::ProcessorOptions o;
    o.group_id = group;
    o.topics.changelog_group = group;
    o.topics.handoff = rt::HandoffTopicFor(group);
    o.changelog = changelog;
    o.store.dir = (base / dir).string();
    o.http_listen = "";
    o.exit_when_idle_ms = 1500;
    if (f.threads > 0) o.threads = f.threads;
    // A member joining after another left is assigned once that session timed out.
    o.kafka_consumer["session.timeout.ms"] = "6000";
    o.kafka_consumer["heartbeat.interval.ms"] = "500";
    return o;
  };
  cluster.CreateTopics(options("plain", false, "x").topics.All(), f.partitions);
  {  // the second group's own topics: its hand-off topic and changelogs
    const auto t = options("logged", true, "x").topics;
    cluster.CreateTopic(t.handoff, f.partitions);
    for (const auto cf : intentstream::state::ChangelogStores()) {
      cluster.CreateTopic(intentstream::state::ChangelogTopic("logged", cf), f.partitions);
    }
  }
  const int64_t records = Produce(f, bootstrap);
  std::printf(
      "intentstream-bench-restore: %d-day world, %ld customers, %lld input records, %d "
      "partitions, stages %s\n",
      f.days, f.customers, static_cast<long long>(records), f.partitions, f.stages.c_str());

  // 1. Ingest, the same input, without and with the changelog.
  const Run plain = Process(f, options("plain", false, "plain"), bootstrap);
  const Run logged = Process(f, options("logged", true, "logged"), bootstrap);
  WarnIfNearLimit(bootstrap, "web-events", f.partitions);
  for (const auto cf : intentstream::state::ChangelogStores()) {
    WarnIfNearLimit(bootstrap, intentstream::state::ChangelogTopic("logged", cf), f.partitions);
  }

  // 2. Lost volume: the state directory is gone; restore from the changelog, and rebuild
  // from the input as the group without a changelog must.
  fs::remove_all(base / "logged");
  fs::remove_all(base / "plain");
  const Run restored = Process(f, options("logged", true, "logged"), bootstrap);
  const Run rebuilt = Process(f, options("plain", false, "plain"), bootstrap);
  fs::remove_all(base);

  auto per_s = [](const Run& r) {
    return static_cast<double>(r.summary.counts.accepted) / std::max(r.cpu_s, 1e-9);
  };
  std::printf("\n%-52s %14s %14s %10s\n", "ingest (same input)", "no changelog", "changelog",
              "ratio");
  std::printf("%-52s %14llu %14llu\n", "events accepted",
              static_cast<unsigned long long>(plain.summary.counts.accepted),
              static_cast<unsigned long long>(logged.summary.counts.accepted));
  std::printf("%-52s %14.0f %14.0f %10.3f\n", "events/s per processing thread (CPU)", per_s(plain),
              per_s(logged), per_s(logged) / per_s(plain));
  std::printf("%-52s %14.2f %14.2f %10.3f\n", "active wall time, s", plain.summary.active_seconds,
              logged.summary.active_seconds,
              logged.summary.active_seconds / std::max(plain.summary.active_seconds, 1e-9));
  std::printf("%-52s %14s %14llu\n", "changelog records written", "-",
              static_cast<unsigned long long>(logged.summary.changelog_records));
  std::printf("\n%-52s %14s %14s %10s\n", "lost volume -> state current again", "rebuild",
              "restore", "speed-up");
  std::printf("%-52s %14llu %14llu\n", "input events re-applied",
              static_cast<unsigned long long>(rebuilt.summary.counts.accepted),
              static_cast<unsigned long long>(restored.summary.counts.accepted));
  std::printf("%-52s %14llu %14llu\n", "outputs produced again (decisions, hand-offs, ...)",
              static_cast<unsigned long long>(rebuilt.summary.outputs),
              static_cast<unsigned long long>(restored.summary.outputs));
  std::printf("%-52s %14s %14llu\n", "changelog records restored", "-",
              static_cast<unsigned long long>(restored.summary.restored_records));
  const double rebuild_s = rebuilt.summary.active_seconds;
  const double restore_s = restored.summary.restore_seconds;
  std::printf("%-52s %14.3f %14.3f %10.1f\n", "seconds (rebuild: first input to last commit)",
              rebuild_s, restore_s, rebuild_s / std::max(restore_s, 1e-9));
  std::printf("%-52s %14.3f %14.3f\n", "Run() start to ready, s (incl. group join)",
              rebuilt.ready_s + rebuild_s, restored.ready_s);
  return restored.summary.counts.accepted == 0 ? 0 : 1;
}
