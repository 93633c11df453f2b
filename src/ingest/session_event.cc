#include "ingest/session_event.h"

#include <algorithm>
#include <cctype>

#include "common/hash.h"
#include "common/text.h"

namespace intentstream::ingest {

void HashQueryTerms(std::string_view query, v1::SessionEvent* out) {
  for (const auto& term : SearchTerms(query)) {
    if (out->query_term_hashes_size() >= kMaxQueryTerms) break;
    out->add_query_term_hashes(Fnv1a32(term));
  }
}

int64_t TimestampToMillis(const google::protobuf::Timestamp& ts) {
  const int64_t seconds = std::clamp(ts.seconds(), kMinTimestampSeconds, kMaxTimestampSeconds);
  const int32_t nanos = std::clamp(ts.nanos(), 0, 999'999'999);
  return seconds * 1000 + nanos / 1'000'000;
}

v1::SessionEvent ToSessionEvent(const v1::WebEvent& event) {
  v1::SessionEvent out;
  out.set_event_key(Fnv1a64(event.event_id()));
  out.set_time_ms(TimestampToMillis(event.event_time()));
  out.set_source(v1::SOURCE_WEB);
  out.set_event_type(static_cast<uint32_t>(event.event_type()));
  out.set_category(event.page_category().empty() ? CategoryFromPath(event.url_path())
                                                 : event.page_category());
  out.set_product(event.product_code());
  HashQueryTerms(event.search_query(), &out);
  out.set_dwell_ms(event.dwell_ms());
  out.set_device(event.device());
  out.set_channel(event.channel());
  return out;
}

v1::SessionEvent ToSessionEvent(const v1::AppEvent& event) {
  v1::SessionEvent out;
  out.set_event_key(Fnv1a64(event.event_id()));
  out.set_time_ms(TimestampToMillis(event.event_time()));
  out.set_source(v1::SOURCE_APP);
  out.set_event_type(static_cast<uint32_t>(event.action()));
  out.set_category(event.screen());
  out.set_product(event.product_code().empty() ? event.offer_id() : event.product_code());
  HashQueryTerms(event.search_query(), &out);
  out.set_dwell_ms(event.dwell_ms());
  out.set_device(event.device());
  return out;
}

}  // namespace intentstream::ingest
