// Builds the DeadLetter record for a rejected input message: the original bytes and
// key, where it came from, and why it was rejected.
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

v1::DeadLetter MakeDeadLetter(const SourceRef& source, std::string_view payload,
                              std::string_view key, const Rejection& rejection, int64_t now_ms,
                              std::string_view processor_version);

// Short, stable label for metrics: "truncated", "unknown_enum", ...
std::string_view DeadLetterReasonLabel(v1::DeadLetterReason reason);

}  // namespace intentstream::ingest
