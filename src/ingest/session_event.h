// The one conversion from input events to the compact SessionEvent kept in visitor
// state. The processor, the training tool and the evaluation tools all call it, so
// the model sees the same fields online and offline.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/text.h"
#include "intentstream/v1/events.pb.h"
#include "intentstream/v1/state.pb.h"

namespace intentstream::ingest {

// protobuf's valid Timestamp range, 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, in
// seconds and in milliseconds.
inline constexpr int64_t kMinTimestampSeconds = -62'135'596'800;
inline constexpr int64_t kMaxTimestampSeconds = 253'402'300'799;
inline constexpr int64_t kMinTimestampMillis = kMinTimestampSeconds * 1000;
inline constexpr int64_t kMaxTimestampMillis = kMaxTimestampSeconds * 1000 + 999;

// Search terms kept per event (hashed).
inline constexpr int kMaxQueryTerms = 4;

// Page category of a URL path when the CMS gives none (common/text.h): at most
// kMaxPathCategoryBytes, cut at a UTF-8 character boundary.
using intentstream::CategoryFromPath;
using intentstream::kMaxPathCategoryBytes;

// Up to kMaxQueryTerms hashed, lower-cased alphanumeric terms of a search query.
void HashQueryTerms(std::string_view query, v1::SessionEvent* out);

// Unix milliseconds of `ts`. Never overflows: seconds are clamped to the valid Timestamp
// range and nanos to [0, 999999999] first (the decoder rejects anything outside them, so
// only unvalidated input, e.g. a training file, is ever clamped).
int64_t TimestampToMillis(const google::protobuf::Timestamp& ts);

v1::SessionEvent ToSessionEvent(const v1::WebEvent& event);
v1::SessionEvent ToSessionEvent(const v1::AppEvent& event);

}  // namespace intentstream::ingest
