// Next-item evaluation on held-out sessions, under the two protocols of the session-based
// recommendation benchmarks:
//   last item        each held-out session's last item is predicted from what came
//                    before it (one case per session);
//   every next item  every item of a held-out session after its first is predicted from
//                    what came before it (one case per event).
// An item is an event's page or screen category id. Methods are scored by Recall@K and
// MRR@K: the baselines of baselines.h, fitted on the training sessions in the same run,
// see the session's items before the target; the session encoder sees the visitor's
// window before the target, as serving would (trainer.cc). No torch includes.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "model/baselines.h"
#include "model/dataset.h"
#include "model/tokenizer.h"

namespace intentstream::model {

enum class Protocol { kLastItem = 0, kEveryNextItem = 1 };
constexpr std::array<Protocol, 2> kProtocols{Protocol::kLastItem, Protocol::kEveryNextItem};
const char* ProtocolName(Protocol protocol);  // "last item", "every next item"

struct NextItemCase {
  const Timeline* timeline = nullptr;
  size_t session_begin = 0;  // index in timeline->events of the session's first event
  size_t target = 0;         // index of the event whose item is predicted
  int32_t target_item = 0;   // its category id (a vocabulary id or hashed bucket)
};

// The cases of `protocol` on held-out timelines (sessions split by `session_gap_ms` of
// inactivity; targets with a real item only). At most max_cases (0 = all), sampled with
// `seed`, in timeline order.
std::vector<NextItemCase> BuildNextItemCases(const std::vector<Timeline>& timelines,
                                             const Tokenizer& tokenizer, int64_t session_gap_ms,
                                             Protocol protocol, size_t max_cases, uint64_t seed);

// The cases of `protocol` in one timeline, appended to *cases (which point into `timeline`).
void AppendNextItemCases(const Timeline& timeline, const Tokenizer& tokenizer,
                         int64_t session_gap_ms, Protocol protocol,
                         std::vector<NextItemCase>* cases);

// The case's session items before the target, in event order.
void SessionItemsBefore(const NextItemCase& c, const Tokenizer& tokenizer,
                        std::vector<int32_t>* items);

struct RankMetrics {
  size_t k = 20;
  size_t cases = 0;
  double hits = 0;
  double reciprocal_rank_sum = 0;
  void Add(const std::vector<int32_t>& ranked, int32_t target);
  double Recall() const { return cases ? hits / static_cast<double>(cases) : 0; }
  double Mrr() const { return cases ? reciprocal_rank_sum / static_cast<double>(cases) : 0; }
};

// One method's figures under both protocols (indexed by Protocol).
struct MethodMetrics {
  std::string name;
  std::array<RankMetrics, 2> by_protocol;
  const RankMetrics& operator[](Protocol p) const { return by_protocol[static_cast<size_t>(p)]; }
  RankMetrics& operator[](Protocol p) { return by_protocol[static_cast<size_t>(p)]; }
};

using CasesByProtocol = std::array<std::vector<NextItemCase>, 2>;

// Scores every baseline on the cases of both protocols, top-k lists.
std::vector<MethodMetrics> EvaluateBaselines(const Baselines& baselines,
                                             const CasesByProtocol& cases,
                                             const Tokenizer& tokenizer, size_t k);

// A markdown table of the methods (Recall@K and MRR@K under both protocols) and a line
// with the case counts.
std::string FormatMetricsTable(const std::vector<MethodMetrics>& rows);

// How `candidate` compares with the best of `others` on each metric and protocol, e.g.
// "above every baseline on Recall@20 and MRR@20 under both protocols" or the list of
// the metrics where a baseline is ahead.
std::string CompareWithBest(const MethodMetrics& candidate,
                            const std::vector<MethodMetrics>& others);

}  // namespace intentstream::model
