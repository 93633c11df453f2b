#include "sim/arms.h"

#include <array>

#include "common/hash.h"
#include "common/holdout.h"
#include "sim/random.h"

namespace intentstream::sim {

namespace {
constexpr std::array<std::string_view, kArmCount> kArmNames = {"treated", "holdout", "bank",
                                                               "oracle"};
}  // namespace

std::string_view ArmName(Arm arm) {
  return kArmNames[static_cast<size_t>(arm)];
}

std::optional<Arm> ArmFromName(std::string_view name) {
  for (size_t i = 0; i < kArmCount; ++i) {
    if (kArmNames[i] == name) return static_cast<Arm>(i);
  }
  return std::nullopt;
}

std::string ClosedLoopOptions::Validate() const {
  if (!(holdout_percent >= 0 && holdout_percent <= 100)) {
    return "--holdout-percent must be in [0, 100] (got " + std::to_string(holdout_percent) + ")";
  }
  if (!(bank_share >= 0 && oracle_share >= 0 && bank_share + oracle_share <= 1)) {
    return "--bank-share and --oracle-share must be >= 0 with a sum <= 1 (got " +
           std::to_string(bank_share) + " and " + std::to_string(oracle_share) + ")";
  }
  if (step_ms < 60'000 || step_ms > 86'400'000) {
    return "--step-minutes must be in [1, 1440] (got " + std::to_string(step_ms / 60'000) + ")";
  }
  return "";
}

Arm ArmOf(std::string_view customer_id, uint64_t seed, const ClosedLoopOptions& options) {
  const double u =
      static_cast<double>(MixSeed({seed, 0xA4B, Fnv1a64(customer_id)}) >> 11) * 0x1.0p-53;
  if (u < options.bank_share) return Arm::kBank;
  if (u < options.bank_share + options.oracle_share) return Arm::kOracle;
  // The processor's own holdout rule, so its "holdout" decisions land in this arm.
  return InHoldout(customer_id, options.holdout_percent) ? Arm::kHoldout : Arm::kTreated;
}

}  // namespace intentstream::sim
