// A copy of the `decisions` topic on disk: an op::DecisionOperator that forwards to
// another and appends every decision it emits to a JSON-lines file (protobuf's JSON
// mapping, one Decision per line), for offline checks such as the evaluation tool's
// message audit (`intentstream run ... --decisions-out FILE`). Like the topic it is
// at-least-once: a batch processed again after a crash appends its decisions again;
// `decision_id` identifies repeats. Triggers are not written (their messages are their
// decisions' top offers').
//
// One DecisionFile per process, shared by the processing threads' DecisionLogs (each
// used by its own thread, like the operator it wraps); lines never interleave.
#pragma once

#include <atomic>
#include <cstdint>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>

#include "operator/stage.h"

namespace intentstream::runtime {

class DecisionFile {
 public:
  // Truncates `path`. Throws std::runtime_error when it cannot be written.
  explicit DecisionFile(const std::string& path);
  void Append(const v1::Decision& decision);
  // What was appended is on disk. Throws std::runtime_error on a write error.
  void Flush();
  uint64_t written() const { return written_.load(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::mutex mu_;  // guards out_
  std::ofstream out_;
  std::atomic<uint64_t> written_{0};
};

class DecisionLog final : public op::DecisionOperator {
 public:
  DecisionLog(op::DecisionOperator& inner, std::shared_ptr<DecisionFile> file);

  void Decide(std::span<op::VisitorUpdate> updates, op::StateWriter& state,
              op::DecisionSink& sink) override;
  // Forwards, then flushes the file: what a commit reflects is on disk.
  void Flush(op::StateWriter& state) override;
  void ForgetTasks() override { inner_.ForgetTasks(); }

 private:
  class Tee;
  op::DecisionOperator& inner_;
  std::shared_ptr<DecisionFile> file_;
};

}  // namespace intentstream::runtime
