#include "ingest/printable.h"

#include <algorithm>
#include <cstdint>

namespace intentstream::ingest {

namespace {

bool InRange(std::string_view text, size_t i, uint8_t lo, uint8_t hi) {
  if (i >= text.size()) return false;
  const auto b = static_cast<uint8_t>(text[i]);
  return b >= lo && b <= hi;
}

}  // namespace

size_t Utf8CharLength(std::string_view text) {
  if (text.empty()) return 0;
  const auto b0 = static_cast<uint8_t>(text[0]);
  if (b0 < 0x80) return 1;
  // The second byte's range depends on the first (this excludes overlong forms,
  // surrogates and code points above U+10FFFF); later bytes are plain continuations.
  size_t length = 0;
  uint8_t lo = 0x80, hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    length = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    length = 3;
    if (b0 == 0xe0) lo = 0xa0;
    if (b0 == 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    length = 4;
    if (b0 == 0xf0) lo = 0x90;
    if (b0 == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (!InRange(text, 1, lo, hi)) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (!InRange(text, i, 0x80, 0xbf)) return 0;
  }
  return length;
}

std::string PrintableText(std::string_view text, size_t max_bytes) {
  constexpr std::string_view kCut = "...";
  if (max_bytes < kCut.size()) max_bytes = kCut.size();
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  size_t fits_with_cut_mark = 0;  // output length at the last piece that leaves room for "..."
  size_t i = 0;
  while (i < text.size()) {
    char piece[4];
    size_t piece_len = Utf8CharLength(text.substr(i));
    const auto b = static_cast<uint8_t>(text[i]);
    size_t consumed = piece_len;
    if (piece_len == 0 || b < 0x20 || b == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      piece[0] = '\\';
      piece[1] = 'x';
      piece[2] = kHex[b >> 4];
      piece[3] = kHex[b & 0xf];
      piece_len = 4;
      consumed = 1;
    } else {
      for (size_t k = 0; k < piece_len; ++k) piece[k] = text[i + k];
    }
    if (out.size() + piece_len > max_bytes) {
      out.resize(fits_with_cut_mark);
      out += kCut;
      return out;
    }
    out.append(piece, piece_len);
    if (out.size() + kCut.size() <= max_bytes) fits_with_cut_mark = out.size();
    i += consumed;
  }
  return out;
}

}  // namespace intentstream::ingest
