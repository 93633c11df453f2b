// Produces generated records to Kafka at a given rate, keyed as the processor
// expects, partitioned as Java clients would (murmur2).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/record.h"

namespace intentstream::sim {

struct KafkaOutputOptions {
  std::string bootstrap;     // bootstrap.servers, required
  double rate_per_s = 0;     // records per second; 0 = as fast as possible
  std::string topic_prefix;  // prepended to the four topic names; default none
  // Extra librdkafka properties, "key=value", passed through untouched (applied last).
  std::vector<std::string> properties;
};

class KafkaOutput {
 public:
  // Returns nullptr and sets `error` when the producer cannot be created.
  static std::unique_ptr<KafkaOutput> Create(const KafkaOutputOptions& options, std::string* error);
  ~KafkaOutput();
  // Queues one record, pacing to the rate. Blocks while the local queue is full.
  // False with `error` on a non-retriable produce error.
  bool Produce(const sim::Record& record, std::string* error);
  // Waits up to `timeout_ms` for delivery; returns messages still undelivered.
  int Flush(int timeout_ms);
  uint64_t delivered() const;
  uint64_t failed() const;

 private:
  class Impl;
  explicit KafkaOutput(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace intentstream::sim
