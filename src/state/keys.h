// Key layout of the column families (ARCHITECTURE §3). Anonymous and customer ids live
// in separate key spaces so an id can never be mistaken for the other kind.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "common/ids.h"

namespace intentstream::state {

inline std::string AnonymousKey(std::string_view anonymous_id) {
  return "a/" + std::string(anonymous_id);
}
inline std::string CustomerKey(std::string_view customer_id) {
  return "c/" + std::string(customer_id);
}
// identity: "a/<anonymous>" -> customer id, and "c/<customer>/<anonymous>" -> "".
inline std::string CustomerLinkKey(std::string_view customer_id, std::string_view anonymous_id) {
  return "c/" + std::string(customer_id) + "/" + std::string(anonymous_id);
}
// offers: customer id, NUL, offer id (NUL cannot occur in a validated id).
inline std::string OfferKey(std::string_view customer_id, std::string_view offer_id) {
  std::string k(customer_id);
  k.push_back('\0');
  k.append(offer_id);
  return k;
}
// dedup: input events and hand-offs in separate spaces: a hand-off reuses the id of
// the link or web event that caused it, which the anonymous side already recorded.
inline std::string EventDedupKey(std::string_view event_id) {
  return "e/" + std::string(event_id);
}
inline std::string HandoffDedupKey(std::string_view handoff_id) {
  return "h/" + std::string(handoff_id);
}
// meta: "offset/<topic>/<partition, 10 digits>" -> next offset to read, decimal.
inline std::string OffsetKey(const TopicPartition& tp) {
  char part[16];
  std::snprintf(part, sizeof part, "%010d", tp.partition.value);
  return "offset/" + tp.topic + "/" + part;
}

}  // namespace intentstream::state
