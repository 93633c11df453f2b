// Pure state transitions of a visitor: sessionization, the bounded recent-event
// window, identity hand-off merges and offer counters. No I/O; unit-tested directly.
#pragma once

#include <cstdint>
#include <vector>

#include "intentstream/v1/events.pb.h"
#include "intentstream/v1/state.pb.h"

namespace intentstream::state {

struct SessionPolicy {
  // A gap longer than this between a visitor's own events starts a new session.
  // Default: 30 minutes (the web-analytics convention).
  int64_t session_gap_ms = 30 * 60 * 1000;
  // Events kept per visitor (the encoder's window). Default: 64.
  int max_events = 64;
};

// Keys of events that left the window (or never entered it): the caller remembers them
// in `dedup` (BatchState::RememberEvicted), since the window no longer answers for them.
using EvictedKeys = std::vector<uint64_t>;

// Inserts `event` at its place in the ascending (time_ms, event_key) order, dropping the
// oldest beyond `max_events`. Returns false when an event with the same key is already
// there (nothing changes) or when it would be dropped at once. Every event dropped,
// at once or later, is appended to `evicted` and moves state.evicted_through_ms up to
// its time.
bool InsertEvent(v1::VisitorState* state, const v1::SessionEvent& event, int max_events,
                 EvictedKeys* evicted = nullptr);

// Drops the `count` oldest events of the window, as InsertEvent does past max_events.
void EvictOldest(v1::VisitorState* state, int count, EvictedKeys* evicted);

// True when the window holds an event with this key.
bool WindowHolds(const v1::VisitorState& state, uint64_t event_key);

// Applies one of the visitor's own (already deduplicated) events: counters, sessions
// by inactivity gap, the window. Sessions follow arrival order; an event older than
// the last one never opens a session.
void ApplyOwnEvent(v1::VisitorState* state, const v1::SessionEvent& event,
                   const SessionPolicy& policy, EvictedKeys* evicted = nullptr);

// Merges a hand-off's web events into a customer's state. Own-event counters and
// sessions are unchanged; the anonymous id joins linked_anonymous_ids (the most recent
// `max_linked_ids` are kept). Returns how many events were new to the window.
int MergeHandoff(v1::VisitorState* state, const v1::IdentityHandoff& handoff,
                 const SessionPolicy& policy, size_t max_linked_ids,
                 EvictedKeys* evicted = nullptr);

}  // namespace intentstream::state
