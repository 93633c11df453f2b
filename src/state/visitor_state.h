// Pure state transitions of a visitor: sessionization, the bounded recent-event
// window, identity hand-off merges and offer counters. No I/O; unit-tested directly.
#pragma once

#include <cstdint>

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

// Inserts `event` at its place in the ascending (time_ms, event_key) order, dropping the
// oldest beyond `max_events`. Returns false (and changes nothing) when an event with
// the same key is already there or when it would be dropped at once.
bool InsertEvent(v1::VisitorState* state, const v1::SessionEvent& event, int max_events);

// Applies one of the visitor's own (already deduplicated) events: counters, sessions
// by inactivity gap, the window. Sessions follow arrival order; an event older than
// the last one never opens a session.
void ApplyOwnEvent(v1::VisitorState* state, const v1::SessionEvent& event,
                   const SessionPolicy& policy);

// Merges a hand-off's web events into a customer's state. Own-event counters and
// sessions are unchanged; the anonymous id joins linked_anonymous_ids (the most recent
// `max_linked_ids` are kept). Returns how many events were new to the window.
int MergeHandoff(v1::VisitorState* state, const v1::IdentityHandoff& handoff,
                 const SessionPolicy& policy, size_t max_linked_ids);

}  // namespace intentstream::state
