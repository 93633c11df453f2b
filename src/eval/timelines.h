// What the processor's state holds for a customer at a moment of event time, rebuilt
// from a generated world: the customer's own app events plus the web events of every
// anonymous id linked to the customer by then (the identity hand-off carries a linked
// id's history at the link and each later web event after it), as the compact
// SessionEvents of ingest::ToSessionEvent, ascending by (time_ms, event_key), cut to
// the state's window (`session.max_events`, 64 by default).
//
// The teachers, the intent head's training and the evaluation all read sessions
// through this one view, so they see what serving sees. It reads no truth.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "intentstream/v1/state.pb.h"

namespace intentstream::eval {

struct Dataset;

struct VisibleOptions {
  bool with_web = true;  // false: the customer's own app events only
  int max_events = 64;   // the state's window; 0 = everything
};

class Timelines {
 public:
  // Indexes the dataset's events (which must outlive this object).
  explicit Timelines(const Dataset& data);

  // Events the customer's state holds right after the event at `time_ms` (events at
  // that time count). `out` is replaced; pointers stay valid as long as the dataset.
  void Visible(const std::string& customer_id, int64_t time_ms, const VisibleOptions& options,
               std::vector<const v1::SessionEvent*>* out) const;

  // Every event the customer's state receives with an arrival in [from_ms, to_ms], in
  // arrival order: an app event arrives at its time, a linked id's web event at its time
  // or, if older, at the link (its history comes with the hand-off). The steps to replay.
  struct Step {
    int64_t arrival_ms = 0;
    const v1::SessionEvent* event = nullptr;
  };
  void Steps(const std::string& customer_id, int64_t from_ms, int64_t to_ms,
             const VisibleOptions& options, std::vector<Step>* out) const;

  // The customer's sessions in [from_ms, to_ms]: runs of the events its state receives
  // (Steps) with no gap over `gap_ms` (the processor's 30-minute convention), each as
  // its first and last arrival time. A teacher labels a session by the state window as of
  // its last event.
  struct Span {
    int64_t start_ms = 0;
    int64_t end_ms = 0;
    uint64_t first_event_key = 0;
    size_t events = 0;
  };
  void Sessions(const std::string& customer_id, int64_t from_ms, int64_t to_ms,
                const VisibleOptions& options, int64_t gap_ms, std::vector<Span>* out) const;

  // "<customer>/<16 hex digits of the session's first event key>": stable across runs.
  static std::string SessionId(const std::string& customer_id, const Span& span);

  // Customers with app events, sorted by id.
  const std::vector<std::string>& customers() const { return customers_; }

 private:
  struct Linked {
    int64_t link_ms = 0;
    const std::vector<v1::SessionEvent>* web = nullptr;
  };
  struct Customer {
    const std::vector<v1::SessionEvent>* app = nullptr;
    std::vector<Linked> linked;
  };
  const Customer* Find(const std::string& customer_id) const;

  std::unordered_map<std::string, Customer> by_customer_;
  std::vector<std::string> customers_;
};

// Every customer's sessions with the state window as of each session's end, in customer
// then time order: what a teacher labels.
struct SessionWindow {
  std::string id;
  std::string customer_id;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int split = 0;  // of end_ms
  std::vector<const v1::SessionEvent*> events;
};
inline constexpr int64_t kSessionGapMs = 30 * 60 * 1000;
std::vector<SessionWindow> BuildSessionWindows(const Dataset& data, const Timelines& timelines,
                                               const VisibleOptions& options,
                                               int64_t gap_ms = kSessionGapMs);

}  // namespace intentstream::eval
