// Applies one poll batch of input messages to state. Pure of Kafka: it takes messages
// and returns what to produce and what to commit, so it is tested without a broker.
//
// Contract with the caller (Processor): produce `outputs`, wait for their delivery,
// then commit the returned WriteSet. The WriteSet holds the state changes and the next
// input offsets of every partition in the batch, so after a crash the processor resumes
// exactly where its state stands (no event counted twice, none lost), and outputs are
// at-least-once with deterministic ids.
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
  uint64_t accepted = 0, duplicates = 0, dead_letters = 0, handoffs_sent = 0,
           handoffs_merged = 0, decisions = 0, triggers = 0;
};

class BatchProcessor {
 public:
  // `probe`, `encoder` and `decision_operator` may be null.
  BatchProcessor(const ProcessorOptions& options, state::StateStore& store,
                 serve::ProcessorProbe* probe, op::SessionEncoder* encoder,
                 op::DecisionOperator* decision_operator, std::string processor_version);

  // Applies `messages` (in partition order) and returns the WriteSet to commit once
  // `outputs` are delivered. Throws state::StateError on RocksDB failure.
  state::WriteSet Process(std::span<const InputMessage> messages, int64_t now_ms,
                          std::vector<OutputMessage>* outputs, BatchCounts* counts);

 private:
  struct Visitor {
    std::string key;
    v1::VisitorState state;
    bool dirty = false;
    std::vector<std::string> new_event_ids;
    int64_t first_arrival_us = 0;
  };

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

  // Batch working set, cleared at the start of each Process().
  std::unordered_map<std::string, Visitor> visitors_;
  std::vector<std::string> visitor_order_;  // deterministic write and stage order
  std::unordered_set<std::string> dedup_new_;
  std::unordered_map<std::string, v1::OfferStats> offers_;
  std::unordered_map<std::string, v1::CustomerProfile> profiles_;
  std::unordered_map<std::string, std::string> identity_puts_;
  std::string scratch_;
};

}  // namespace intentstream::runtime
