// The rule-based teacher: labels a window of a visitor's events with one intent of
// the taxonomy from page categories, app screens, tile clicks and search words. It
// sees only what the processor sees (never the latent truth). The same rules turn
// events into per-intent counts for the baseline models' features.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "sim/catalog.h"

namespace intentstream::eval {

// Intent a web page is about (longest matching path prefix), if unambiguous.
std::optional<sim::Intent> IntentOfPath(std::string_view url_path);
// Intent an app screen is about ("products/<slug>", "offers/<slug>", ...), if any.
std::optional<sim::Intent> IntentOfScreen(std::string_view screen);
// Intent a search text is about (first matching keyword rule), if any.
std::optional<sim::Intent> IntentOfQuery(std::string_view query);

// Accumulates votes and picks a label. Not thread-safe; cheap to create.
class Teacher {
 public:
  // Votes below this (summed weights) leave the label at everyday_servicing.
  static constexpr double kMinVotes = 2.0;
  void Vote(sim::Intent intent, double weight) { votes_[static_cast<size_t>(intent)] += weight; }
  // The intent with most votes (ties: taxonomy order), or everyday_servicing.
  sim::Intent Label() const;

 private:
  std::array<double, sim::kIntentCount> votes_{};
};

}  // namespace intentstream::eval
