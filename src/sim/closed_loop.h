// The responding world's side of the loop (docs/closed-loop.md): produces a closed-loop
// generator's records to Kafka, and at every wait reads the processor's homepage
// decisions from the decisions topic, matches them to the waiting visits by the LOGIN
// event id and answers the generator with their tiles.
//
//   auto loop = sim::ClosedLoop::Create(options, &error);  // nullptr: see error
//   loop->Run(generator, *kafka_out, write_to_files, print_progress, &error);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/generator.h"
#include "sim/kafka_output.h"

namespace intentstream::sim {

struct ClosedLoopRunOptions {
  std::string bootstrap;  // required
  std::string decisions_topic = "decisions";
  // Longest wait for the decisions of one step's waiting visits, after its records were
  // delivered; a visit still without one gets the bank's policy (a miss).
  int decision_wait_ms = 5000;
  std::vector<std::string> properties;  // extra librdkafka properties, "key=value"
};

struct ClosedLoopStats {
  uint64_t waits = 0;             // steps that waited for decisions
  uint64_t visits = 0;            // visits that waited
  uint64_t answered = 0;          // shown the processor's tiles
  uint64_t misses = 0;            // no decision in time: bank policy
  uint64_t unknown_offer = 0;     // decisions naming an offer the world does not know (ignored)
  uint64_t unknown_customer = 0;  // decisions for a customer the world does not have (ignored)
  uint64_t arm_mismatch = 0;      // the decision's arm differs from the world's split
  uint64_t decisions_read = 0;    // homepage decisions read from the topic
  uint64_t undecodable = 0;       // messages on the topic that are not a Decision
  double wait_s = 0;              // wall time spent waiting for decisions
};

class ClosedLoop {
 public:
  // Returns nullptr and sets `error` (naming the flag) when the consumer cannot start.
  static std::unique_ptr<ClosedLoop> Create(const ClosedLoopRunOptions& options,
                                            std::string* error);
  ~ClosedLoop();

  // Runs the generator to its end. `also` sees every record after it was queued to Kafka
  // (e.g. the file writer); `progress` is called after every wait. False with `error`
  // when producing, delivering or `also` fails.
  bool Run(Generator& generator, KafkaOutput& out,
           const std::function<bool(const Record&, std::string*)>& also,
           const std::function<void(const ClosedLoopStats&)>& progress, std::string* error);
  const ClosedLoopStats& stats() const;

 private:
  class Impl;
  explicit ClosedLoop(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace intentstream::sim
