// Closed-loop worlds (docs/closed-loop.md): customers split into arms that see
// different homepage tiles. The split is a pure function of the customer id, the seed
// and these options, so the world and the evaluation agree on it without a shared file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace intentstream::sim {

enum class Arm : uint8_t {
  kTreated,  // the processor's decisions (its treated arm)
  kHoldout,  // the processor's holdout decisions (the catalogue's static priority)
  kBank,     // the bank's current policy (the generator's own popularity draw)
  kOracle,   // reference only: the tile of the active latent intent first
};
inline constexpr size_t kArmCount = 4;
std::string_view ArmName(Arm arm);
std::optional<Arm> ArmFromName(std::string_view name);

struct ClosedLoopOptions {
  // Off: the open-loop world, byte-identical to a generator without this option.
  bool enabled = false;
  // Must equal the processor's decision.holdout_percent: the processor's own hash picks
  // its holdout customers among those the world lets it decide for. Default 5.
  double holdout_percent = 5;
  // Shares of all customers (by a seeded hash) shown the bank's policy and the oracle;
  // the rest see the processor's tiles. Defaults 0.25 and 0.25.
  double bank_share = 0.25;
  double oracle_share = 0.25;
  // Simulated time advances in steps of this length: every app session starting in a
  // step waits for its decision before the step's later records. Default 1 hour.
  int64_t step_ms = 3'600'000;

  // Empty when valid; otherwise a message naming the flag.
  std::string Validate() const;
};

// The customer's arm. The processor's arm (treated or holdout) uses the processor's
// holdout rule (common/holdout.h); bank and oracle a hash of (seed, id).
Arm ArmOf(std::string_view customer_id, uint64_t seed, const ClosedLoopOptions& options);

// True when the customer's app sessions wait for the processor's decision.
inline bool DecidedByProcessor(Arm arm) {
  return arm == Arm::kTreated || arm == Arm::kHoldout;
}

}  // namespace intentstream::sim
