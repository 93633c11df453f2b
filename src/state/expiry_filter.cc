#include "state/expiry_filter.h"

#include <cstring>

#include "intentstream/v1/state.pb.h"
#include "state/visitor_codec.h"

namespace intentstream::state {

bool ExpiryFilter::Filter(int /*level*/, const rocksdb::Slice& /*key*/, const rocksdb::Slice& value,
                          std::string* /*new_value*/, bool* /*value_changed*/) const {
  if (ttl_ms_ <= 0) return false;
  int64_t written_ms = 0;
  if (kind_ == Kind::kDedup) {
    written_ms = DecodeWriteTime(value);
  } else {
    v1::VisitorState state;
    if (!DecodeVisitor(std::string_view(value.data(), value.size()), &state)) return false;
    written_ms = state.updated_at_ms();
  }
  // Unknown write time (0): keep; never drop what we can't date.
  return written_ms > 0 && written_ms + ttl_ms_ < now_ms_();
}

std::string ExpiryFilter::EncodeWriteTime(int64_t ms) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<char>((static_cast<uint64_t>(ms) >> (8 * i)) & 0xff);
  return out;
}

int64_t ExpiryFilter::DecodeWriteTime(const rocksdb::Slice& value) {
  if (value.size() != 8) return 0;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(value[i])) << (8 * i);
  return static_cast<int64_t>(v);
}

}  // namespace intentstream::state
