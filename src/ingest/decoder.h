// Decodes and validates one input message. Binary protobuf and protobuf's JSON mapping
// are both accepted; which one a payload is follows from its first bytes:
//
//  - Binary protobuf starts with a field tag: a varint (field << 3 | wire type) whose
//    wire type is 0, 1, 2, 3 or 5. Our contracts are proto3 and never write groups
//    (wire type 3), so '{' (field 15, group) and '[' (field 11, group) as the very first
//    byte can only be JSON: such a payload is parsed as JSON only.
//  - After JSON blanks (space, \t, \n, \r) a '{' or '[' is ambiguous: '\n' is the tag
//    of field 1 (length-delimited) and '{' or '[' the length of a 123- or 91-byte id.
//    JSON is tried first, then binary; when neither parses, the JSON error is reported.
//  - Anything else is binary. When it is not valid binary but is a complete JSON value
//    other than an object (a string, number, true, false, null), it is reported as
//    `invalid_json`: the contracts are JSON objects.
//
// Every field is checked against its documented maximum (events.proto, validator.h).
//
// Error policy: a bad message is an expected outcome, returned as a Rejection (reason
// plus a readable detail naming the field, always valid UTF-8 and at most
// kMaxDeadLetterDetailBytes); the caller dead-letters it and goes on.
// Not thread-safe: one Decoder per processing thread (it reuses message objects).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "intentstream/v1/decisions.pb.h"
#include "intentstream/v1/events.pb.h"
#include "intentstream/v1/state.pb.h"

namespace intentstream::ingest {

enum class TopicKind { kWeb, kApp, kLink, kProfile, kHandoff };
std::string_view TopicKindName(TopicKind kind);

// The limits input must respect; each is documented in the contracts (events.proto) and
// most are configuration keys (`validation.*`, src/runtime/options.cc).
struct ValidationOptions {
  // Payloads above this many bytes are rejected before decoding. Default: 65536.
  size_t max_payload_bytes = 64 * 1024;
  // Ids (event, visitor, customer, offer, session, device, tile, product codes) above
  // this many bytes. Default: 128.
  size_t max_id_bytes = 128;
  // URL paths, referrers, titles and search queries above this many bytes. Default: 2048.
  size_t max_text_bytes = 2048;
  // Short labels (page category, channel, UTM campaign, screen, opted-out channel,
  // monitoring attributes) above this many bytes. Default: 256.
  size_t max_label_bytes = 256;
  // Items of a repeated field of a profile (products_held, opted_out_channels).
  // Default: 64.
  size_t max_list_items = 64;
  // Events in one identity hand-off (the largest session.max_events). Default: 4096.
  size_t max_handoff_events = 4096;
  // dwell_ms above this is out of range. Default: 86400000 (24 h).
  uint32_t max_dwell_ms = 24 * 60 * 60 * 1000;
  // Event times further in the future than this (processor clock) are rejected.
  int64_t max_future_skew_ms = 60 * 60 * 1000;
  // Event times older than this are rejected. Default: 10 years.
  int64_t max_event_age_ms = int64_t{3650} * 24 * 60 * 60 * 1000;
  // A dead letter keeps at most this many bytes of the rejected payload (and its size
  // and SHA-256). Default: 16384.
  size_t max_dead_letter_payload_bytes = 16 * 1024;
  // A dead letter keeps at most this many bytes of the rejected message's key, and is
  // keyed by them. Default: 1024.
  size_t max_dead_letter_key_bytes = 1024;
};

// Fixed bounds of the contracts (not configurable: they follow from the data).
inline constexpr uint32_t kMaxTenureMonths = 1200;  // 100 years
inline constexpr uint64_t kMaxTasks = 65536;        // partitions of the co-partitioned inputs
inline constexpr uint32_t kMaxCreditGrade = 10;
// A Rejection's detail (and a dead letter's) is at most this many bytes.
inline constexpr size_t kMaxDeadLetterDetailBytes = 1024;

struct Rejection {
  v1::DeadLetterReason reason = v1::DEAD_LETTER_REASON_UNSPECIFIED;
  std::string detail;
};

// The decoded message; only the member for `kind` is meaningful.
struct DecodedMessage {
  TopicKind kind = TopicKind::kWeb;
  v1::WebEvent web;
  v1::AppEvent app;
  v1::IdentityLink link;
  v1::CustomerProfile profile;
  v1::IdentityHandoff handoff;
};

class Decoder {
 public:
  explicit Decoder(ValidationOptions options) : options_(options) {}

  // Decodes `payload` as the message type of `kind` into `out` and validates it.
  // `key` is the Kafka message key (empty if none): it is required and must equal the id
  // the message is keyed by. Returns a Rejection for bad input, nullopt for good.
  std::optional<Rejection> Decode(TopicKind kind, std::string_view payload, std::string_view key,
                                  int64_t now_ms, DecodedMessage* out) const;

  const ValidationOptions& options() const { return options_; }

 private:
  ValidationOptions options_;
};

}  // namespace intentstream::ingest
