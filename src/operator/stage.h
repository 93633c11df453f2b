// The seam between the streaming core and the model/decision stages.
//
// The processor applies input to visitor state in event-time order per task (the
// co-partitioned partitions with one number), then hands the visitors it changed to a
// SessionEncoder (which writes embeddings into the state) and then to a
// DecisionOperator (which scores intents, decides, and emits decisions and triggers).
//
// Steps. Customer-side input (app events, profiles, hand-offs) is applied in steps in
// which each customer changes by at most one event, so a decision made at an event sees
// exactly the state as of that event: the encoder and the operator run once per step,
// batched across the step's visitors. Anonymous-side input (web events, links) has no
// decisions and is applied a whole poll batch at a time.
//
// Both stages run on the processing thread, before the state they changed commits;
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

// The one input event that changed a visitor in a customer-side step.
struct StepEvent {
  enum class Kind : uint8_t { kNone, kWeb, kApp, kLink, kProfile, kHandoff };
  Kind kind = Kind::kNone;
  std::string_view event_id;                     // empty for profiles
  int64_t time_ms = 0;                           // event time
  const v1::AppEvent* app = nullptr;             // kApp
  const v1::WebEvent* web = nullptr;             // kWeb
  const v1::IdentityHandoff* handoff = nullptr;  // kHandoff
  const v1::CustomerProfile* profile = nullptr;  // kProfile
};

// A visitor whose state changed in the current step.
struct VisitorUpdate {
  std::string_view visitor_id;    // the state key (distinct for anonymous and customer ids)
  std::string_view customer_id;   // set for customers
  std::string_view anonymous_id;  // set for anonymous visitors
  // Mutable: the encoder writes `embedding` and `model_version`, the operator `intents`.
  // `events` is ascending by (time_ms, event_key); new events are usually appended at
  // the end, but a merged identity hand-off can insert older events anywhere, so an
  // encoder must compare what it cached (by event_key) with what it finds here.
  v1::VisitorState* state = nullptr;
  int32_t task = -1;  // partition number of the task the visitor belongs to
  // Customer side: the step's event. Anonymous side: kind kNone.
  StepEvent event;
  // Event ids of the visitor's own events applied in this step, in order.
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
  // Writes state->embedding (and model_version) for every update. Called once per step
  // with all visitors changed in it, so the implementation can batch across them.
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
// the state that produced it commits.
class DecisionSink {
 public:
  virtual ~DecisionSink() = default;
  virtual void Emit(const v1::Decision& decision) = 0;
  virtual void Emit(const v1::Trigger& trigger) = 0;
};

// State the operator reads and writes besides the visitor's own, implemented by the
// state stage: writes land in the same atomic commit as the input offsets that caused
// them. Pointers and references stay valid until the step ends.
class StateWriter {
 public:
  virtual ~StateWriter() = default;
  // The customer's latest profile, or nullptr when there is none.
  virtual const v1::CustomerProfile* Profile(std::string_view customer_id) = 0;
  // The customer's decision-stage state (empty when new).
  virtual const v1::CustomerOffers& Offers(std::string_view customer_id) = 0;
  // The same, to change: marks it for the next commit.
  virtual v1::CustomerOffers& MutableOffers(std::string_view customer_id) = 0;
  // The latest decision for a customer and placement (read by GET /v1/decisions).
  virtual void PutDecision(std::string_view customer_id, std::string_view placement,
                           const v1::Decision& decision) = 0;
  // A named value kept per task (partition number): the operator's per-task tables.
  // Returns nullptr when absent.
  virtual const std::string* TaskValue(int32_t task, std::string_view name) = 0;
  virtual void PutTaskValue(int32_t task, std::string_view name, std::string value) = 0;
};

// Turns updated sessions into intent labels, decisions and triggers. Not thread-safe:
// one instance per processing thread.
class DecisionOperator {
 public:
  virtual ~DecisionOperator() = default;
  // One step (see above). Writes intents into the visitors' states, feedback and
  // contacts into `state`, and emits decisions and triggers into `sink`.
  virtual void Decide(std::span<VisitorUpdate> updates, StateWriter& state, DecisionSink& sink) = 0;
  // Before each commit: write what the operator keeps in memory to `state`.
  virtual void Flush(StateWriter& state) = 0;
  // Partitions were revoked or are about to be: drop per-task caches.
  virtual void ForgetTasks() = 0;
};

}  // namespace intentstream::op
