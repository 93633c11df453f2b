#include "model/encoder_ranking.h"

#include <algorithm>
#include <limits>
#include <map>

#include "model/network.h"

namespace intentstream::model {

namespace {

// Cases that share a window: one forward over [start, end) serves them all.
struct WindowGroup {
  const Timeline* timeline;
  size_t start;
  size_t end;
  std::vector<std::pair<size_t, int64_t>> members;  // (case index, output position)
};

// Runs the encoder over the cases' windows, 128 windows per forward pass, and hands each
// batch's outputs at the cases' positions ([M, d]) to `sink` with the case of each row.
template <typename Sink>
void ForEachOutputBatch(const SessionModel& model, const std::vector<NextItemCase>& cases,
                        Sink&& sink) {
  auto& m = model.impl();
  const auto& c = m.config.encoder;
  std::vector<WindowGroup> groups;
  {
    std::map<std::pair<const Timeline*, size_t>, size_t> index;
    const Timeline* current = nullptr;
    std::vector<const v1::SessionEvent*> ptrs;
    for (size_t i = 0; i < cases.size(); ++i) {
      const auto& cs = cases[i];
      if (cs.timeline != current) {
        current = cs.timeline;
        ptrs = PointersTo(cs.timeline->events);
      }
      const size_t start = WindowStart(EventPtrs(ptrs).first(cs.target), c.window, c.window_stride);
      const auto [it, added] = index.try_emplace({cs.timeline, start}, groups.size());
      if (added) groups.push_back({cs.timeline, start, cs.target, {}});
      auto& g = groups[it->second];
      g.end = std::max(g.end, cs.target);
      g.members.emplace_back(i, static_cast<int64_t>(cs.target - 1 - start));
    }
  }
  // Windows of similar length share a forward pass: less padding.
  std::stable_sort(groups.begin(), groups.end(), [](const WindowGroup& a, const WindowGroup& b) {
    return a.end - a.start < b.end - b.start;
  });
  torch::NoGradGuard no_grad;
  const size_t batch = 128;
  std::vector<Token> tokens;
  for (size_t g0 = 0; g0 < groups.size(); g0 += batch) {
    const size_t g1 = std::min(groups.size(), g0 + batch);
    int64_t t = 1;
    for (size_t g = g0; g < g1; ++g) {
      t = std::max<int64_t>(t, static_cast<int64_t>(groups[g].end - groups[g].start));
    }
    auto x = torch::zeros({static_cast<int64_t>(g1 - g0), t, kNumFields}, torch::kLong);
    auto xa = x.accessor<int64_t, 3>();
    std::vector<int64_t> rows, positions;
    std::vector<size_t> case_of_row;
    for (size_t g = g0; g < g1; ++g) {
      const auto& grp = groups[g];
      const auto ptrs =
          PointersTo(std::span(grp.timeline->events).subspan(grp.start, grp.end - grp.start));
      m.tokenizer.TokenizeWindow(ptrs, &tokens);
      const auto row = static_cast<int64_t>(g - g0);
      for (size_t p = 0; p < tokens.size(); ++p) {
        for (int f = 0; f < kNumFields; ++f) xa[row][static_cast<int64_t>(p)][f] = tokens[p][f];
      }
      for (const auto& [case_index, position] : grp.members) {
        rows.push_back(row);
        positions.push_back(position);
        case_of_row.push_back(case_index);
      }
    }
    // Right padding is harmless: the encoder is causal.
    const auto h = m.net->forward(x);  // [G, T, d]
    sink(h.index({torch::tensor(rows, torch::kLong), torch::tensor(positions, torch::kLong)}),
         case_of_row);
  }
}

}  // namespace

std::vector<std::vector<int32_t>> EncoderTopK(const SessionModel& model,
                                              const std::vector<NextItemCase>& cases, size_t k) {
  auto& m = model.impl();
  std::vector<std::vector<int32_t>> out(cases.size());
  ForEachOutputBatch(
      model, cases, [&](const torch::Tensor& picked, const std::vector<size_t>& case_of_row) {
        auto logits = m.heads->NextCategory(picked, *m.net);
        logits.slice(1, 0, kFirstVocabId).fill_(-std::numeric_limits<float>::infinity());
        const int64_t ranked_items = logits.size(1) - kFirstVocabId;
        const auto top =
            std::get<1>(logits.topk(std::min<int64_t>(static_cast<int64_t>(k), ranked_items), 1));
        auto ta = top.accessor<int64_t, 2>();
        for (int64_t i = 0; i < top.size(0); ++i) {
          auto& ranked = out[case_of_row[static_cast<size_t>(i)]];
          for (int64_t j = 0; j < top.size(1); ++j)
            ranked.push_back(static_cast<int32_t>(ta[i][j]));
        }
      });
  return out;
}

std::vector<std::vector<float>> EncoderOutputs(const SessionModel& model,
                                               const std::vector<NextItemCase>& cases) {
  std::vector<std::vector<float>> out(cases.size());
  ForEachOutputBatch(
      model, cases, [&](const torch::Tensor& picked, const std::vector<size_t>& case_of_row) {
        const auto y = picked.contiguous();
        const float* p = y.data_ptr<float>();
        const int64_t d = y.size(1);
        for (int64_t i = 0; i < y.size(0); ++i) {
          out[case_of_row[static_cast<size_t>(i)]].assign(p + i * d, p + (i + 1) * d);
        }
      });
  return out;
}

}  // namespace intentstream::model
