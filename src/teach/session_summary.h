// A session as a short text a person (or a language model) can read: the session's own
// events, then the recent history before it, one line each, newest history last,
// with repeats folded ("x3"), tile impressions folded into one line per homepage view,
// times relative to the session's end, and search terms spelled out where the
// taxonomy's example queries know them (state keeps only hashed terms).
//
//   Customer session, 2026-02-14 18:02-18:09 UTC, 9 events; 41 earlier events in view.
//   Before this session (oldest first):
//   - 3.2 days before: web page view /mortgages/calculator [MORTGAGE_FIXED]
//   - 3.2 days before: web calculator use /mortgages/calculator [MORTGAGE_FIXED]
//   This session:
//   - app login
//   - app home screen; tiles shown: OFR_TRAVEL_CARD, OFR_EASY_ACCESS_SAVER, ...
//   - app search: "mortgage" "rates" (+1 other term)
#pragma once

#include <string>

#include "decide/intent_rules.h"
#include "teach/teacher.h"

namespace intentstream::teach {

struct SummaryOptions {
  size_t max_lines = 40;  // the oldest history lines go first when there are more
};

std::string SummarizeSession(const Session& session, const decide::IntentMatcher& matcher,
                             const SummaryOptions& options = {});

// One event as words ("web page view /loans/car-finance [LOAN_AUTO]").
std::string DescribeEvent(const v1::SessionEvent& event, const decide::IntentMatcher& matcher);

}  // namespace intentstream::teach
