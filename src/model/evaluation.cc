#include "model/evaluation.h"

#include <algorithm>
#include <cstdio>
#include <random>

namespace intentstream::model {

const char* ProtocolName(Protocol p) {
  return p == Protocol::kLastItem ? "last item" : "every next item";
}

void AppendNextItemCases(const Timeline& tl, const Tokenizer& tok, int64_t session_gap_ms,
                         Protocol protocol, std::vector<NextItemCase>* cases) {
  for (const auto& [begin, end] : Sessionize(tl, session_gap_ms)) {
    if (end - begin < 2) continue;
    const size_t first = protocol == Protocol::kLastItem ? end - 1 : begin + 1;
    for (size_t target = first; target < end; ++target) {
      const int32_t item = tok.CategoryId(tl.events[target].category());
      if (IsItem(item)) cases->push_back({&tl, begin, target, item});
    }
  }
}

std::vector<NextItemCase> BuildNextItemCases(const std::vector<Timeline>& timelines,
                                             const Tokenizer& tok, int64_t session_gap_ms,
                                             Protocol protocol, size_t max_cases, uint64_t seed) {
  std::vector<NextItemCase> cases;
  for (const auto& tl : timelines) AppendNextItemCases(tl, tok, session_gap_ms, protocol, &cases);
  if (max_cases > 0 && cases.size() > max_cases) {
    // A seeded sample, kept in timeline order (the model's batches share windows).
    std::vector<size_t> index(cases.size());
    for (size_t i = 0; i < index.size(); ++i) index[i] = i;
    std::mt19937_64 rng(seed);
    std::shuffle(index.begin(), index.end(), rng);
    index.resize(max_cases);
    std::sort(index.begin(), index.end());
    std::vector<NextItemCase> sample;
    sample.reserve(max_cases);
    for (size_t i : index) sample.push_back(cases[i]);
    cases = std::move(sample);
  }
  return cases;
}

void SessionItemsBefore(const NextItemCase& c, const Tokenizer& tok, std::vector<int32_t>* items) {
  items->clear();
  for (size_t i = c.session_begin; i < c.target; ++i) {
    items->push_back(tok.CategoryId(c.timeline->events[i].category()));
  }
}

void RankMetrics::Add(const std::vector<int32_t>& ranked, int32_t target) {
  ++cases;
  for (size_t i = 0; i < ranked.size() && i < k; ++i) {
    if (ranked[i] == target) {
      hits += 1;
      reciprocal_rank_sum += 1.0 / static_cast<double>(i + 1);
      return;
    }
  }
}

std::vector<MethodMetrics> EvaluateBaselines(const Baselines& baselines,
                                             const CasesByProtocol& cases, const Tokenizer& tok,
                                             size_t k) {
  std::vector<MethodMetrics> rows;
  std::vector<int32_t> session, ranked;
  for (const NextItemBaseline* b : baselines.all()) {
    MethodMetrics row;
    row.name = b->name();
    for (Protocol p : kProtocols) {
      RankMetrics& m = row[p];
      m.k = k;
      for (const auto& c : cases[static_cast<size_t>(p)]) {
        SessionItemsBefore(c, tok, &session);
        b->Recommend(session, k, &ranked);
        m.Add(ranked, c.target_item);
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string FormatMetricsTable(const std::vector<MethodMetrics>& rows) {
  const size_t k = rows.empty() ? 20 : rows.front()[Protocol::kLastItem].k;
  const std::string r = "Recall@" + std::to_string(k);
  const std::string m = "MRR@" + std::to_string(k);
  char buf[512];
  std::string out;
  std::snprintf(buf, sizeof(buf), "| %-36s | %-16s | %-13s | %-16s | %-13s |\n", "method",
                ("last: " + r).c_str(), ("last: " + m).c_str(), ("next: " + r).c_str(),
                ("next: " + m).c_str());
  out += buf;
  out += "|" + std::string(38, '-') + "|" + std::string(17, '-') + ":|" + std::string(14, '-') +
         ":|" + std::string(17, '-') + ":|" + std::string(14, '-') + ":|\n";
  for (const auto& row : rows) {
    const auto& a = row[Protocol::kLastItem];
    const auto& b = row[Protocol::kEveryNextItem];
    std::snprintf(buf, sizeof(buf), "| %-36s | %16.4f | %13.4f | %16.4f | %13.4f |\n",
                  row.name.c_str(), a.Recall(), a.Mrr(), b.Recall(), b.Mrr());
    out += buf;
  }
  if (!rows.empty()) {
    out += "\nlast = the last item of each held-out session (" +
           std::to_string(rows.front()[Protocol::kLastItem].cases) +
           " cases); next = every next item of each held-out session (" +
           std::to_string(rows.front()[Protocol::kEveryNextItem].cases) + " cases).\n";
  }
  return out;
}

std::string CompareWithBest(const MethodMetrics& candidate,
                            const std::vector<MethodMetrics>& others) {
  std::vector<std::string> behind;
  const size_t k = candidate[Protocol::kLastItem].k;
  for (Protocol p : kProtocols) {
    double best_recall = 0, best_mrr = 0;
    std::string recall_name, mrr_name;
    for (const auto& o : others) {
      if (o[p].Recall() > best_recall) best_recall = o[p].Recall(), recall_name = o.name;
      if (o[p].Mrr() > best_mrr) best_mrr = o[p].Mrr(), mrr_name = o.name;
    }
    const char* proto = p == Protocol::kLastItem ? "last" : "next";
    if (candidate[p].Recall() <= best_recall) {
      behind.push_back(std::string(proto) + " Recall@" + std::to_string(k) + " (" + recall_name +
                       ")");
    }
    if (candidate[p].Mrr() <= best_mrr) {
      behind.push_back(std::string(proto) + " MRR@" + std::to_string(k) + " (" + mrr_name + ")");
    }
  }
  if (behind.empty()) {
    return "above every baseline on Recall@" + std::to_string(k) + " and MRR@" + std::to_string(k) +
           " under both protocols";
  }
  std::string out = "not above the best baseline on";
  for (size_t i = 0; i < behind.size(); ++i) out += (i ? ", " : " ") + behind[i];
  return out;
}

}  // namespace intentstream::model
