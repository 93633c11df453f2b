// intentstream: the processor's command line. Thin: parse flags, build options, call the
// runtime library.
#include <prometheus/registry.h>

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "common/config.h"
#include "common/logging.h"
#include "decide/decision_operator.h"
#include "model/blas_probe.h"
#include "model/incremental_encoder.h"
#include "runtime/embedded_cluster.h"
#include "runtime/options.h"
#include "runtime/processor.h"
#include "runtime/replay.h"
#include "serve/decision_probe.h"
#include "sim/generator.h"
#include "sim/kafka_output.h"

namespace {

using intentstream::ConfigError;
using intentstream::Logger;
using intentstream::LogSink;
namespace rt = intentstream::runtime;

constexpr const char* kUsage = R"(intentstream - streaming intent and next-best-offer processor

usage:
  intentstream run [--config FILE] [--set KEY=VALUE]... [--embedded]
                   [--replay DIR | --generate [--customers N] [--days N] [--rate N]
                   [--seed N]] [--exit-when-idle-ms N]
  intentstream help-config     print every configuration key with its default
  intentstream version

run options:
  --config FILE          properties file (key = value lines)
  --set KEY=VALUE        override one key (repeatable); highest precedence
  --embedded             start librdkafka's mock Kafka cluster in-process, create the
                         topics and print its bootstrap address (for kcat)
  --replay DIR           produce DIR/{customer-profiles,web-events,identity-links,
                         app-events}.jsonl into the input topics before processing
  --generate             produce the journey generator's synthetic bank traffic
                         into the input topics while processing (docs/journeys.md):
    --customers N        customers in the generated world (default 500)
    --days N             days of activity (default 14)
    --rate N             records per second, 0 = as fast as possible (default 20000)
    --seed N             generator seed (default 1)
  --exit-when-idle-ms N  exit once all partitions are drained and idle for N ms

Environment: INTENTSTREAM_<KEY> (upper case, '.' as '_') overrides the file; any other
INTENTSTREAM_ variable is an error, except INTENTSTREAM_HTTP_AUTH_TOKEN (the bearer
token of /v1/..., instead of http.auth_token_file).
Any librdkafka property can be given as kafka.<name>, kafka.consumer.<name> or
kafka.producer.<name> (TLS, SASL, tuning). SIGINT/SIGTERM drain, commit and exit.
)";

struct RunFlags {
  std::string config_file;
  std::vector<std::string> assignments;
  std::optional<std::string> replay_dir;
  bool generate = false;
  // A small world by default: the demo should finish in seconds.
  intentstream::sim::WorldOptions world = [] {
    intentstream::sim::WorldOptions w;
    w.customers = 500;
    w.days = 14;
    return w;
  }();
  double rate_per_s = 20000;
};

// Feeds generated traffic to Kafka on its own thread while the processor runs.
class TrafficFeed {
 public:
  TrafficFeed(const RunFlags& flags, const std::string& bootstrap, const std::atomic<bool>& stop,
              const Logger& log)
      : thread_([&flags, bootstrap, &stop, log] {
          intentstream::sim::KafkaOutputOptions out_opts;
          out_opts.bootstrap = bootstrap;
          out_opts.rate_per_s = flags.rate_per_s;
          std::string error;
          auto out = intentstream::sim::KafkaOutput::Create(out_opts, &error);
          if (!out) {
            log.Error("traffic generator: cannot create producer", {{"error", error}});
            return;
          }
          intentstream::sim::Generator generator(flags.world);
          intentstream::sim::Record record;
          uint64_t produced = 0;
          while (!stop.load() && generator.Next(&record)) {
            if (!out->Produce(record, &error)) {
              log.Error("traffic generator: produce failed", {{"error", error}});
              break;
            }
            if (++produced % 100000 == 0) {
              log.Info("traffic generator", {{"produced", std::to_string(produced)},
                                             {"day", std::to_string(generator.current_day() + 1) +
                                                         "/" + std::to_string(generator.days())}});
            }
          }
          out->Flush(30000);
          log.Info("traffic generator finished", {{"produced", std::to_string(produced)},
                                                  {"delivered", std::to_string(out->delivered())}});
        }) {}
  ~TrafficFeed() { thread_.join(); }

 private:
  std::thread thread_;
};

// Blocks SIGINT/SIGTERM/SIGHUP in every thread and handles them on a waiter thread: no
// async-signal-unsafe work in a handler, no global flag. SIGINT/SIGTERM set `stop`; the
// process then has `shutdown_timeout_ms` to drain and exit, after which it exits anyway
// (state stands at its last commit, so nothing is lost), and a second signal exits at
// once. SIGHUP asks for a catalogue reload.
class SignalHandler {
 public:
  SignalHandler(std::atomic<bool>& stop, std::atomic<bool>& reload, int64_t shutdown_timeout_ms)
      : shutdown_timeout_ms_(shutdown_timeout_ms) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    waiter_ = std::thread([this, &stop, &reload] {
      while (true) {
        int sig = 0;
        sigwait(&set_, &sig);
        if (done_.load()) return;
        if (sig == SIGHUP) {
          reload = true;
          continue;
        }
        if (stop.exchange(true)) {
          std::fputs("intentstream: second signal, exiting now\n", stderr);
          std::_Exit(1);
        }
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(shutdown_timeout_ms_);
        while (!done_.load() && std::chrono::steady_clock::now() < deadline) {
          // A second signal while draining is handled by the sigwait above once this
          // wait ends; poll for it here so it is immediate.
          timespec zero{0, 0};
          siginfo_t info;
          if (sigtimedwait(&set_, &info, &zero) > 0 && info.si_signo != SIGHUP) {
            std::fputs("intentstream: second signal, exiting now\n", stderr);
            std::_Exit(1);
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        if (!done_.load()) {
          std::fprintf(stderr,
                       "intentstream: did not stop within processing.shutdown_timeout_ms (%lld "
                       "ms); exiting (state stands at its last commit)\n",
                       static_cast<long long>(shutdown_timeout_ms_));
          std::_Exit(1);
        }
        return;
      }
    });
  }
  ~SignalHandler() {
    done_ = true;
    pthread_kill(waiter_.native_handle(), SIGTERM);  // wake the waiter if no signal came
    waiter_.join();
  }

 private:
  sigset_t set_;
  int64_t shutdown_timeout_ms_;
  std::atomic<bool> done_{false};
  std::thread waiter_;
};

void PrintSummary(const rt::RunSummary& s, const rt::Processor& p) {
  (void)p;
  const auto& c = s.counts;
  std::printf("\n== intentstream run summary (%s after %.1f s)\n", s.stop_reason.c_str(),
              s.seconds);
  std::printf("  %-28s %12llu\n", "input accepted", static_cast<unsigned long long>(c.accepted));
  std::printf("  %-28s %12llu\n", "input duplicates dropped",
              static_cast<unsigned long long>(c.duplicates));
  std::printf("  %-28s %12llu\n", "dead letters", static_cast<unsigned long long>(c.dead_letters));
  std::printf("  %-28s %12llu\n", "identity hand-offs sent",
              static_cast<unsigned long long>(c.handoffs_sent));
  std::printf("  %-28s %12llu\n", "identity hand-offs merged",
              static_cast<unsigned long long>(c.handoffs_merged));
  std::printf("  %-28s %12llu\n", "decisions", static_cast<unsigned long long>(c.decisions));
  std::printf("  %-28s %12llu\n", "triggers", static_cast<unsigned long long>(c.triggers));
  std::printf("  %-28s %12llu\n", "outputs produced", static_cast<unsigned long long>(s.outputs));
  std::printf("  %-28s %12llu\n", "state commits", static_cast<unsigned long long>(s.commits));
}

int Run(const RunFlags& flags) {
  std::vector<std::string> decision_keys;
  for (const auto& spec : intentstream::decide::DecisionOptionSpecs()) {
    if (spec.apply) decision_keys.push_back(spec.key);
  }
  rt::ProcessorOptions options =
      rt::LoadProcessorOptions(flags.config_file, flags.assignments, decision_keys);
  const auto decision_options = intentstream::decide::LoadDecisionOptions(options.stage_properties);
  // The catalogue fails fast at start, naming file, line and field.
  const auto catalog = decision_options.catalog_dir.empty()
                           ? intentstream::catalog::DefaultCatalog()
                           : intentstream::catalog::LoadCatalog(decision_options.catalog_dir);
  intentstream::decide::DecisionOperator::CheckOptions(decision_options, *catalog);
  LogSink sink(options.log_format == "json" ? LogSink::Format::kJson : LogSink::Format::kText,
               options.log_level == "debug"   ? intentstream::LogLevel::kDebug
               : options.log_level == "warn"  ? intentstream::LogLevel::kWarn
               : options.log_level == "error" ? intentstream::LogLevel::kError
                                              : intentstream::LogLevel::kInfo);
  Logger log(&sink, "main");

  std::atomic<bool> stop{false};
  std::atomic<bool> reload{false};
  SignalHandler signals(stop, reload, options.shutdown_timeout_ms);
  log.Info("catalogue loaded", {{"version", catalog->version()},
                                {"taxonomy", catalog->taxonomy_version()},
                                {"origin", catalog->origin()},
                                {"offers", std::to_string(catalog->offers().size())}});

  std::unique_ptr<rt::EmbeddedCluster> cluster;
  std::string bootstrap;
  if (options.embedded) {
    cluster = std::make_unique<rt::EmbeddedCluster>();
    cluster->CreateTopics(options.topics.All(), options.embedded_partitions);
    bootstrap = cluster->bootstrap_servers();
    log.Info("embedded Kafka cluster started", {{"bootstrap", bootstrap}});
    std::fprintf(stderr,
                 "\n  embedded Kafka (mock cluster) at %s\n"
                 "  try: kcat -b %s -L\n"
                 "       kcat -b %s -C -t %s -e\n\n",
                 bootstrap.c_str(), bootstrap.c_str(), bootstrap.c_str(),
                 options.topics.dead_letters.c_str());
  } else {
    auto it = options.kafka_common.find("bootstrap.servers");
    bootstrap = it != options.kafka_common.end() ? it->second
                                                 : options.kafka_consumer.at("bootstrap.servers");
  }

  if (flags.replay_dir) {
    rt::ReplayDirectory(*flags.replay_dir, options.topics, bootstrap, log);
  }

  std::unique_ptr<intentstream::model::IncrementalEncoder> encoder;
  if (!options.model_dir.empty()) {
    // One processing thread: LibTorch's own pool would compete with it for the cores.
    intentstream::model::SetComputeThreads(1);
    const auto blas = intentstream::model::ProbeBlas();
    if (blas.reference_blas) {
      log.Error(
          "SLOW REFERENCE BLAS IN USE: embeddings will be ~20x slower; install "
          "libopenblas0-openmp (tools/setup.sh)",
          {{"blas", blas.Summary()}});
    } else {
      log.Info("blas", {{"summary", blas.Summary()}});
    }
    auto model = intentstream::model::SessionModel::Load(options.model_dir);
    intentstream::model::IncrementalEncoderOptions encoder_options;
    encoder_options.cache_capacity = options.model_cache_visitors;
    encoder = std::make_unique<intentstream::model::IncrementalEncoder>(std::move(model),
                                                                        encoder_options);
    log.Info("session encoder loaded",
             {{"model_version", encoder->model_version()}, {"dir", options.model_dir}});
  }

  auto registry = std::make_shared<prometheus::Registry>();
  intentstream::serve::DecisionProbe decision_probe(*registry);
  intentstream::decide::DecisionModels models;
  models.encoder_version = encoder ? encoder->model_version() : "";
  intentstream::decide::DecisionOperator decision_operator(
      decision_options, catalog, models, &decision_probe, Logger(&sink, "decide"), &reload);
  rt::Processor processor(options, bootstrap, &sink, registry, encoder.get(), &decision_operator);
  std::optional<TrafficFeed> feed;
  if (flags.generate) feed.emplace(flags, bootstrap, stop, log);
  const rt::RunSummary summary = processor.Run(stop);
  stop = true;  // ends the feed early if the processor stopped first
  feed.reset();
  PrintSummary(summary, processor);
  return 0;
}

int Main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  if (command == "version") {
    std::printf("intentstream %s\n", rt::Processor::Version().c_str());
    return 0;
  }
  if (command == "help-config") {
    std::fputs(intentstream::OptionsReference(rt::ProcessorOptionSpecs()).c_str(), stdout);
    std::puts("\nDecision stage (catalogue, policy, triggers):\n");
    std::fputs(intentstream::OptionsReference(intentstream::decide::DecisionOptionSpecs()).c_str(),
               stdout);
    std::puts(
        "\nAny librdkafka property: `kafka.<name>` (consumer and producer), "
        "`kafka.consumer.<name>`, `kafka.producer.<name>`.");
    return 0;
  }
  if (command != "run") {
    std::fprintf(stderr, "intentstream: unknown command '%s'\n\n%s", command.c_str(), kUsage);
    return 2;
  }
  RunFlags flags;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* name) -> std::string {
      if (i + 1 >= argc) throw ConfigError(name, "flag needs a value");
      return argv[++i];
    };
    if (arg == "--config") {
      flags.config_file = value("--config");
    } else if (arg == "--set") {
      flags.assignments.push_back(value("--set"));
    } else if (arg == "--embedded") {
      flags.assignments.push_back("embedded=true");
    } else if (arg == "--replay") {
      flags.replay_dir = value("--replay");
    } else if (arg == "--generate") {
      flags.generate = true;
    } else if (arg == "--customers") {
      flags.world.customers =
          intentstream::ParseInt("--customers", value("--customers"), 1, 10'000'000);
    } else if (arg == "--days") {
      flags.world.days =
          static_cast<int32_t>(intentstream::ParseInt("--days", value("--days"), 1, 3650));
    } else if (arg == "--rate") {
      flags.rate_per_s =
          static_cast<double>(intentstream::ParseInt("--rate", value("--rate"), 0, 10'000'000));
    } else if (arg == "--seed") {
      flags.world.seed =
          static_cast<uint64_t>(intentstream::ParseInt("--seed", value("--seed"), 0, INT64_MAX));
    } else if (arg == "--exit-when-idle-ms") {
      flags.assignments.push_back("processing.exit_when_idle_ms=" + value("--exit-when-idle-ms"));
    } else {
      std::fprintf(stderr, "intentstream: unknown flag '%s' (see --help)\n", arg.c_str());
      return 2;
    }
  }
  if (flags.generate && flags.replay_dir) {
    throw ConfigError("--generate", "use either --generate or --replay, not both");
  }
  if (const std::string err = flags.world.Validate(); !err.empty())
    throw ConfigError("--generate", err);
  return Run(flags);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "intentstream: invalid configuration: %s\n", e.what());
    return 2;
  } catch (const intentstream::catalog::CatalogError& e) {
    std::fprintf(stderr, "intentstream: invalid catalogue: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "intentstream: fatal: %s\n", e.what());
    return 1;
  }
}
