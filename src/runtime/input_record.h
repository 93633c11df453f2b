// What flows through the processing loop: input messages as they arrive, the same
// decoded and stamped with their event time (records), and outputs to produce.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/ids.h"
#include "ingest/decoder.h"

namespace intentstream::runtime {

// One input message as received. The views point into memory the caller keeps alive
// (the Kafka message, or a test's strings).
struct InputMessage {
  ingest::TopicKind kind;
  std::string_view topic;
  Partition partition;
  Offset offset;
  std::string_view key;
  std::string_view payload;
  int64_t arrival_us = 0;          // steady clock when the processor received it
  bool null_payload = false;       // a tombstone (null value), distinct from an empty value
  int64_t kafka_timestamp_ms = 0;  // the message's timestamp, 0 when it has none
};

// An input message decoded, validated and stamped with its event time. Records are
// pooled and reused (their protobuf messages keep their memory).
struct InputRecord {
  static constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();

  InputMessage message;
  std::unique_ptr<RdKafka::Message> owner;  // keeps `message`'s views valid, if from Kafka
  std::optional<ingest::Rejection> rejection;
  ingest::DecodedMessage decoded;
  // Event time for ordering; kNoTime for records that change no state (dead letters,
  // watermarks), which are released as soon as they reach the head of their partition.
  int64_t time_ms = kNoTime;
  bool watermark = false;  // a task watermark on the hand-off topic (no state change)
  bool tombstone = false;  // a profile tombstone: erases the customer
};

struct OutputMessage {
  // Decisions and triggers are timed from the event that caused them to their delivery
  // (intentstream_decision_latency_seconds); other outputs are not.
  enum class Kind : uint8_t { kOther, kDecision, kTrigger };

  std::string topic;
  std::string key;
  std::string value;
  int64_t timestamp_ms = 0;  // 0: the producer's clock
  int32_t partition = -1;    // -1: by key (murmur2)
  Kind kind = Kind::kOther;
  // Decisions and triggers: InputMessage::arrival_us of the event whose step made them
  // (steady clock, microseconds); 0 when unknown.
  int64_t source_arrival_us = 0;
};

// Per-batch counts, summed by the caller for its run summary.
struct BatchCounts {
  uint64_t accepted = 0, duplicates = 0, dead_letters = 0, handoffs_sent = 0, handoffs_merged = 0,
           decisions = 0, triggers = 0, late = 0, erased = 0;

  BatchCounts& operator+=(const BatchCounts& o) {
    accepted += o.accepted;
    duplicates += o.duplicates;
    dead_letters += o.dead_letters;
    handoffs_sent += o.handoffs_sent;
    handoffs_merged += o.handoffs_merged;
    decisions += o.decisions;
    triggers += o.triggers;
    late += o.late;
    erased += o.erased;
    return *this;
  }
};

}  // namespace intentstream::runtime
