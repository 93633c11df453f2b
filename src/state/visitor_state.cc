#include "state/visitor_state.h"

#include <algorithm>

namespace intentstream::state {

namespace {
bool Before(const v1::SessionEvent& a, const v1::SessionEvent& b) {
  return a.time_ms() != b.time_ms() ? a.time_ms() < b.time_ms() : a.event_key() < b.event_key();
}
}  // namespace

namespace {
void NoteEvicted(v1::VisitorState* state, const v1::SessionEvent& e, EvictedKeys* evicted) {
  if (evicted != nullptr) evicted->push_back(e.event_key());
  if (!state->has_evicted_through_ms() || state->evicted_through_ms() < e.time_ms()) {
    state->set_evicted_through_ms(e.time_ms());
  }
}
}  // namespace

bool WindowHolds(const v1::VisitorState& state, uint64_t event_key) {
  for (const auto& e : state.events()) {
    if (e.event_key() == event_key) return true;
  }
  return false;
}

void EvictOldest(v1::VisitorState* state, int count, EvictedKeys* evicted) {
  count = std::min(count, state->events_size());
  for (int i = 0; i < count; ++i) NoteEvicted(state, state->events(i), evicted);
  state->mutable_events()->DeleteSubrange(0, count);
}

bool InsertEvent(v1::VisitorState* state, const v1::SessionEvent& event, int max_events,
                 EvictedKeys* evicted) {
  auto* events = state->mutable_events();
  // Ids are unique per event, so a known key is a duplicate wherever it sits.
  if (WindowHolds(*state, event.event_key())) return false;
  const auto pos = std::lower_bound(events->begin(), events->end(), event, Before);
  const int index = static_cast<int>(pos - events->begin());
  if (events->size() >= max_events && index == 0) {  // older than the window
    NoteEvicted(state, event, evicted);
    return false;
  }
  *events->Add() = event;
  // Rotate the new last element into place.
  for (int i = events->size() - 1; i > index; --i) events->SwapElements(i, i - 1);
  if (events->size() > max_events) EvictOldest(state, events->size() - max_events, evicted);
  return true;
}

void ApplyOwnEvent(v1::VisitorState* state, const v1::SessionEvent& event,
                   const SessionPolicy& policy, EvictedKeys* evicted) {
  const int64_t t = event.time_ms();
  if (state->events_total() == 0) {
    state->set_first_seen_ms(t);
    state->set_session_count(1);
    state->set_session_start_ms(t);
    state->set_session_events(0);
    state->set_last_event_ms(t);
  } else if (t - state->last_event_ms() > policy.session_gap_ms) {
    state->set_session_count(state->session_count() + 1);
    state->set_session_start_ms(t);
    state->set_session_events(0);
  }
  state->set_first_seen_ms(std::min(state->first_seen_ms(), t));
  state->set_last_event_ms(std::max(state->last_event_ms(), t));
  state->set_session_events(state->session_events() + 1);
  state->set_events_total(state->events_total() + 1);
  if (event.source() == v1::SOURCE_WEB) {
    state->set_web_events(state->web_events() + 1);
  } else {
    state->set_app_events(state->app_events() + 1);
  }
  InsertEvent(state, event, policy.max_events, evicted);
}

int MergeHandoff(v1::VisitorState* state, const v1::IdentityHandoff& handoff,
                 const SessionPolicy& policy, size_t max_linked_ids, EvictedKeys* evicted) {
  int inserted = 0;
  for (const auto& e : handoff.events()) {
    if (InsertEvent(state, e, policy.max_events, evicted)) ++inserted;
  }
  state->set_merged_web_events(state->merged_web_events() + static_cast<uint64_t>(inserted));
  auto* ids = state->mutable_linked_anonymous_ids();
  if (std::find(ids->begin(), ids->end(), handoff.anonymous_id()) == ids->end()) {
    state->add_linked_anonymous_ids(handoff.anonymous_id());
    if (static_cast<size_t>(ids->size()) > max_linked_ids) {
      ids->DeleteSubrange(0, ids->size() - static_cast<int>(max_linked_ids));
    }
  }
  return inserted;
}

}  // namespace intentstream::state
