// The stored form of a visitor's state (column family `sessions`). In memory a visitor
// is a v1::VisitorState; on disk it is one of two formats:
//   0  the serialized VisitorState (what releases before format 1 wrote);
//   1  0x00 0x01 then a StoredVisitor: the events as packed columns with interned
//      strings and delta-encoded times (about 2.5x smaller with a full window).
// Decoding accepts both and yields the same VisitorState either way, so state written
// by the previous release is read as it is and rewritten in format 1 the next time the
// visitor changes (an upgrade in place, one visitor at a time).
#pragma once

#include <string>
#include <string_view>

#include "intentstream/v1/state.pb.h"

namespace intentstream::state {

enum class VisitorFormat { kLegacy = 0, kCompact = 1 };

// Writes `state` in format 1 (or format 0 for the rare event that does not fit the
// compact columns: an enum value outside its packed bits). `out` is replaced. `state`
// is the same on return (its window is moved aside while the rest is copied).
void EncodeVisitor(v1::VisitorState& state, std::string* out);
// The same for a state the caller cannot lend (copies it first).
std::string EncodeVisitor(const v1::VisitorState& state);
// Format 0, as the previous release wrote it (tests and the bench compare with it).
void EncodeLegacyVisitor(const v1::VisitorState& state, std::string* out);

// Reads either format into `out` (replaced). False when the bytes are corrupt.
bool DecodeVisitor(std::string_view bytes, v1::VisitorState* out);
// Which format `bytes` is in.
VisitorFormat FormatOf(std::string_view bytes);

}  // namespace intentstream::state
