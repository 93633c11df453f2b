// Applies input records to state. Pure of Kafka: it takes records and returns what to
// produce and what to commit, so it is tested without a broker.
//
// Decode() turns a message into a record (decoded, validated, stamped with its event
// time) when it arrives; the EventTimeScheduler orders records; Apply() applies a run of
// released records in that order:
//   - anonymous side (web events, links): state transitions, identity hand-offs out;
//     the encoder and the operator run once for all of them at the end;
//   - customer side (app events, profiles, hand-offs): in steps in which each customer
//     changes at most once; the encoder and the operator run at the end of each step,
//     so a decision made at an event sees the state as of that event and nothing later,
//     however the input was batched (op/stage.h).
// Changes stay in the BatchState until TakeWrites() hands them over as one WriteSet
// with the next input offsets.
//
// Contract with the caller (Processor): produce each Apply()'s `outputs` and wait for
// their delivery before committing the WriteSet that covers them. Then after a crash the
// processor resumes exactly where its state stands (no event counted twice, none lost),
// and outputs are at-least-once with deterministic ids.
//
// Not thread-safe: one instance per processing thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/ids.h"
#include "common/logging.h"
#include "ingest/decoder.h"
#include "operator/stage.h"
#include "runtime/input_record.h"
#include "runtime/options.h"
#include "serve/processor_probe.h"
#include "state/batch_state.h"
#include "state/store.h"

namespace intentstream::runtime {

// Message key of watermark records on the hand-off topic: a control character cannot
// start a validated id, so no customer id collides with it.
inline constexpr std::string_view kWatermarkKeyPrefix = "\x01watermark/";

class BatchProcessor {
 public:
  // `probe`, `encoder` and `decision_operator` may be null.
  BatchProcessor(const ProcessorOptions& options, state::StateStore& store,
                 serve::ProcessorProbe* probe, op::SessionEncoder* encoder,
                 op::DecisionOperator* decision_operator, std::string processor_version);

  // Partition count of the co-partitioned inputs (known after the metadata check): input
  // on another partition than its key's is rejected (`wrong_partition`). 0: not checked.
  void SetPartitionCount(int32_t n) { partition_count_ = n; }

  // Decodes and validates `r->message` into `r` and stamps its event time.
  void Decode(InputRecord* r, int64_t now_ms) const;

  // Applies released records in order, appending what to produce to `outputs`.
  // Throws state::StateError on RocksDB failure.
  void Apply(std::span<InputRecord* const> records, int64_t now_ms,
             std::vector<OutputMessage>* outputs, BatchCounts* counts);
  // Decode() and Apply() of raw messages in the given order (tests, benchmarks).
  void ApplyMessages(std::span<const InputMessage> messages, int64_t now_ms,
                     std::vector<OutputMessage>* outputs, BatchCounts* counts);

  using Commit = state::BatchState::Commit;
  // Everything applied since the last call, as one atomic WriteSet (state and offsets).
  // The result is valid until the next call.
  Commit& TakeWrites();
  bool HasPending() const { return state_.HasPending(); }
  size_t pending_visitors() const { return state_.pending_visitors(); }
  state::BatchState& state() { return state_; }

  // Drops cached visitor states: call when partitions are revoked, since another process
  // may change their state before they come back.
  void ClearCache();

 private:
  using Visitor = state::BatchState::Visitor;

  void ApplyWeb(const InputRecord& r, std::vector<OutputMessage>* out, BatchCounts* counts);
  void ApplyLink(const InputRecord& r, std::vector<OutputMessage>* out, BatchCounts* counts);
  void ApplyApp(const InputRecord& r);
  void ApplyProfile(const InputRecord& r, BatchCounts* counts);
  void ApplyHandoff(const InputRecord& r, BatchCounts* counts);
  void SendHandoff(const v1::IdentityHandoff& h, std::vector<OutputMessage>* out,
                   BatchCounts* counts);
  void DeadLetter(const InputRecord& r, std::vector<OutputMessage>* out, BatchCounts* counts);

  // A customer-side record for `v`: ends the current step first if `v` is already in it.
  Visitor& CustomerForStep(std::string_view customer_id, std::vector<OutputMessage>* out,
                           BatchCounts* counts);
  void JoinStep(Visitor& v, const InputRecord& r, op::StepEvent event);
  void RunStep(std::vector<OutputMessage>* out, BatchCounts* counts);
  void RunAnonymousStage(std::vector<OutputMessage>* out, BatchCounts* counts);
  void RunStages(std::span<op::VisitorUpdate> updates, std::vector<OutputMessage>* out,
                 BatchCounts* counts);

  const ProcessorOptions& options_;
  serve::ProcessorProbe* probe_;
  op::SessionEncoder* encoder_;
  op::DecisionOperator* operator_;
  std::string version_;
  ingest::Decoder decoder_;
  state::BatchState state_;
  int32_t partition_count_ = 0;

  std::vector<Visitor*> step_;  // customers changed in the current step
  std::vector<op::StepEvent> step_events_;
  std::vector<int32_t> step_tasks_;
  std::vector<Visitor*> anonymous_;  // anonymous visitors changed in this Apply()
  std::vector<int32_t> anonymous_tasks_;
  std::vector<op::VisitorUpdate> updates_;
  state::EvictedKeys evicted_;        // scratch: keys that left a window in this step
  double stage_seconds_[2] = {0, 0};  // model, operator: summed per Apply()
};

}  // namespace intentstream::runtime
