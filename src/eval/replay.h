// Replays a generated world through the processor's own state code, so offline
// features are what the processor would have had at each decision point: web events go
// to the anonymous visitor's state (state::ApplyOwnEvent on ingest::ToSessionEvent),
// an identity link hands the anonymous window over to the customer and later web
// events follow one by one (state::MergeHandoff, as BatchProcessor::ApplyLink/ApplyWeb
// do), app events go to the customer's state, and profiles replace the customer's
// latest. Records are applied in event-time order with hand-offs arriving at once (the
// processor's event-time scheduling approximates the same order).
//
// Beside the processor's customer state, the replay keeps an "app only" state per
// customer (own app events, no hand-offs): what the in-app-only baseline may see.
//
// Not modelled: session expiry after state.session_ttl_s (compaction-timed) and
// hand-off latency. Not thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "intentstream/v1/events.pb.h"
#include "intentstream/v1/state.pb.h"
#include "state/visitor_state.h"

namespace intentstream::eval {

// One app LOGIN, right after the processor applied it (the homepage decision's view).
struct DecisionPoint {
  const v1::AppEvent* login = nullptr;
  std::string_view customer_id;
  int64_t time_ms = 0;
  const v1::VisitorState* state = nullptr;       // the processor's customer state
  const v1::VisitorState* app_only = nullptr;    // the customer's own events only
  const v1::CustomerProfile* profile = nullptr;  // latest applied, or nullptr
};
using DecisionPointFn = std::function<void(const DecisionPoint&)>;

struct ReplayOptions {
  state::SessionPolicy session;  // the processor's defaults (session.* keys)
  size_t max_linked_ids = 32;    // state::BatchStateOptions::max_linked_ids
};

class WorldReplay {
 public:
  explicit WorldReplay(ReplayOptions options = {}) : options_(options) {}

  void Web(const v1::WebEvent& event);
  void Link(const v1::IdentityLink& link);
  void Profile(const v1::CustomerProfile& profile);
  // Applies the event; for a LOGIN, calls `on_login` (if set) with the states after it.
  void App(const v1::AppEvent& event, const DecisionPointFn& on_login);

  const v1::VisitorState* Customer(std::string_view customer_id) const;

 private:
  void Handoff(const v1::IdentityHandoff& handoff);

  ReplayOptions options_;
  std::unordered_map<std::string, v1::VisitorState> anonymous_, customers_, app_only_;
  std::unordered_map<std::string, v1::CustomerProfile> profiles_;
};

}  // namespace intentstream::eval
