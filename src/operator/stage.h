// The seam between the streaming core and the model/decision stages.
//
// The processor applies a poll's events to visitor state, then hands the visitors
// it touched to a SessionEncoder (which writes embeddings into the state) and then
// to a DecisionOperator (which emits decisions and triggers). Both run on the
// processing thread, once per poll batch, before the batch's state is committed;
// neither may block on I/O for longer than a few milliseconds.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "intentstream/v1/decisions.pb.h"
#include "intentstream/v1/events.pb.h"
#include "intentstream/v1/state.pb.h"

namespace intentstream::op {

// A visitor whose state changed in the current poll batch.
struct VisitorUpdate {
  std::string_view visitor_id;
  // Mutable: the encoder writes `embedding` and `model_version`. `events` is ascending
  // by (time_ms, event_key); new events are usually appended at the end, but a merged
  // identity hand-off can insert older events anywhere, so an encoder must compare
  // what it cached (by event_key) with what it finds here.
  v1::VisitorState* state = nullptr;
  // Event ids of this batch's own events for this visitor, in arrival order
  // (the triggers for decisions).
  std::vector<std::string_view> new_event_ids;
  // Processor clock at the arrival of the first of those events, microseconds.
  int64_t arrival_us = 0;
};

// Keeps each visitor's session embedding up to date. Not thread-safe: one instance per
// processing thread.
class SessionEncoder {
 public:
  virtual ~SessionEncoder() = default;
  virtual std::string model_version() const = 0;
  // Writes state->embedding (and model_version) for every update. Called once per poll
  // batch with all visitors touched in it, so the implementation can batch across them.
  virtual void Encode(std::span<VisitorUpdate> updates) = 0;
  // The partition's visitors are about to be handed to another process: drop caches.
  virtual void Forget(std::string_view visitor_id) = 0;

  // Cumulative lookups of the encoder's per-visitor cache, for metrics.
  struct CacheStats {
    uint64_t hits = 0;
    uint64_t misses = 0;
  };
  virtual CacheStats cache_stats() const { return {}; }
};

// Where an operator puts what it decides. Output is produced at-least-once, before
// the batch's state commits.
class DecisionSink {
 public:
  virtual ~DecisionSink() = default;
  virtual void Emit(const v1::Decision& decision) = 0;
  virtual void Emit(const v1::Trigger& trigger) = 0;
};

// Read access to state the operator needs besides the visitor's own (profiles, offer
// counters). Implemented by the state stage.
class StateView {
 public:
  virtual ~StateView() = default;
  // Returns false when the customer has no profile.
  virtual bool GetProfile(std::string_view customer_id, v1::CustomerProfile* out) const = 0;
  virtual bool GetOfferStats(std::string_view customer_id, std::string_view offer_id,
                             v1::OfferStats* out) const = 0;
};

// Turns updated sessions into intent labels and next-best offers.
class DecisionOperator {
 public:
  virtual ~DecisionOperator() = default;
  virtual void Decide(std::span<const VisitorUpdate> updates, const StateView& state,
                      DecisionSink& sink) = 0;
};

}  // namespace intentstream::op
