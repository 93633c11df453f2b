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
// offers: the customer's state key ("c/<customer>") -> CustomerOffers.
// decisions: "c/<customer>/<placement>" -> the latest Decision for that placement.
inline std::string DecisionKey(std::string_view customer_id, std::string_view placement) {
  return "c/" + std::string(customer_id) + "/" + std::string(placement);
}
// meta: "task/<partition, 5 digits>/<name>" -> a per-task value of the decision stage.
inline std::string TaskKey(int32_t task, std::string_view name) {
  char part[16];
  std::snprintf(part, sizeof part, "%05d", task);
  return "task/" + std::string(part) + "/" + std::string(name);
}
// meta: "value/<name>" -> a per-process value that commits with the offsets.
inline std::string MetaKey(std::string_view name) {
  return "value/" + std::string(name);
}
// offers: "erased/<customer>" -> ErasureMarker, written by a profile tombstone.
inline std::string ErasedKey(std::string_view customer_id) {
  return "erased/" + std::string(customer_id);
}
// dedup: input events and hand-offs in separate spaces: a hand-off reuses the id of
// the link or web event that caused it, which the anonymous side already recorded.
inline std::string EventDedupKey(std::string_view event_id) {
  return "e/" + std::string(event_id);
}
inline std::string HandoffDedupKey(std::string_view handoff_id) {
  return "h/" + std::string(handoff_id);
}
// dedup: "k/" + the event key (8 bytes, big endian): an own event that left its
// visitor's window (visitor_state.h, EvictedKeys). Before value format 1 every own event
// had an "e/<event_id>" entry instead; links still do.
inline std::string EvictedEventDedupKey(uint64_t event_key) {
  std::string key = "k/";
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>(event_key >> shift));
  return key;
}
// meta: "offset/<topic>/<partition, 10 digits>" -> next offset to read, decimal.
inline std::string OffsetKey(const TopicPartition& tp) {
  char part[16];
  std::snprintf(part, sizeof part, "%010d", tp.partition.value);
  return "offset/" + tp.topic + "/" + part;
}

}  // namespace intentstream::state
