// A copy of the `decisions` topic on disk: an op::DecisionOperator that forwards to
// another and appends every decision it emits to a JSON-lines file (protobuf's JSON
// mapping, one Decision per line), for offline checks such as the evaluation tool's
// message audit (`intentstream run ... --decisions-out FILE`). Like the topic it is
// at-least-once: a batch processed again after a crash appends its decisions again;
// `decision_id` identifies repeats. Triggers are not written (their messages are their
// decisions' top offers').
//
// Not thread-safe: used by the processing thread, like the operator it wraps.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>

#include "operator/stage.h"

namespace intentstream::runtime {

class DecisionLog final : public op::DecisionOperator {
 public:
  // Truncates `path`. Throws std::runtime_error when it cannot be written.
  DecisionLog(op::DecisionOperator& inner, const std::string& path);

  void Decide(std::span<op::VisitorUpdate> updates, op::StateWriter& state,
              op::DecisionSink& sink) override;
  // Forwards, then flushes the file: what a commit reflects is on disk. Throws
  // std::runtime_error on a write error.
  void Flush(op::StateWriter& state) override;
  void ForgetTasks() override { inner_.ForgetTasks(); }

  uint64_t written() const { return written_; }

 private:
  class Tee;
  op::DecisionOperator& inner_;
  std::string path_;
  std::ofstream out_;
  std::string line_;
  uint64_t written_ = 0;
};

}  // namespace intentstream::runtime
