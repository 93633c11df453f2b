// The statistics summary printed at the end of a generator run.
#pragma once

#include <string>

#include "sim/generator.h"

namespace intentstream::sim {

// A plain-text table: events by type, sessions per visitor, link rate, conversion
// rate by intent.
std::string FormatStats(const WorldStats& stats);

}  // namespace intentstream::sim
