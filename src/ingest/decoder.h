// Decodes and validates one input message. Binary protobuf and protobuf's JSON mapping
// are both accepted: a payload whose first non-blank byte is '{' is JSON (in binary it
// would be a deprecated group tag that our contracts never use).
//
// Error policy: a bad message is an expected outcome, returned as a Rejection (reason
// plus a readable detail naming the field); the caller dead-letters it and goes on.
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

struct ValidationOptions {
  // Payloads above this many bytes are rejected before decoding. Default: 65536.
  size_t max_payload_bytes = 64 * 1024;
  // Ids (event, visitor, customer, offer) above this many bytes. Default: 128.
  size_t max_id_bytes = 128;
  // URL paths, referrers and titles above this many bytes. Default: 2048.
  size_t max_text_bytes = 2048;
  // Event times further in the future than this (processor clock) are rejected.
  int64_t max_future_skew_ms = 60 * 60 * 1000;
  // Event times older than this are rejected. Default: 10 years.
  int64_t max_event_age_ms = int64_t{3650} * 24 * 60 * 60 * 1000;
};

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
  // `key` is the Kafka message key (empty if none); when present it must equal the id
  // the message is keyed by. Returns a Rejection for bad input, nullopt for good.
  std::optional<Rejection> Decode(TopicKind kind, std::string_view payload, std::string_view key,
                                  int64_t now_ms, DecodedMessage* out) const;

  const ValidationOptions& options() const { return options_; }

 private:
  ValidationOptions options_;
};

}  // namespace intentstream::ingest
