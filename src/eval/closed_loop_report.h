// The closed-loop report (docs/closed-loop.md): per arm of a closed-loop world
// (intentstream-journeygen --closed-loop --out DIR) the tile click-through and
// dismissal rates, conversions per 1,000 customers and the intent-to-conversion lead
// time, with 95% bootstrap intervals over customers; the treated arm's lift over each
// other arm; a plot of cumulative conversions by day; and, given an open-loop world of
// the same options with the processor's decisions over it, IPS and self-normalised IPS
// estimates of the processor's click-through rate from the logged (bank policy) world.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "sim/arms.h"

namespace intentstream::eval {

struct ClosedLoopReportOptions {
  std::string data_dir;  // the closed-loop world, required
  std::string out_dir;   // optional: closed_loop.{md,csv}, cumulative_conversions.{dat,gp,png}
  int bootstrap_samples = 1000;
  uint64_t seed = 1;  // of the bootstrap draws
  // Off-policy check, optional (both or neither): an open-loop world and the
  // processor's decisions over it (intentstream run --decisions-out).
  std::string logged_dir;
  std::string logged_decisions;
};

// A figure with its 95% percentile bootstrap interval.
struct Interval {
  double value = 0;
  double low = 0;
  double high = 0;
};

struct ArmFigures {
  size_t customers = 0;
  size_t visits = 0;  // home visits (app sessions)
  size_t impressions = 0;
  size_t clicks = 0;
  size_t dismissals = 0;
  size_t applications = 0;      // started from a tile
  size_t tile_conversions = 0;  // of those, completed
  size_t conversions = 0;       // every completed application of the arm's customers
  Interval ctr;
  Interval dismissal_rate;
  Interval conversions_per_1000;
  Interval tile_conversions_per_1000;
  double lead_time_days = 0;  // mean, episode start to its conversion
  size_t lead_time_n = 0;     // converted episodes
};

struct OffPolicyFigures {
  size_t visits = 0;           // logged visits with a treated decision for their LOGIN
  size_t target_tiles = 0;     // tiles the processor chose for them
  size_t supported_tiles = 0;  // of those, offers the bank's policy can show
  // Action = the offer (a tile the bank's policy never shows has no support).
  Interval ips_ctr;
  Interval snips_ctr;
  // Action = the intent the tile serves (the world's response model sees only that).
  Interval intent_ips_ctr;
  Interval intent_snips_ctr;
};

struct ClosedLoopReport {
  std::array<ArmFigures, sim::kArmCount> arms{};
  // Treated over each arm (index by sim::Arm; the treated entry is unused): ratio - 1.
  std::array<Interval, sim::kArmCount> ctr_lift{};
  std::array<Interval, sim::kArmCount> conversion_lift{};
  // (treated - bank) / (oracle - bank) on conversions per 1,000 customers.
  Interval gap_closed;
  Interval tile_gap_closed;  // the same on conversions from a tile
  Interval ctr_gap_closed;   // the same on CTR
  // From truth/closed_loop.properties ("" when absent): the loop's own counters.
  std::string loop_counters;
  std::optional<OffPolicyFigures> off_policy;
  std::string markdown;  // the whole report
};

// Empty on success; otherwise an error naming the file (and line).
std::string BuildClosedLoopReport(const ClosedLoopReportOptions& options, ClosedLoopReport* out);

}  // namespace intentstream::eval
