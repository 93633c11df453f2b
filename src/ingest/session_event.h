// The one conversion from input events to the compact SessionEvent kept in visitor
// state. The processor, the training tool and the evaluation tools all call it, so
// the model sees the same fields online and offline.
#pragma once

#include <string>
#include <string_view>

#include "intentstream/v1/events.pb.h"
#include "intentstream/v1/state.pb.h"

namespace intentstream::ingest {

// Page category of a URL path when the CMS gives none: the path without query or
// fragment, lower-cased, trailing slash removed, cut to its first three segments.
// "/Credit-Cards/Travel-Rewards/?utm=x" -> "/credit-cards/travel-rewards".
std::string CategoryFromPath(std::string_view url_path);

// Up to 4 hashed, lower-cased alphanumeric terms of a search query.
void HashQueryTerms(std::string_view query, v1::SessionEvent* out);

int64_t TimestampToMillis(const google::protobuf::Timestamp& ts);

v1::SessionEvent ToSessionEvent(const v1::WebEvent& event);
v1::SessionEvent ToSessionEvent(const v1::AppEvent& event);

}  // namespace intentstream::ingest
