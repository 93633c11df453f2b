#include "runtime/decision_log.h"

#include <google/protobuf/util/json_util.h>

#include <stdexcept>

namespace intentstream::runtime {

DecisionFile::DecisionFile(const std::string& path) : path_(path), out_(path, std::ios::trunc) {
  if (!out_) throw std::runtime_error("--decisions-out: cannot write " + path);
}

void DecisionFile::Append(const v1::Decision& d) {
  std::string line;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(d, &line, options).ok()) return;
  line.push_back('\n');
  std::lock_guard lock(mu_);
  out_ << line;
  written_.fetch_add(1);
}

void DecisionFile::Flush() {
  std::lock_guard lock(mu_);
  out_.flush();
  if (!out_) throw std::runtime_error("--decisions-out: write failed: " + path_);
}

// Passes everything on and writes the decisions down.
class DecisionLog::Tee final : public op::DecisionSink {
 public:
  Tee(op::DecisionSink& next, DecisionFile& file) : next_(next), file_(file) {}
  void Emit(const v1::Decision& d) override {
    next_.Emit(d);
    file_.Append(d);
  }
  void Emit(const v1::Trigger& t) override { next_.Emit(t); }

 private:
  op::DecisionSink& next_;
  DecisionFile& file_;
};

DecisionLog::DecisionLog(op::DecisionOperator& inner, std::shared_ptr<DecisionFile> file)
    : inner_(inner), file_(std::move(file)) {}

void DecisionLog::Decide(std::span<op::VisitorUpdate> updates, op::StateWriter& state,
                         op::DecisionSink& sink) {
  Tee tee(sink, *file_);
  inner_.Decide(updates, state, tee);
}

void DecisionLog::Flush(op::StateWriter& state) {
  inner_.Flush(state);
  file_->Flush();
}

}  // namespace intentstream::runtime
