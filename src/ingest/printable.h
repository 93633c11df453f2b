// Text from input made safe to quote in a dead letter's `detail` (a proto3 string, which
// must be valid UTF-8) and in logs: valid UTF-8 characters are kept, every byte that is
// not part of one and every control character is written as \xNN, and the result is cut
// to a byte budget at a character boundary, ending in "..." when cut.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace intentstream::ingest {

// At most `max_bytes` bytes (max_bytes >= 3), always valid UTF-8. Applying it again to
// its own output changes nothing.
std::string PrintableText(std::string_view text, size_t max_bytes);

// Length of the valid UTF-8 character (RFC 3629: no overlong forms, no surrogates, at
// most U+10FFFF) that starts `text`, or 0 when `text` does not start with one.
size_t Utf8CharLength(std::string_view text);

}  // namespace intentstream::ingest
