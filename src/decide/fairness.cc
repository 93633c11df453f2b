#include "decide/fairness.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace intentstream::decide {

FairnessMonitor::FairnessMonitor(const FairnessOptions& options, size_t offers)
    : options_(options), groups_(options.groups) {
  groups_.push_back("other");
  options_.buckets = std::max(1, options_.buckets);
  width_ms_ = std::max<int64_t>(1, options_.window_ms / options_.buckets);
  Reset(offers);
}

void FairnessMonitor::Reset(size_t offers) {
  offers_ = offers;
  newest_ = INT64_MIN;
  bucket_id_.assign(static_cast<size_t>(options_.buckets), INT64_MIN);
  counts_.assign(static_cast<size_t>(options_.buckets) * groups_.size() * offers_, 0);
  totals_.assign(groups_.size() * offers_, 0);
}

size_t FairnessMonitor::GroupOf(const v1::CustomerProfile* profile) const {
  if (profile != nullptr && profile->has_monitoring()) {
    const std::string& g = profile->monitoring().gender();
    for (size_t i = 0; i + 1 < groups_.size(); ++i) {
      if (groups_[i] == g) return i;
    }
  }
  return groups_.size() - 1;
}

void FairnessMonitor::Advance(int64_t bucket) {
  if (bucket <= newest_) return;
  const auto slots = static_cast<int64_t>(bucket_id_.size());
  const size_t cells = groups_.size() * offers_;
  // Every slot that held a bucket now out of the window is emptied (at most all of them).
  const int64_t from =
      newest_ == INT64_MIN ? bucket - slots + 1 : std::max(newest_ + 1, bucket - slots + 1);
  for (int64_t b = from; b <= bucket; ++b) {
    const auto slot = static_cast<size_t>(((b % slots) + slots) % slots);
    if (bucket_id_[slot] != INT64_MIN) {
      uint32_t* c = &counts_[slot * cells];
      for (size_t i = 0; i < cells; ++i) {
        totals_[i] -= c[i];
        c[i] = 0;
      }
    }
    bucket_id_[slot] = b;
  }
  newest_ = bucket;
}

void FairnessMonitor::Shown(size_t group, int offer, int64_t time_ms) {
  if (offer < 0 || static_cast<size_t>(offer) >= offers_ || group >= groups_.size()) return;
  const int64_t bucket =
      time_ms >= 0 ? time_ms / width_ms_ : -((-time_ms + width_ms_ - 1) / width_ms_);
  const auto slots = static_cast<int64_t>(bucket_id_.size());
  if (newest_ != INT64_MIN && bucket <= newest_ - slots) return;  // older than the window
  Advance(bucket);
  const auto slot = static_cast<size_t>(((bucket % slots) + slots) % slots);
  const size_t cell = Cell(group, static_cast<size_t>(offer));
  ++counts_[slot * groups_.size() * offers_ + cell];
  ++totals_[cell];
}

std::vector<uint64_t> FairnessMonitor::GroupTiles() const {
  std::vector<uint64_t> out(groups_.size(), 0);
  for (size_t g = 0; g < groups_.size(); ++g) {
    for (size_t o = 0; o < offers_; ++o) out[g] += totals_[Cell(g, o)];
  }
  return out;
}

void FairnessMonitor::Skews(std::vector<double>* out) const {
  const size_t groups = groups_.size();
  out->assign(offers_ * groups, std::numeric_limits<double>::quiet_NaN());
  const std::vector<uint64_t> by_group = GroupTiles();
  uint64_t all = 0;
  for (uint64_t n : by_group) all += n;
  for (size_t o = 0; o < offers_; ++o) {
    uint64_t offer_tiles = 0;
    for (size_t g = 0; g < groups; ++g) offer_tiles += totals_[Cell(g, o)];
    if (offer_tiles < options_.min_tiles || all == 0) continue;
    const double overall = static_cast<double>(offer_tiles) / static_cast<double>(all);
    for (size_t g = 0; g < groups; ++g) {
      if (by_group[g] < options_.min_tiles) continue;
      const double share =
          static_cast<double>(totals_[Cell(g, o)]) / static_cast<double>(by_group[g]);
      (*out)[o * groups + g] = share / overall - 1;
    }
  }
}

}  // namespace intentstream::decide
