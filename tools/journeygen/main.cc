// intentstream-journeygen: generates a synthetic bank world (docs/journeys.md) into
// train / validation / test files with ground truth, and/or produces it to Kafka.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "sim/closed_loop.h"
#include "sim/flags.h"
#include "sim/generator.h"
#include "sim/kafka_output.h"
#include "sim/stats_report.h"
#include "sim/world_writer.h"

namespace {

constexpr char kUsage[] = R"(usage: intentstream-journeygen [flags]

World (same values => byte-identical output):
  --seed N                  random seed (default 1)
  --customers N             bank customers (default 1000)
  --days N                  simulated days (default 30)
  --prospect-ratio X        non-customer web visitors per customer (default 0.5)
  --bot-ratio X             crawlers/scanners per customer (default 0.01)
  --intent-rate X           daily probability to start an intent episode (default 0.03)
  --intents a,b,...         only these intents occur (default: all)
  --app-sessions-per-day X  mean app sessions per day of an average user (default 0.7)
  --web-sessions-per-day X  mean web sessions per day without an intent (default 0.12)
  --activity-sigma X        heavy-user skew, log-normal sigma (default 0.8)
  --start-time-ms N|now     world start, Unix ms (default 1767571200000 = 2026-01-05);
                            "now": the world ends at the last UTC midnight
  --max-events N            stop after N records (default 0 = no limit)
Files:
  --out DIR                 write DIR/{train,validation,test,truth}
  --validation-start-day N  first validation day (default 50% of --days)
  --test-start-day N        first test day (default 70% of --days)
Kafka:
  --bootstrap HOST:PORT     produce to web-events, app-events, identity-links, customer-profiles
  --rate N                  records per second (default 0 = unlimited)
  --topic-prefix P          prefix for the topic names (default none)
  --kafka-property K=V,...  librdkafka properties passed through (e.g. compression.type=lz4)
Closed loop (needs --bootstrap; docs/closed-loop.md):
  --closed-loop             customers answer the processor's homepage tiles: each app
                            session waits for its decision before it goes on
  --decisions-topic T       where the processor's decisions are (default decisions)
  --decision-wait-ms N      longest wait per step for its decisions (default 5000);
                            then the bank's policy, counted as a miss
  --step-minutes N          simulated time per step (default 60)
  --holdout-percent X       the processor's decision.holdout_percent (default 5)
  --bank-share X            customers shown the bank's policy (default 0.25)
  --oracle-share X          customers shown the active intent's tile (default 0.25)
Other:
  --dry-run                 generate and count only (timing)
  --quiet                   no progress output
  --help
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace intentstream;
  sim::Flags flags(argc, argv,
                   {"--seed",
                    "--customers",
                    "--days",
                    "--prospect-ratio",
                    "--bot-ratio",
                    "--intent-rate",
                    "--intents",
                    "--app-sessions-per-day",
                    "--web-sessions-per-day",
                    "--activity-sigma",
                    "--start-time-ms",
                    "--max-events",
                    "--out",
                    "--validation-start-day",
                    "--test-start-day",
                    "--bootstrap",
                    "--rate",
                    "--topic-prefix",
                    "--kafka-property",
                    "--closed-loop",
                    "--decisions-topic",
                    "--decision-wait-ms",
                    "--step-minutes",
                    "--holdout-percent",
                    "--bank-share",
                    "--oracle-share",
                    "--dry-run",
                    "--quiet",
                    "--help"},
                   {"--dry-run", "--quiet", "--help", "--closed-loop"});
  if (flags.Bool("--help")) {
    std::cout << kUsage;
    return 0;
  }
  sim::WorldOptions world;
  world.seed = flags.Number<uint64_t>("--seed", world.seed);
  world.customers = flags.Number<int64_t>("--customers", world.customers);
  world.days = flags.Number<int32_t>("--days", world.days);
  world.prospect_ratio = flags.Number<double>("--prospect-ratio", world.prospect_ratio);
  world.bot_ratio = flags.Number<double>("--bot-ratio", world.bot_ratio);
  world.intent_start_rate = flags.Number<double>("--intent-rate", world.intent_start_rate);
  world.intents = flags.List("--intents");
  world.app_sessions_per_day =
      flags.Number<double>("--app-sessions-per-day", world.app_sessions_per_day);
  world.web_sessions_per_day =
      flags.Number<double>("--web-sessions-per-day", world.web_sessions_per_day);
  world.activity_sigma = flags.Number<double>("--activity-sigma", world.activity_sigma);
  if (flags.String("--start-time-ms", "") == "now") {
    // The world ends at the last UTC midnight, so its events are recent (and not in
    // the future) for a processor that checks event-time skew. Reproducible only on
    // the same date.
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    world.start_time_ms =
        sim::StartEndingAtLastMidnight(now_ms, flags.Number<int32_t>("--days", world.days));
  } else {
    world.start_time_ms = flags.Number<int64_t>("--start-time-ms", world.start_time_ms);
  }
  world.max_records = flags.Number<int64_t>("--max-events", world.max_records);
  sim::SplitOptions split;
  split.out_dir = flags.String("--out", "");
  split.validation_start_day = flags.Number<int32_t>("--validation-start-day", -1);
  split.test_start_day = flags.Number<int32_t>("--test-start-day", -1);
  if (flags.Has("--validation-start-day") && split.validation_start_day < 0) {
    std::cerr << "error: --validation-start-day must be >= 0\n";
    return 2;
  }
  if (flags.Has("--test-start-day") && split.test_start_day < 0) {
    std::cerr << "error: --test-start-day must be >= 0\n";
    return 2;
  }
  sim::KafkaOutputOptions kafka;
  kafka.bootstrap = flags.String("--bootstrap", "");
  kafka.rate_per_s = flags.Number<double>("--rate", 0.0);
  kafka.topic_prefix = flags.String("--topic-prefix", "");
  kafka.properties = flags.List("--kafka-property");
  sim::ClosedLoopOptions loop;
  loop.enabled = flags.Bool("--closed-loop");
  loop.holdout_percent = flags.Number<double>("--holdout-percent", loop.holdout_percent);
  loop.bank_share = flags.Number<double>("--bank-share", loop.bank_share);
  loop.oracle_share = flags.Number<double>("--oracle-share", loop.oracle_share);
  loop.step_ms = flags.Number<int64_t>("--step-minutes", loop.step_ms / 60'000) * 60'000;
  sim::ClosedLoopRunOptions loop_run;
  loop_run.decisions_topic = flags.String("--decisions-topic", loop_run.decisions_topic);
  loop_run.decision_wait_ms = flags.Number<int>("--decision-wait-ms", loop_run.decision_wait_ms);
  const bool quiet = flags.Bool("--quiet");
  if (!flags.error().empty()) {
    std::cerr << "error: " << flags.error() << "\n";
    return 2;
  }
  if (const std::string error = world.Validate(); !error.empty()) {
    std::cerr << "error: " << error << "\n";
    return 2;
  }
  if (loop.enabled) {
    if (const std::string e = loop.Validate(); !e.empty()) {
      std::cerr << "error: " << e << "\n";
      return 2;
    }
    if (kafka.bootstrap.empty()) {
      std::cerr << "error: --closed-loop needs --bootstrap HOST:PORT\n";
      return 2;
    }
    if (loop_run.decision_wait_ms < 0) {
      std::cerr << "error: --decision-wait-ms must be >= 0\n";
      return 2;
    }
  }
  if (!(kafka.rate_per_s >= 0)) {
    std::cerr << "error: --rate must be >= 0 (got " << kafka.rate_per_s << ")\n";
    return 2;
  }
  if (split.out_dir.empty() && kafka.bootstrap.empty() && !flags.Bool("--dry-run")) {
    std::cerr << "error: give --out DIR and/or --bootstrap HOST:PORT, or --dry-run (see --help)\n";
    return 2;
  }

  std::unique_ptr<sim::WorldWriter> writer;
  std::string error;
  if (!split.out_dir.empty()) {
    if (error = split.Resolve(world); !error.empty()) {
      std::cerr << "error: " << error << "\n";
      return 2;
    }
    writer = sim::WorldWriter::Open(world, split, &error);
    if (!writer) {
      std::cerr << "error: " << error << "\n";
      return 2;
    }
  }
  std::unique_ptr<sim::KafkaOutput> kafka_out;
  if (!kafka.bootstrap.empty()) {
    kafka_out = sim::KafkaOutput::Create(kafka, &error);
    if (!kafka_out) {
      std::cerr << "error: " << error << "\n";
      return 2;
    }
  }

  const auto started = std::chrono::steady_clock::now();
  auto elapsed_s = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  sim::Generator generator(world, writer.get(), loop);
  sim::Record record;
  uint64_t records = 0;
  int32_t reported_day = -1;
  std::unique_ptr<sim::ClosedLoop> closed_loop;
  if (loop.enabled) {
    loop_run.bootstrap = kafka.bootstrap;
    loop_run.properties = kafka.properties;
    closed_loop = sim::ClosedLoop::Create(loop_run, &error);
    if (!closed_loop) {
      std::cerr << "error: " << error << "\n";
      return 2;
    }
    auto also = [&](const sim::Record& r, std::string* e) {
      ++records;
      return !writer || writer->Write(r, e);
    };
    auto progress = [&](const sim::ClosedLoopStats& s) {
      if (quiet || generator.current_day() == reported_day) return;
      reported_day = generator.current_day();
      std::fprintf(stderr, "\rday %d/%d  records %llu  visits %llu  misses %llu  %.1f s  ",
                   reported_day, generator.days(), static_cast<unsigned long long>(records),
                   static_cast<unsigned long long>(s.visits),
                   static_cast<unsigned long long>(s.misses), elapsed_s());
    };
    if (!closed_loop->Run(generator, *kafka_out, also, progress, &error)) {
      std::cerr << "error: " << error << "\n";
      return 1;
    }
  }
  while (!loop.enabled && generator.Next(&record)) {
    ++records;
    if (writer && !writer->Write(record, &error)) {
      std::cerr << "error: " << error << "\n";
      return 1;
    }
    if (kafka_out && !kafka_out->Produce(record, &error)) {
      std::cerr << "error: " << error << "\n";
      return 1;
    }
    if (!quiet && generator.current_day() != reported_day) {
      reported_day = generator.current_day();
      std::fprintf(stderr, "\rday %d/%d  records %llu  %.1f s  ", reported_day, generator.days(),
                   static_cast<unsigned long long>(records), elapsed_s());
    }
  }
  if (writer && !writer->Close(&error)) {
    std::cerr << "error: " << error << "\n";
    return 1;
  }
  const double generated_s = elapsed_s();
  if (!quiet) std::fprintf(stderr, "\n");
  int undelivered = 0;
  if (kafka_out) {
    undelivered = kafka_out->Flush(30000);
    std::printf("kafka: delivered %llu, failed %llu, undelivered after flush %d\n",
                static_cast<unsigned long long>(kafka_out->delivered()),
                static_cast<unsigned long long>(kafka_out->failed()), undelivered);
  }
  std::printf("%s\n", sim::FormatStats(generator.stats()).c_str());
  if (closed_loop) {
    const auto& s = closed_loop->stats();
    std::printf(
        "closed loop: %llu visits waited in %llu steps (%.1f s waiting): %llu shown the "
        "processor's tiles, %llu misses (bank policy), %llu decisions naming an unknown offer "
        "and %llu an unknown customer ignored, %llu arm mismatches; %llu homepage decisions "
        "read, %llu undecodable\n",
        static_cast<unsigned long long>(s.visits), static_cast<unsigned long long>(s.waits),
        s.wait_s, static_cast<unsigned long long>(s.answered),
        static_cast<unsigned long long>(s.misses), static_cast<unsigned long long>(s.unknown_offer),
        static_cast<unsigned long long>(s.unknown_customer),
        static_cast<unsigned long long>(s.arm_mismatch),
        static_cast<unsigned long long>(s.decisions_read),
        static_cast<unsigned long long>(s.undecodable));
    if (!split.out_dir.empty()) {
      // For the report (intentstream-evaluate --closed-loop): how the loop went.
      std::ofstream props(split.out_dir + "/truth/closed_loop.properties", std::ios::trunc);
      props << "visits_waited=" << s.visits << "\nsteps=" << s.waits << "\nanswered=" << s.answered
            << "\nmisses=" << s.misses << "\nunknown_offer=" << s.unknown_offer
            << "\nunknown_customer=" << s.unknown_customer << "\narm_mismatch=" << s.arm_mismatch
            << "\nwait_s=" << s.wait_s << "\nholdout_percent=" << loop.holdout_percent
            << "\nbank_share=" << loop.bank_share << "\noracle_share=" << loop.oracle_share
            << "\nstep_minutes=" << loop.step_ms / 60'000 << "\n";
      if (!props) {
        std::cerr << "error: --out: cannot write truth/closed_loop.properties\n";
        return 1;
      }
    }
  }
  if (writer) {
    const auto& per = writer->records_per_split();
    std::printf("records per split: train %llu, validation %llu, test %llu -> %s\n",
                static_cast<unsigned long long>(per[0]), static_cast<unsigned long long>(per[1]),
                static_cast<unsigned long long>(per[2]), split.out_dir.c_str());
  }
  std::printf("generated %llu records in %.2f s (%.0f records/s)\n",
              static_cast<unsigned long long>(records), generated_s,
              generated_s > 0 ? records / generated_s : 0.0);
  return kafka_out && (kafka_out->failed() > 0 || undelivered > 0) ? 1 : 0;
}
