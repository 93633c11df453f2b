#include "ingest/wire_format_check.h"

#include <cstdint>

namespace intentstream::ingest {

namespace {

enum class Step { kOk, kEnd, kMalformed };

// Reads a base-128 varint. kEnd: the input ended inside it.
Step ReadVarint(std::string_view b, size_t* pos, uint64_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*pos >= b.size()) return Step::kEnd;
    const auto byte = static_cast<uint8_t>(b[(*pos)++]);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *out = v;
      return Step::kOk;
    }
  }
  return Step::kMalformed;
}

// Walks fields until `end_group` closes (or the input ends when end_group == 0).
Step WalkFields(std::string_view b, size_t* pos, uint32_t end_group, int depth) {
  if (depth > 32) return Step::kMalformed;
  while (*pos < b.size()) {
    uint64_t tag = 0;
    if (const Step s = ReadVarint(b, pos, &tag); s != Step::kOk) return s;
    const uint32_t field = static_cast<uint32_t>(tag >> 3);
    if (field == 0 || tag > 0xffffffffu) return Step::kMalformed;
    uint64_t value = 0;
    switch (tag & 7) {
      case 0:  // varint
        if (const Step s = ReadVarint(b, pos, &value); s != Step::kOk) return s;
        break;
      case 1:  // fixed64
        if (b.size() - *pos < 8) return Step::kEnd;
        *pos += 8;
        break;
      case 2:  // length-delimited
        if (const Step s = ReadVarint(b, pos, &value); s != Step::kOk) return s;
        if (value > b.size() - *pos) return Step::kEnd;
        *pos += value;
        break;
      case 3:  // start group
        if (const Step s = WalkFields(b, pos, field, depth + 1); s != Step::kOk) return s;
        break;
      case 4:  // end group
        return field == end_group ? Step::kOk : Step::kMalformed;
      case 5:  // fixed32
        if (b.size() - *pos < 4) return Step::kEnd;
        *pos += 4;
        break;
      default:
        return Step::kMalformed;
    }
  }
  return end_group == 0 ? Step::kOk : Step::kEnd;
}

}  // namespace

WireFormatVerdict CheckWireFormat(std::string_view bytes) {
  size_t pos = 0;
  switch (WalkFields(bytes, &pos, 0, 0)) {
    case Step::kOk:
      return WireFormatVerdict::kWellFormed;
    case Step::kEnd:
      return WireFormatVerdict::kTruncated;
    case Step::kMalformed:
      return WireFormatVerdict::kMalformed;
  }
  return WireFormatVerdict::kMalformed;
}

}  // namespace intentstream::ingest
