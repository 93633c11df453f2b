// Classifies why a binary protobuf payload failed to parse: cut short (truncated) or
// not protobuf at all. The protobuf library parses; this only walks tags and lengths
// to name the failure for the dead-letter reason.
#pragma once

#include <string_view>

namespace intentstream::ingest {

enum class WireFormatVerdict { kWellFormed, kTruncated, kMalformed };

WireFormatVerdict CheckWireFormat(std::string_view bytes);

}  // namespace intentstream::ingest
