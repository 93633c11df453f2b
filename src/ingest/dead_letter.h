// Builds the DeadLetter record for a rejected input message: where it came from, why it
// was rejected, and the original bytes and key — capped, so that a dead letter is always
// small enough to produce whatever the input was (decisions.proto, DeadLetter).
#pragma once

#include <string_view>

#include "common/ids.h"
#include "ingest/decoder.h"

namespace intentstream::ingest {

struct SourceRef {
  std::string_view topic;
  Partition partition;
  Offset offset;
};

// The payload copy keeps its first options.max_dead_letter_payload_bytes (with the
// original size and the SHA-256 of the whole payload), the key copy its first
// options.max_dead_letter_key_bytes, and the detail is made printable UTF-8 of at most
// kMaxDeadLetterDetailBytes. The serialized record is at most MaxDeadLetterBytes().
v1::DeadLetter MakeDeadLetter(const SourceRef& source, std::string_view payload,
                              std::string_view key, const Rejection& rejection, int64_t now_ms,
                              std::string_view processor_version,
                              const ValidationOptions& options = ValidationOptions{});

// Upper bound of a serialized dead letter's size (value only; the Kafka key is the
// record's `original_key`, at most options.max_dead_letter_key_bytes): the caps plus
// 2 KiB for the fixed fields, topic and version.
size_t MaxDeadLetterBytes(const ValidationOptions& options);

// Short, stable label for metrics: "truncated", "unknown_enum", ...
std::string_view DeadLetterReasonLabel(v1::DeadLetterReason reason);

}  // namespace intentstream::ingest
