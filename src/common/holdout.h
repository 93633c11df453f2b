// The decision stage's holdout split: which customers get the static-priority control
// decisions that lift is measured against. A pure function of the customer id, so the
// processor and the closed-loop world (src/sim/arms.h) agree on it without a shared file;
// changing it moves customers between arms mid-experiment: don't.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/hash.h"

namespace intentstream {

// True for about `holdout_percent` percent of customer ids (in steps of 0.01%).
inline bool InHoldout(std::string_view customer_id, double holdout_percent) {
  const uint64_t h = Fnv1a64(std::string("arm|") + std::string(customer_id));
  return static_cast<double>(h % 10000) < holdout_percent * 100.0;
}

}  // namespace intentstream
