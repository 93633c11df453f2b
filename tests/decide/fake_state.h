// An in-memory op::StateWriter and helpers for the decision stage's unit tests.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "operator/stage.h"

namespace intentstream::testing {

class FakeState : public op::StateWriter {
 public:
  const v1::CustomerProfile* Profile(std::string_view id) override {
    const auto it = profiles.find(std::string(id));
    return it == profiles.end() ? nullptr : &it->second;
  }
  const v1::CustomerOffers& Offers(std::string_view id) override { return offers[std::string(id)]; }
  v1::CustomerOffers& MutableOffers(std::string_view id) override {
    return offers[std::string(id)];
  }
  void PutDecision(std::string_view id, std::string_view placement,
                   const v1::Decision& d) override {
    decisions[std::string(id) + "/" + std::string(placement)] = d;
  }
  const std::string* TaskValue(int32_t task, std::string_view name) override {
    const auto it = task_values.find(std::to_string(task) + "/" + std::string(name));
    return it == task_values.end() ? nullptr : &it->second;
  }
  void PutTaskValue(int32_t task, std::string_view name, std::string value) override {
    task_values[std::to_string(task) + "/" + std::string(name)] = std::move(value);
  }

  std::map<std::string, v1::CustomerProfile> profiles;
  std::map<std::string, v1::CustomerOffers> offers;
  std::map<std::string, v1::Decision> decisions;
  std::map<std::string, std::string> task_values;
};

class CollectSink : public op::DecisionSink {
 public:
  void Emit(const v1::Decision& d) override { decisions.push_back(d); }
  void Emit(const v1::Trigger& t) override { triggers.push_back(t); }
  std::vector<v1::Decision> decisions;
  std::vector<v1::Trigger> triggers;
};

}  // namespace intentstream::testing
