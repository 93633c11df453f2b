// intentstream: the processor's command line. Thin: parse flags, build options, call the
// runtime library.
#include <prometheus/registry.h>
#include <CLI/CLI.hpp>

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app/pipeline.h"
#include "catalog/catalog.h"
#include "common/config.h"
#include "common/logging.h"
#include "decide/options.h"
#include "llm/chat_client.h"
#include "runtime/embedded_cluster.h"
#include "runtime/options.h"
#include "runtime/processor.h"
#include "runtime/replay.h"
#include "serve/metric_readout.h"
#include "sim/generator.h"
#include "sim/kafka_output.h"

namespace {

using intentstream::ConfigError;
using intentstream::Logger;
using intentstream::LogSink;
namespace rt = intentstream::runtime;

// Printed after CLI11's generated help.
constexpr const char* kFooter = R"(
Environment: INTENTSTREAM_<KEY> (upper case, '.' as '_') overrides the file; any other
INTENTSTREAM_ variable is an error, except INTENTSTREAM_HTTP_AUTH_TOKEN (the bearer
token of /v1/..., instead of http.auth_token_file).
Any librdkafka property can be given as kafka.<name>, kafka.consumer.<name> or
kafka.producer.<name> (TLS, SASL, tuning). SIGINT/SIGTERM drain, commit and exit.
Precedence, lowest first: defaults, --config, environment, the shorthands --embedded and
--exit-when-idle-ms, then each --set in order.
)";

struct RunFlags {
  std::string config_file;
  std::vector<std::string> assignments;
  std::string replay_dir;  // empty: no replay
  bool generate = false;
  // A small world by default: the demo should finish in seconds.
  intentstream::sim::WorldOptions world = [] {
    intentstream::sim::WorldOptions w;
    w.customers = 500;
    w.days = 14;
    return w;
  }();
  double rate_per_s = 20000;
  std::string decisions_out;
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
  SignalHandler(std::atomic<bool>& stop, int64_t shutdown_timeout_ms)
      : shutdown_timeout_ms_(shutdown_timeout_ms) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    waiter_ = std::thread([this, &stop] {
      while (true) {
        int sig = 0;
        sigwait(&set_, &sig);
        if (done_.load()) return;
        if (sig == SIGHUP) {
          std::lock_guard lock(reload_mu_);
          if (on_reload_) on_reload_();
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

  // What SIGHUP does from now on (a catalogue reload).
  void OnReload(std::function<void()> fn) {
    std::lock_guard lock(reload_mu_);
    on_reload_ = std::move(fn);
  }

 private:
  std::mutex reload_mu_;  // guards on_reload_: set by main, called on the waiter thread
  std::function<void()> on_reload_;
  sigset_t set_;
  int64_t shutdown_timeout_ms_;
  std::atomic<bool> done_{false};
  std::thread waiter_;
};

// Where the processing thread's time went, from the processor's own stage histograms
// (intentstream_stage_seconds): the operator's cost per event next to the encoder's,
// measured in the same run.
void PrintSummary(const rt::RunSummary& s, const prometheus::Registry& registry) {
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
  std::printf("  %-28s %12d\n", "processing threads", s.threads);
  intentstream::serve::PrintStageTimes(stdout, registry, c.accepted);
}

int Run(const RunFlags& flags) {
  rt::ProcessorOptions options = rt::LoadProcessorOptions(flags.config_file, flags.assignments,
                                                          intentstream::app::Pipeline::StageKeys());
  LogSink sink(options.log_format == "json" ? LogSink::Format::kJson : LogSink::Format::kText,
               options.log_level == "debug"   ? intentstream::LogLevel::kDebug
               : options.log_level == "warn"  ? intentstream::LogLevel::kWarn
               : options.log_level == "error" ? intentstream::LogLevel::kError
                                              : intentstream::LogLevel::kInfo);
  Logger log(&sink, "main");

  std::atomic<bool> stop{false};
  SignalHandler signals(stop, options.shutdown_timeout_ms);
  auto registry = std::make_shared<prometheus::Registry>();
  // The catalogue and models fail fast here, naming the key, file and line.
  intentstream::app::Pipeline pipeline(options, &sink, registry,
                                       {.decisions_out = flags.decisions_out});
  signals.OnReload([&pipeline] { pipeline.RequestReload(); });

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

  if (!flags.replay_dir.empty()) {
    rt::ReplayDirectory(flags.replay_dir, options.topics, bootstrap, log);
  }

  rt::Processor processor(options, bootstrap, &sink, registry, pipeline.Factory());
  std::optional<TrafficFeed> feed;
  if (flags.generate) feed.emplace(flags, bootstrap, stop, log);
  const rt::RunSummary summary = processor.Run(stop);
  stop = true;  // ends the feed early if the processor stopped first
  feed.reset();
  PrintSummary(summary, *registry);
  if (!pipeline.decisions_out().empty()) {
    std::printf("  %-28s %12llu  (%s)\n", "decisions written",
                static_cast<unsigned long long>(pipeline.decisions_written()),
                pipeline.decisions_out().c_str());
  }
  return 0;
}

int PrintConfigReference() {
  std::fputs(intentstream::OptionsReference(rt::ProcessorOptionSpecs()).c_str(), stdout);
  std::puts("\nDecision stage (catalogue, policy, triggers):\n");
  std::fputs(intentstream::OptionsReference(intentstream::decide::DecisionOptionSpecs()).c_str(),
             stdout);
  std::puts(
      "\nChat-completions endpoint of decision.messages.rephrase (the same client as "
      "intentstream-teach's LLM teacher; the key comes from INTENTSTREAM_LLM_API_KEY):\n");
  std::fputs(intentstream::OptionsReference(intentstream::llm::ChatOptionSpecs()).c_str(), stdout);
  std::puts(
      "\nAny librdkafka property: `kafka.<name>` (consumer and producer), "
      "`kafka.consumer.<name>`, `kafka.producer.<name>`.");
  return 0;
}

int Main(int argc, char** argv) {
  CLI::App app{"intentstream - streaming intent and next-best-offer processor"};
  app.footer(kFooter);
  app.require_subcommand(1);
  auto* version = app.add_subcommand("version", "print the version");
  auto* help_config =
      app.add_subcommand("help-config", "print every configuration key with its default");
  auto* run = app.add_subcommand("run", "consume the input topics and process them");

  RunFlags flags;
  bool embedded = false;
  int64_t exit_when_idle_ms = -1;
  std::vector<std::string> sets;
  run->add_option("--config", flags.config_file, "properties file (key = value lines)")
      ->check(CLI::ExistingFile);
  run->add_option("--set", sets, "override one key, KEY=VALUE (repeatable); highest precedence")
      ->allow_extra_args(false);
  run->add_flag("--embedded", embedded,
                "start librdkafka's mock Kafka cluster in-process, create the topics and "
                "print its bootstrap address (for kcat)");
  auto* replay = run->add_option(
      "--replay", flags.replay_dir,
      "produce DIR/{customer-profiles,web-events,identity-links,app-events}.jsonl into "
      "the input topics before processing");
  auto* generate = run->add_flag("--generate", flags.generate,
                                 "produce the journey generator's synthetic bank traffic into "
                                 "the input topics while processing (docs/journeys.md)");
  replay->excludes(generate);
  run->add_option("--customers", flags.world.customers, "customers in the generated world")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000'000));
  run->add_option("--days", flags.world.days, "days of activity")
      ->capture_default_str()
      ->check(CLI::Range(1, 3650));
  run->add_option("--rate", flags.rate_per_s, "records per second, 0 = as fast as possible")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e7));
  run->add_option("--seed", flags.world.seed, "generator seed")->capture_default_str();
  run->add_option("--exit-when-idle-ms", exit_when_idle_ms,
                  "exit once all partitions are drained and idle for N ms")
      ->check(CLI::Range(int64_t{0}, int64_t{86'400'000}));
  run->add_option("--decisions-out", flags.decisions_out,
                  "also write every decision (as produced to the decisions topic) to FILE, one "
                  "JSON object per line (protobuf's JSON mapping), for intentstream-evaluate "
                  "--decisions");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help is a ParseError that exits 0; a flag error exits 2, as configuration does.
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (version->parsed()) {
    std::printf("intentstream %s\n", rt::Processor::Version().c_str());
    return 0;
  }
  if (help_config->parsed()) return PrintConfigReference();
  if (embedded) flags.assignments.push_back("embedded=true");
  if (exit_when_idle_ms >= 0) {
    flags.assignments.push_back("processing.exit_when_idle_ms=" +
                                std::to_string(exit_when_idle_ms));
  }
  flags.assignments.insert(flags.assignments.end(), sets.begin(), sets.end());
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
