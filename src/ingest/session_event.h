// The one conversion from input events to the compact SessionEvent kept in visitor
// state. The processor, the training tool and the evaluation tools all call it, so
// the model sees the same fields online and offline.
#pragma once

#include <string>
#include <string_view>

#include "common/text.h"
#include "intentstream/v1/events.pb.h"
#include "intentstream/v1/state.pb.h"

namespace intentstream::ingest {

// Page category of a URL path when the CMS gives none (common/text.h).
using intentstream::CategoryFromPath;

// Up to 4 hashed, lower-cased alphanumeric terms of a search query.
void HashQueryTerms(std::string_view query, v1::SessionEvent* out);

int64_t TimestampToMillis(const google::protobuf::Timestamp& ts);

v1::SessionEvent ToSessionEvent(const v1::WebEvent& event);
v1::SessionEvent ToSessionEvent(const v1::AppEvent& event);

}  // namespace intentstream::ingest
