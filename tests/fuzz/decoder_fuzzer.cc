// Fuzz target: the input decoder, binary and JSON, all five topic kinds.
//
// Input layout: byte 0 picks the topic kind (low bits, mod 5) and the mode (bit 7).
//  - Raw (bit 7 clear): byte 1 is the key length n; the next n bytes are the Kafka key
//    and the rest is the payload, as it would come off the topic.
//  - Structured (bit 7 set): the rest fills the kind's message field by field
//    (message_from_bytes.h), which is then sent as binary or JSON, keyed by its own id, by
//    fuzz bytes or not at all. This reaches the field checks with any value of any field.
// When the payload parses but the key is wrong, it is decoded again keyed by its own id,
// so validation is explored past the key check.
//
// Invariants: a rejection has a reason and a detail that is printable UTF-8 within its
// budget; its dead letter is within MaxDeadLetterBytes() and parses back; an accepted
// message keeps every bound, is accepted again from its own binary and JSON encodings,
// and converts to a SessionEvent whose time is inside the Timestamp range.
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "ingest/dead_letter.h"
#include "ingest/decoder.h"
#include "ingest/printable.h"
#include "ingest/session_event.h"
#include "message_from_bytes.h"

namespace intentstream::ingest {
namespace {

constexpr int64_t kNowMs = 1'750'000'000'000;  // a fixed clock: runs are reproducible

google::protobuf::Message& MessageOf(DecodedMessage& m) {
  switch (m.kind) {
    case TopicKind::kWeb:
      return m.web;
    case TopicKind::kApp:
      return m.app;
    case TopicKind::kLink:
      return m.link;
    case TopicKind::kProfile:
      return m.profile;
    case TopicKind::kHandoff:
      return m.handoff;
  }
  return m.web;
}
const google::protobuf::Message& MessageOf(const DecodedMessage& m) {
  return MessageOf(const_cast<DecodedMessage&>(m));
}

// The id the message must be keyed by.
std::string KeyedId(const DecodedMessage& m) {
  switch (m.kind) {
    case TopicKind::kWeb:
      return m.web.anonymous_id();
    case TopicKind::kApp:
      return m.app.customer_id();
    case TopicKind::kLink:
      return m.link.anonymous_id();
    case TopicKind::kProfile:
      return m.profile.customer_id();
    case TopicKind::kHandoff:
      return m.handoff.customer_id();
  }
  return "";
}

bool IsUtf8(std::string_view s) {
  while (!s.empty()) {
    const size_t n = Utf8CharLength(s);
    if (n == 0) return false;
    s.remove_prefix(n);
  }
  return true;
}

void CheckRejection(const Rejection& r, std::string_view payload, std::string_view key,
                    const ValidationOptions& options) {
  FUZZ_CHECK(r.reason != v1::DEAD_LETTER_REASON_UNSPECIFIED, r.detail);
  FUZZ_CHECK(!r.detail.empty(), "empty detail");
  FUZZ_CHECK(r.detail.size() <= kMaxDeadLetterDetailBytes, r.detail.substr(0, 80));
  FUZZ_CHECK(PrintableText(r.detail, kMaxDeadLetterDetailBytes) == r.detail,
             "detail is not printable UTF-8");
  const auto dl = MakeDeadLetter({"web-events", Partition{1}, Offset{2}}, payload, key, r, kNowMs,
                                 "fuzz", options);
  const std::string bytes = dl.SerializeAsString();
  FUZZ_CHECK(bytes.size() <= MaxDeadLetterBytes(options), std::to_string(bytes.size()));
  v1::DeadLetter back;
  FUZZ_CHECK(back.ParseFromString(bytes), "dead letter does not parse back");
  FUZZ_CHECK(back.original_size_bytes() == payload.size(), "original size");
  FUZZ_CHECK(back.detail() == PrintableText(r.detail, kMaxDeadLetterDetailBytes), "detail");
}

// No accepted string is longer than the longest string limit, and no list longer than
// the longest list limit, whatever field it is in.
void CheckBounded(const google::protobuf::Message& msg, const ValidationOptions& o) {
  using FD = google::protobuf::FieldDescriptor;
  const auto* r = msg.GetReflection();
  std::vector<const FD*> fields;
  r->ListFields(msg, &fields);
  for (const FD* f : fields) {
    if (f->is_repeated()) {
      FUZZ_CHECK(static_cast<size_t>(r->FieldSize(msg, f)) <=
                     std::max(o.max_list_items, o.max_handoff_events),
                 f->full_name());
    }
    const int n = f->is_repeated() ? r->FieldSize(msg, f) : 1;
    for (int i = 0; i < n; ++i) {
      if (f->cpp_type() == FD::CPPTYPE_STRING) {
        const std::string v =
            f->is_repeated() ? r->GetRepeatedString(msg, f, i) : r->GetString(msg, f);
        FUZZ_CHECK(v.size() <= std::max(o.max_text_bytes, o.max_label_bytes), f->full_name());
      } else if (f->cpp_type() == FD::CPPTYPE_MESSAGE) {
        CheckBounded(f->is_repeated() ? r->GetRepeatedMessage(msg, f, i) : r->GetMessage(msg, f),
                     o);
      }
    }
  }
}

void CheckAccepted(const Decoder& decoder, const DecodedMessage& m, std::string_view key) {
  const auto& msg = MessageOf(m);
  CheckBounded(msg, decoder.options());
  DecodedMessage again;
  const std::string binary = msg.SerializeAsString();
  const auto b = decoder.Decode(m.kind, binary, key, kNowMs, &again);
  FUZZ_CHECK(!b, "own binary rejected: " + b->detail);
  std::string json;
  if (google::protobuf::util::MessageToJsonString(msg, &json).ok() &&
      json.size() <= decoder.options().max_payload_bytes) {
    const auto j = decoder.Decode(m.kind, json, key, kNowMs, &again);
    FUZZ_CHECK(!j, "own JSON rejected: " + j->detail + " in " + json.substr(0, 200));
    auto expected = msg.New();
    expected->CopyFrom(msg);
    expected->DiscardUnknownFields();
    FUZZ_CHECK(MessageOf(again).SerializeAsString() == expected->SerializeAsString(),
               "JSON round trip differs: " + json.substr(0, 200));
    delete expected;
  }
  if (m.kind == TopicKind::kWeb || m.kind == TopicKind::kApp) {
    const v1::SessionEvent se =
        m.kind == TopicKind::kWeb ? ToSessionEvent(m.web) : ToSessionEvent(m.app);
    FUZZ_CHECK(se.time_ms() >= kMinTimestampMillis && se.time_ms() <= kMaxTimestampMillis,
               std::to_string(se.time_ms()));
    // What state keeps per event is bounded by the label limits, whatever the path.
    FUZZ_CHECK(
        se.category().size() <= std::max(decoder.options().max_label_bytes, kMaxPathCategoryBytes),
        std::to_string(se.category().size()));
    FUZZ_CHECK(IsUtf8(se.category()), "category is not UTF-8");
    v1::SessionEvent back;
    FUZZ_CHECK(back.ParseFromString(se.SerializeAsString()), "SessionEvent does not parse back");
  }
}

}  // namespace
}  // namespace intentstream::ingest

namespace intentstream::ingest {
namespace {

// A message of `kind` built from fuzz bytes, its payload and key.
void Structured(TopicKind kind, FuzzedDataProvider& in, std::string* payload, std::string* key) {
  DecodedMessage m;
  m.kind = kind;
  google::protobuf::Message& msg = MessageOf(m);
  const int key_mode = in.ConsumeIntegralInRange<int>(0, 3);
  std::string fuzz_key = key_mode == 2 ? in.ConsumeRandomLengthString(256) : "";
  const bool json = in.ConsumeBool();
  fuzz::FillMessage(in, &msg);
  *key = key_mode <= 1 ? KeyedId(m) : fuzz_key;  // mostly its own id; else fuzz or empty
  if (!json || !google::protobuf::util::MessageToJsonString(msg, payload).ok()) {
    *payload = msg.SerializeAsString();
  }
}

}  // namespace
}  // namespace intentstream::ingest

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace intentstream::ingest;
  // The parser logs every string field that is not UTF-8; the verdicts are what count.
  static const bool quiet = (google::protobuf::SetLogHandler(nullptr), true);
  (void)quiet;
  if (size < 2) return 0;
  static const ValidationOptions options;
  static const Decoder decoder(options);
  const auto kind = static_cast<TopicKind>((data[0] & 0x7f) % 5);
  std::string payload_bytes, key_bytes;
  std::string_view key, payload;
  if (data[0] & 0x80) {
    FuzzedDataProvider in(data + 1, size - 1);
    Structured(kind, in, &payload_bytes, &key_bytes);
    key = key_bytes;
    payload = payload_bytes;
  } else {
    const size_t key_size = std::min<size_t>(data[1], size - 2);
    key = std::string_view(reinterpret_cast<const char*>(data) + 2, key_size);
    payload =
        std::string_view(reinterpret_cast<const char*>(data) + 2 + key_size, size - 2 - key_size);
  }
  DecodedMessage out;
  auto r = decoder.Decode(kind, payload, key, kNowMs, &out);
  std::string own_key(key);
  if (r && (r->reason == intentstream::v1::DEAD_LETTER_REASON_KEY_MISMATCH ||
            r->detail == "message key is empty")) {
    CheckRejection(*r, payload, key, options);
    own_key = KeyedId(out);
    if (own_key.empty()) return 0;
    r = decoder.Decode(kind, payload, own_key, kNowMs, &out);
  }
  if (r) {
    CheckRejection(*r, payload, own_key, options);
  } else {
    CheckAccepted(decoder, out, own_key);
  }
  return 0;
}
