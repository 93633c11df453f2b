// Delivers a batch's outputs and waits until every one is safe, before the state that
// produced them commits (at-least-once).
//
// Failure policy (docs/operations.md, "Outputs that cannot be delivered"):
//   - transient (queue full, broker down, timeouts): retried until delivered, for as
//     long as it takes; the processor stops consuming meanwhile (back-pressure) and a
//     stop request ends the wait (the batch is then not committed: it is processed
//     again after the restart);
//   - permanent for one message (too large for the broker, topic missing or not
//     authorised): that output is counted, logged and replaced by a dead letter that
//     carries it (truncated), so the loop goes on and nothing vanishes silently. A dead
//     letter that itself cannot be delivered is counted and logged.
// Never throws from librdkafka's callbacks.
//
// Not thread-safe: used by the processing thread only.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/logging.h"
#include "runtime/input_record.h"

namespace intentstream::serve {
class ProcessorProbe;
}

namespace intentstream::runtime {

// Thrown when a stop request interrupts delivery: the caller must not commit.
class DeliveryInterrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DeliveryStats {
  uint64_t delivered = 0;
  uint64_t retried = 0;              // outputs produced again after a transient failure
  uint64_t undeliverable = 0;        // permanent failures replaced by a dead letter
  uint64_t dead_letters_failed = 0;  // dead letters that could not be delivered either
};

class OutputProducer : public RdKafka::DeliveryReportCb {
 public:
  struct Options {
    std::string dead_letter_topic;
    std::string processor_version;
    int flush_timeout_ms = 30000;             // one wait for delivery reports
    size_t max_dead_letter_copy = 16 * 1024;  // bytes of a failed output kept in its DL
    // Observes each decision's and trigger's latency at its delivery (may be null).
    serve::ProcessorProbe* probe = nullptr;
  };
  OutputProducer(Options options, const Logger& log);

  // The producer must have been created with this object as its dr_cb.
  void SetProducer(RdKafka::Producer* producer) { producer_ = producer; }

  // Produces `outputs` and returns once each is delivered or replaced by a dead letter.
  // Throws DeliveryInterrupted when `stop` becomes true first.
  void Deliver(const std::vector<OutputMessage>& outputs, const std::atomic<bool>& stop);

  const DeliveryStats& stats() const { return stats_; }

  // librdkafka callback (inside poll/flush on this thread).
  void dr_cb(RdKafka::Message& message) override;

 private:
  static bool Permanent(RdKafka::ErrorCode err);
  // Produces one output; returns the local error (ERR_NO_ERROR when queued).
  RdKafka::ErrorCode ProduceOne(const OutputMessage& o, size_t index,
                                const std::atomic<bool>& stop);
  OutputMessage UndeliverableDeadLetter(const OutputMessage& o, const std::string& error) const;

  Options options_;
  Logger log_;
  RdKafka::Producer* producer_ = nullptr;
  DeliveryStats stats_;
  // Per output of the current Deliver(): 0 pending, 1 delivered, 2 failed transiently,
  // 3 failed permanently. Indexed through the message opaque.
  std::vector<uint8_t> status_;
  std::vector<std::string> errors_;
  // Per output: steady clock (us) when its delivery report said delivered.
  std::vector<int64_t> delivered_us_;
};

}  // namespace intentstream::runtime
