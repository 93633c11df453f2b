// In-memory state and sink for driving the decision operator in tests, and builders of
// the visitor updates the processor would hand it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "intentstream/v1/decisions.pb.h"
#include "intentstream/v1/events.pb.h"
#include "intentstream/v1/state.pb.h"
#include "operator/stage.h"

namespace intentstream::testing {

class MemoryState final : public op::StateWriter {
 public:
  const v1::CustomerProfile* Profile(std::string_view customer_id) override {
    const auto it = profiles.find(std::string(customer_id));
    return it == profiles.end() ? nullptr : &it->second;
  }
  const v1::CustomerOffers& Offers(std::string_view customer_id) override {
    return offers[std::string(customer_id)];
  }
  v1::CustomerOffers& MutableOffers(std::string_view customer_id) override {
    return offers[std::string(customer_id)];
  }
  void PutDecision(std::string_view customer_id, std::string_view placement,
                   const v1::Decision& decision) override {
    latest[std::string(customer_id) + "|" + std::string(placement)] = decision;
  }
  const std::string* TaskValue(int32_t task, std::string_view name) override {
    const auto it = task_values.find(std::to_string(task) + "|" + std::string(name));
    return it == task_values.end() ? nullptr : &it->second;
  }
  void PutTaskValue(int32_t task, std::string_view name, std::string value) override {
    task_values[std::to_string(task) + "|" + std::string(name)] = std::move(value);
  }

  std::map<std::string, v1::CustomerProfile> profiles;
  std::map<std::string, v1::CustomerOffers> offers;
  std::map<std::string, v1::Decision> latest;
  std::map<std::string, std::string> task_values;
};

class CollectingSink final : public op::DecisionSink {
 public:
  void Emit(const v1::Decision& d) override { decisions.push_back(d); }
  void Emit(const v1::Trigger& t) override { triggers.push_back(t); }
  std::vector<v1::Decision> decisions;
  std::vector<v1::Trigger> triggers;
};

// A customer's session, grown event by event, and the step updates the operator sees.
class CustomerSession {
 public:
  explicit CustomerSession(std::string id) : id_(std::move(id)) {}

  // Appends an event to the state (as the processor does before deciding).
  void Add(const v1::SessionEvent& e) {
    *state_.add_events() = e;
    state_.set_last_event_ms(e.time_ms());
  }
  // The update for an app event already added with Add().
  op::VisitorUpdate Update(const v1::AppEvent& app, int64_t time_ms) {
    app_ = app;
    op::VisitorUpdate u;
    u.visitor_id = id_;
    u.customer_id = id_;
    u.state = &state_;
    u.task = 0;
    u.event.kind = op::StepEvent::Kind::kApp;
    u.event.event_id = app_.event_id();
    u.event.time_ms = time_ms;
    u.event.app = &app_;
    return u;
  }
  v1::VisitorState& state() { return state_; }
  const std::string& id() const { return id_; }

 private:
  std::string id_;
  v1::VisitorState state_;
  v1::AppEvent app_;
};

}  // namespace intentstream::testing
