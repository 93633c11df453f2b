// Checks a decoded message against its contract: required fields, enum values, the
// message key, and the documented maximum of every field (events.proto, state.proto's
// IdentityHandoff, ValidationOptions). Internal to ingest; the Decoder calls it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ingest/decoder.h"

namespace intentstream::ingest {

// A Rejection whose detail is printable UTF-8 of at most kMaxDeadLetterDetailBytes.
Rejection Reject(v1::DeadLetterReason reason, std::string_view detail);

// Each returns the first rule the message breaks, nullopt when it keeps them all. `key`
// is the Kafka message key; `now_ms` the processor clock the event time is judged by.
std::optional<Rejection> Validate(const v1::WebEvent& e, std::string_view key,
                                  const ValidationOptions& o, int64_t now_ms);
std::optional<Rejection> Validate(const v1::AppEvent& e, std::string_view key,
                                  const ValidationOptions& o, int64_t now_ms);
std::optional<Rejection> Validate(const v1::IdentityLink& e, std::string_view key,
                                  const ValidationOptions& o, int64_t now_ms);
std::optional<Rejection> Validate(const v1::CustomerProfile& p, std::string_view key,
                                  const ValidationOptions& o, int64_t now_ms);
std::optional<Rejection> Validate(const v1::IdentityHandoff& h, std::string_view key,
                                  const ValidationOptions& o, int64_t now_ms);

}  // namespace intentstream::ingest
