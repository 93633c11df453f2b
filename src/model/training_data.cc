#include "model/training_data.h"

#include <algorithm>

namespace intentstream::model {

std::vector<Window> CutWindows(const std::vector<Timeline>& timelines, int window, WindowCut cut,
                               std::mt19937_64& rng) {
  std::vector<Window> out;
  const auto w = static_cast<size_t>(window);
  for (const auto& tl : timelines) {
    const size_t n = tl.events.size();
    if (n < 2) continue;  // nothing to predict
    size_t end = n;
    if (cut == WindowCut::kRandomOffset && n > w) {
      // The last window holds 1..w events, so later ones start at different events.
      const size_t offset = rng() % w;
      if (offset > 0) {
        out.push_back({&tl, n - offset, n});
        end = n - offset;
      }
    }
    // Cut from the end so the most recent events get full context.
    while (end > 0) {
      const size_t begin = end > w ? end - w : 0;
      out.push_back({&tl, begin, end});
      end = begin;
    }
  }
  return out;
}

std::vector<std::vector<Window>> PlanBatches(std::vector<Window> windows, size_t batch,
                                             bool length_buckets, std::mt19937_64& rng) {
  std::shuffle(windows.begin(), windows.end(), rng);
  if (length_buckets) {
    const size_t group = 32 * batch;
    for (size_t g = 0; g < windows.size(); g += group) {
      const auto first = windows.begin() + static_cast<std::ptrdiff_t>(g);
      const auto last =
          windows.begin() + static_cast<std::ptrdiff_t>(std::min(windows.size(), g + group));
      std::stable_sort(first, last,
                       [](const Window& a, const Window& b) { return a.size() < b.size(); });
    }
  }
  std::vector<std::vector<Window>> batches;
  for (size_t b = 0; b < windows.size(); b += batch) {
    batches.emplace_back(
        windows.begin() + static_cast<std::ptrdiff_t>(b),
        windows.begin() + static_cast<std::ptrdiff_t>(std::min(windows.size(), b + batch)));
  }
  if (length_buckets) std::shuffle(batches.begin(), batches.end(), rng);
  return batches;
}

Batch MakeBatch(const Tokenizer& tok, std::span<const Window> windows, double mask_probability,
                int64_t session_gap_ms, std::mt19937_64& rng) {
  const int64_t b = static_cast<int64_t>(windows.size());
  int64_t t = 0;
  for (const auto& w : windows) t = std::max<int64_t>(t, static_cast<int64_t>(w.size()));
  Batch batch;
  batch.tokens = torch::zeros({b, t, kNumFields}, torch::kLong);
  auto fill = [&] { return torch::full({b, t}, -100, torch::kLong); };
  batch.next_category = fill();
  batch.next_product = fill();
  batch.next_type = fill();
  batch.mask_category = fill();
  batch.mask_product = fill();
  batch.mask_type = fill();
  auto tk = batch.tokens.accessor<int64_t, 3>();
  auto nc = batch.next_category.accessor<int64_t, 2>();
  auto np = batch.next_product.accessor<int64_t, 2>();
  auto nt = batch.next_type.accessor<int64_t, 2>();
  auto mc = batch.mask_category.accessor<int64_t, 2>();
  auto mp = batch.mask_product.accessor<int64_t, 2>();
  auto mt = batch.mask_type.accessor<int64_t, 2>();
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<Token> tokens;
  for (int64_t i = 0; i < b; ++i) {
    const auto& w = windows[static_cast<size_t>(i)];
    const auto ptrs = PointersTo(std::span(w.timeline->events).subspan(w.begin, w.size()));
    tok.TokenizeWindow(ptrs, &tokens);
    const auto len = static_cast<int64_t>(tokens.size());
    for (int64_t p = 0; p < len; ++p) {
      const Token& x = tokens[static_cast<size_t>(p)];
      for (int f = 0; f < kNumFields; ++f) tk[i][p][f] = x[f];
      const auto at = static_cast<size_t>(p);
      const bool next_in_session =
          p + 1 < len &&
          (session_gap_ms <= 0 || ptrs[at + 1]->time_ms() - ptrs[at]->time_ms() <= session_gap_ms);
      if (next_in_session) {
        const Token& y = tokens[static_cast<size_t>(p + 1)];
        // "No value" is not a target: it would teach the heads to predict absence.
        if (y[kFieldCategory] != kIdNone) nc[i][p] = y[kFieldCategory];
        if (y[kFieldProduct] != kIdNone) np[i][p] = y[kFieldProduct];
        if (y[kFieldEventType] != kIdNone) nt[i][p] = y[kFieldEventType];
      }
      if (uniform(rng) < mask_probability) {
        const int which = static_cast<int>(rng() % 3);
        const int field = which == 0   ? kFieldCategory
                          : which == 1 ? kFieldProduct
                                       : kFieldEventType;
        if (x[field] != kIdNone) {
          (which == 0 ? mc : which == 1 ? mp : mt)[i][p] = x[field];
          tk[i][p][field] = kIdMask;
        }
      }
    }
  }
  return batch;
}

}  // namespace intentstream::model
