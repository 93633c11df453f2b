#include "state/visitor_codec.h"

#include <algorithm>
#include <cstdint>
#include <unordered_map>

namespace intentstream::state {

namespace {

constexpr char kCompactPrefix[] = {'\x00', '\x01'};
constexpr uint64_t kSourceBits = 2;
constexpr uint64_t kDeviceBits = 4;
constexpr uint32_t kMaxTermsPerEntry = 7;  // query_terms_at keeps the count in 3 bits

// Interns strings in the value's own table; index 0 is the empty string. A window holds
// few distinct strings: a linear scan of the table beats hashing them, up to a point.
class StringTable {
 public:
  explicit StringTable(v1::StoredEvents* out) : out_(out) {}
  uint32_t Index(const std::string& s) {
    if (s.empty()) return 0;
    const auto& table = out_->strings();
    if (table.size() <= kLinearScanMax) {
      for (int i = 0; i < table.size(); ++i) {
        if (table[i] == s) return static_cast<uint32_t>(i + 1);
      }
      out_->add_strings(s);
      if (table.size() > kLinearScanMax) {
        for (int i = 0; i < table.size(); ++i) index_.emplace(table[i], uint32_t(i + 1));
      }
      return static_cast<uint32_t>(table.size());
    }
    auto [it, added] = index_.try_emplace(s, static_cast<uint32_t>(table.size() + 1));
    if (added) out_->add_strings(s);
    return it->second;
  }

 private:
  static constexpr int kLinearScanMax = 16;
  v1::StoredEvents* out_;
  std::unordered_map<std::string, uint32_t> index_;  // once the table outgrows the scan
};

// False when an event's small fields do not fit their packed bits.
bool Fits(const v1::SessionEvent& e) {
  return static_cast<uint32_t>(e.source()) < (1u << kSourceBits) &&
         static_cast<uint32_t>(e.device()) < (1u << kDeviceBits) &&
         e.query_term_hashes_size() <= static_cast<int>(kMaxTermsPerEntry);
}

bool EncodeEvents(const v1::VisitorState& state, v1::StoredEvents* out) {
  const auto& events = state.events();
  const int n = events.size();
  StringTable strings(out);
  out->mutable_event_key()->Reserve(n);
  out->mutable_time_delta_ms()->Reserve(n);
  out->mutable_kind()->Reserve(n);
  int64_t previous = 0;
  for (int i = 0; i < n; ++i) {
    const v1::SessionEvent& e = events[i];
    if (!Fits(e)) return false;
    out->add_event_key(e.event_key());
    // Unsigned arithmetic: any two int64 times have a difference that round-trips.
    out->add_time_delta_ms(
        static_cast<int64_t>(static_cast<uint64_t>(e.time_ms()) - static_cast<uint64_t>(previous)));
    previous = e.time_ms();
    out->add_kind(static_cast<uint64_t>(e.source()) |
                  static_cast<uint64_t>(e.device()) << kSourceBits |
                  static_cast<uint64_t>(e.event_type()) << (kSourceBits + kDeviceBits));
    out->add_category(strings.Index(e.category()));
    out->add_product(strings.Index(e.product()));
    out->add_channel(strings.Index(e.channel()));
    out->add_dwell_ms(e.dwell_ms());
    if (e.query_term_hashes_size() > 0) {
      out->add_query_terms_at(static_cast<uint32_t>(i) * 8 +
                              static_cast<uint32_t>(e.query_term_hashes_size()));
      for (uint32_t h : e.query_term_hashes()) out->add_query_term_hashes(h);
    }
  }
  return true;
}

bool String(const v1::StoredEvents& in, uint32_t index, const std::string** out) {
  static const std::string kEmpty;
  if (index == 0) {
    *out = &kEmpty;
    return true;
  }
  if (index > static_cast<uint32_t>(in.strings_size())) return false;
  *out = &in.strings(static_cast<int>(index - 1));
  return true;
}

bool DecodeEvents(const v1::StoredEvents& in, v1::VisitorState* out) {
  const int n = in.event_key_size();
  if (in.time_delta_ms_size() != n || in.kind_size() != n || in.category_size() != n ||
      in.product_size() != n || in.channel_size() != n || in.dwell_ms_size() != n) {
    return false;
  }
  auto* events = out->mutable_events();
  events->Clear();
  events->Reserve(n);
  uint64_t time = 0;
  int terms_at = 0;
  int hash = 0;
  for (int i = 0; i < n; ++i) {
    v1::SessionEvent* e = events->Add();
    e->set_event_key(in.event_key(i));
    time += static_cast<uint64_t>(in.time_delta_ms(i));
    e->set_time_ms(static_cast<int64_t>(time));
    const uint64_t kind = in.kind(i);
    e->set_source(static_cast<v1::Source>(kind & ((1u << kSourceBits) - 1)));
    e->set_device(static_cast<v1::Device>((kind >> kSourceBits) & ((1u << kDeviceBits) - 1)));
    const uint64_t type = kind >> (kSourceBits + kDeviceBits);
    if (type > UINT32_MAX) return false;
    e->set_event_type(static_cast<uint32_t>(type));
    const std::string* s = nullptr;
    if (!String(in, in.category(i), &s)) return false;
    e->set_category(*s);
    if (!String(in, in.product(i), &s)) return false;
    e->set_product(*s);
    if (!String(in, in.channel(i), &s)) return false;
    e->set_channel(*s);
    e->set_dwell_ms(in.dwell_ms(i));
    if (terms_at < in.query_terms_at_size() && in.query_terms_at(terms_at) / 8 == uint32_t(i)) {
      const int count = static_cast<int>(in.query_terms_at(terms_at) % 8);
      if (hash + count > in.query_term_hashes_size()) return false;
      for (int k = 0; k < count; ++k) e->add_query_term_hashes(in.query_term_hashes(hash++));
      ++terms_at;
    }
  }
  // Every entry and hash used, in order: anything left over is corruption.
  return terms_at == in.query_terms_at_size() && hash == in.query_term_hashes_size();
}

}  // namespace

VisitorFormat FormatOf(std::string_view bytes) {
  return bytes.size() >= 2 && bytes[0] == kCompactPrefix[0] ? VisitorFormat::kCompact
                                                            : VisitorFormat::kLegacy;
}

void EncodeLegacyVisitor(const v1::VisitorState& state, std::string* out) {
  state.SerializeToString(out);
}

void EncodeVisitor(v1::VisitorState& state, std::string* out) {
  v1::StoredVisitor stored;
  if (!EncodeEvents(state, stored.mutable_events())) {
    EncodeLegacyVisitor(state, out);
    return;
  }
  // The header is copied with the window swapped out (and back), so the events, the
  // bulk of the value, are never copied.
  google::protobuf::RepeatedPtrField<v1::SessionEvent> window;
  window.Swap(state.mutable_events());
  stored.mutable_visitor()->CopyFrom(state);
  window.Swap(state.mutable_events());
  out->assign(kCompactPrefix, sizeof kCompactPrefix);
  stored.AppendToString(out);
}

std::string EncodeVisitor(const v1::VisitorState& state) {
  v1::VisitorState copy = state;
  std::string out;
  EncodeVisitor(copy, &out);
  return out;
}

bool DecodeVisitor(std::string_view bytes, v1::VisitorState* out) {
  if (FormatOf(bytes) == VisitorFormat::kLegacy) {
    if (!out->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
    // Format 0 kept one dedup key per event id (see legacy_dedup_through_ms).
    if (out->events_total() > 0 || out->events_size() > 0) {
      int64_t newest = out->last_event_ms();
      for (const auto& e : out->events()) newest = std::max(newest, e.time_ms());
      out->set_legacy_dedup_through_ms(newest);
      out->set_evicted_through_ms(std::max(out->evicted_through_ms(), newest));
    }
    return true;
  }
  if (bytes[1] != kCompactPrefix[1]) return false;  // a format this release does not know
  v1::StoredVisitor stored;
  if (!stored.ParseFromArray(bytes.data() + 2, static_cast<int>(bytes.size() - 2))) return false;
  if (stored.visitor().events_size() > 0) return false;
  out->Swap(stored.mutable_visitor());
  return DecodeEvents(stored.events(), out);
}

}  // namespace intentstream::state
