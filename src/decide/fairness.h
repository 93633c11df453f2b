// The fairness monitor (ARCHITECTURE §5): for each offer and monitored group, the
// offer's share of the homepage tiles shown to the group against its share of all
// tiles, over a rolling window of event time. Protected attributes
// (CustomerProfile.monitoring) are read here and nowhere else in the decision stage:
// no feature, model or policy sees them (features.h copies the profile without them),
// and the monitor only observes decisions already made.
//
// relative skew(offer, group) = (tiles of the offer to the group / tiles to the group)
//                               / (tiles of the offer / all tiles) - 1
// 0 is parity; -0.2 means the group sees the offer 20% less often than everyone does.
// NaN while the group or the offer has fewer than `min_tiles` tiles in the window.
//
// The window moves in buckets of window_ms / buckets by the latest event time seen;
// tiles older than the window are not counted. It lives in memory (a restart starts it
// afresh): it watches what is shown, it decides nothing. Not thread-safe: owned by the
// operator.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "decide/options.h"
#include "intentstream/v1/events.pb.h"

namespace intentstream::decide {

class FairnessMonitor {
 public:
  FairnessMonitor(const FairnessOptions& options, size_t offers);

  // The configured groups, then "other" (any other value, or no profile).
  const std::vector<std::string>& groups() const { return groups_; }
  size_t offers() const { return offers_; }

  // The customer's group.
  size_t GroupOf(const v1::CustomerProfile* profile) const;

  // A tile of `offer` shown to a customer of `group` at event time `time_ms`.
  void Shown(size_t group, int offer, int64_t time_ms);

  // Relative skew of every offer x group in the window, offer-major
  // (out[offer * groups().size() + group]); NaN where there are too few tiles.
  void Skews(std::vector<double>* out) const;
  // Tiles shown to each group in the window.
  std::vector<uint64_t> GroupTiles() const;

  // Forget everything; the catalogue now has `offers` offers.
  void Reset(size_t offers);

 private:
  size_t Cell(size_t group, size_t offer) const { return group * offers_ + offer; }
  void Advance(int64_t bucket);

  FairnessOptions options_;
  std::vector<std::string> groups_;
  size_t offers_ = 0;
  int64_t width_ms_ = 1;
  int64_t newest_ = INT64_MIN;      // newest bucket id seen
  std::vector<int64_t> bucket_id_;  // per slot: the bucket it holds, INT64_MIN if none
  std::vector<uint32_t> counts_;    // [slot][group][offer]
  std::vector<uint64_t> totals_;    // [group][offer], over the window
};

}  // namespace intentstream::decide
