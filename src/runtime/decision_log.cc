#include "runtime/decision_log.h"

#include <google/protobuf/util/json_util.h>

#include <stdexcept>

namespace intentstream::runtime {

// Passes everything on and writes the decisions down.
class DecisionLog::Tee final : public op::DecisionSink {
 public:
  Tee(op::DecisionSink& next, DecisionLog& log) : next_(next), log_(log) {}
  void Emit(const v1::Decision& d) override {
    next_.Emit(d);
    log_.line_.clear();
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    if (!google::protobuf::util::MessageToJsonString(d, &log_.line_, options).ok()) return;
    log_.out_ << log_.line_ << '\n';
    ++log_.written_;
  }
  void Emit(const v1::Trigger& t) override { next_.Emit(t); }

 private:
  op::DecisionSink& next_;
  DecisionLog& log_;
};

DecisionLog::DecisionLog(op::DecisionOperator& inner, const std::string& path)
    : inner_(inner), path_(path), out_(path, std::ios::trunc) {
  if (!out_) throw std::runtime_error("--decisions-out: cannot write " + path);
}

void DecisionLog::Decide(std::span<op::VisitorUpdate> updates, op::StateWriter& state,
                         op::DecisionSink& sink) {
  Tee tee(sink, *this);
  inner_.Decide(updates, state, tee);
}

void DecisionLog::Flush(op::StateWriter& state) {
  inner_.Flush(state);
  out_.flush();
  if (!out_) throw std::runtime_error("--decisions-out: write failed: " + path_);
}

}  // namespace intentstream::runtime
