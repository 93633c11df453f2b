#include "ingest/session_event.h"

#include <algorithm>
#include <cctype>

#include "common/hash.h"

namespace intentstream::ingest {

namespace {
constexpr int kMaxPathSegments = 3;
}  // namespace

std::string CategoryFromPath(std::string_view url_path) {
  const size_t cut = url_path.find_first_of("?#");
  if (cut != std::string_view::npos) url_path = url_path.substr(0, cut);
  std::string out;
  out.reserve(url_path.size() + 1);
  int segments = 0;
  size_t i = 0;
  while (i < url_path.size()) {
    while (i < url_path.size() && url_path[i] == '/') ++i;
    if (i >= url_path.size()) break;
    if (segments == kMaxPathSegments) break;
    out.push_back('/');
    while (i < url_path.size() && url_path[i] != '/') {
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(url_path[i]))));
      ++i;
    }
    ++segments;
  }
  if (out.empty()) return std::string(1, '/');
  if (out.size() > kMaxPathCategoryBytes) {
    size_t cut = kMaxPathCategoryBytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

void HashQueryTerms(std::string_view query, v1::SessionEvent* out) {
  std::string term;
  auto flush = [&] {
    if (!term.empty() && out->query_term_hashes_size() < kMaxQueryTerms) {
      out->add_query_term_hashes(Fnv1a32(term));
    }
    term.clear();
  };
  for (char c : query) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      term.push_back(static_cast<char>(std::tolower(u)));
    } else {
      flush();
    }
  }
  flush();
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
