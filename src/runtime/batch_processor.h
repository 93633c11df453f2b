// Applies input messages to visitor state. Pure of Kafka: it takes messages and returns
// what to produce and what to commit, so it is tested without a broker.
//
// Apply() runs once per poll batch and keeps its changes in memory (a record cache, as
// Kafka Streams does between commits); TakeWrites() hands everything changed since the
// last commit over as one WriteSet together with the next input offsets of every
// partition consumed. A visitor touched in several polls between two commits is
// written once.
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
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/ids.h"
#include "common/logging.h"
#include "ingest/decoder.h"
#include "operator/stage.h"
#include "runtime/options.h"
#include "runtime/visitor_table.h"
#include "serve/processor_probe.h"
#include "state/store.h"

namespace intentstream::runtime {

struct InputMessage {
  ingest::TopicKind kind;
  std::string_view topic;
  Partition partition;
  Offset offset;
  std::string_view key;
  std::string_view payload;
  int64_t arrival_us = 0;  // steady clock when the processor received it
};

struct OutputMessage {
  std::string topic;
  std::string key;
  std::string value;
};

// Per-batch counts, summed by the caller for its run summary.
struct BatchCounts {
  uint64_t accepted = 0, duplicates = 0, dead_letters = 0, handoffs_sent = 0, handoffs_merged = 0,
           decisions = 0, triggers = 0;
};

class BatchProcessor {
 public:
  // `probe`, `encoder` and `decision_operator` may be null.
  BatchProcessor(const ProcessorOptions& options, state::StateStore& store,
                 serve::ProcessorProbe* probe, op::SessionEncoder* encoder,
                 op::DecisionOperator* decision_operator, std::string processor_version);

  // Applies `messages` (in partition order), appending what to produce to `outputs`.
  // Throws state::StateError on RocksDB failure.
  void Apply(std::span<const InputMessage> messages, int64_t now_ms,
             std::vector<OutputMessage>* outputs, BatchCounts* counts);

  struct Commit {
    state::WriteSet writes;
    std::vector<std::pair<TopicPartition, Offset>> next_offsets;
  };
  // Everything applied since the last call, as one atomic WriteSet (state and offsets).
  // The result is valid until the next call.
  Commit& TakeWrites();
  bool HasPending() const { return !next_offsets_.empty(); }
  size_t pending_visitors() const { return visitors_.dirty_count(); }

  // Drops cached visitor states: call when partitions are revoked, since another process
  // may change their state before they come back.
  void ClearCache() { visitors_.Clear(); }

 private:
  using Visitor = VisitorTable::Entry;
  void Touch(Visitor& v, std::string_view event_id, int64_t arrival_us);

  // Returns true if `dedup_key` was seen (in this batch or a committed one); else marks it.
  bool SeenBefore(const std::string& dedup_key);
  Visitor& LoadVisitor(const std::string& key);
  v1::OfferStats& LoadOffer(const std::string& key);

  void ApplyWeb(const v1::WebEvent& e, const InputMessage& m, std::vector<OutputMessage>* out,
                BatchCounts* counts);
  void ApplyApp(const v1::AppEvent& e, const InputMessage& m);
  void ApplyLink(const v1::IdentityLink& link, std::vector<OutputMessage>* out,
                 BatchCounts* counts);
  void ApplyProfile(const v1::CustomerProfile& p);
  void ApplyHandoff(const v1::IdentityHandoff& h, BatchCounts* counts);
  void SendHandoff(v1::IdentityHandoff& h, std::vector<OutputMessage>* out, BatchCounts* counts);
  void RunStages(std::vector<OutputMessage>* out, BatchCounts* counts);

  const ProcessorOptions& options_;
  state::StateStore& store_;
  serve::ProcessorProbe* probe_;
  op::SessionEncoder* encoder_;
  op::DecisionOperator* operator_;
  std::string version_;
  ingest::Decoder decoder_;
  ingest::DecodedMessage decoded_;

  // Visitor states: changed since the last commit, plus recently used clean ones.
  VisitorTable visitors_;
  std::vector<Visitor*> poll_touched_;  // visitors changed by the current Apply()
  std::vector<std::pair<TopicPartition, Offset>> next_offsets_;
  std::unordered_set<std::string> dedup_new_;
  std::unordered_map<std::string, v1::OfferStats> offers_;
  std::unordered_map<std::string, v1::CustomerProfile> profiles_;
  std::unordered_map<std::string, std::string> identity_puts_;
  std::string scratch_;
  Commit commit_;  // reused across commits
};

}  // namespace intentstream::runtime
