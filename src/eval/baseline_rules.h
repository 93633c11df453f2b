// The logistic baselines' hand-written feature rules: the intent a page path, an app
// screen or a search text is about, as the evaluation's reference models count them.
// Kept as they were when the reference figures (docs/journeys.md) were measured, so the
// baselines stay comparable; the teacher is the taxonomy's rules (decide/intent_rules.h,
// src/teach), not these.
#pragma once

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

}  // namespace intentstream::eval
