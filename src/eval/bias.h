// The ethical bias check of the evaluation: per offer, each monitored group's show rate
// (decision points of the group where the offer was shown / the group's decision
// points) and acceptance rate (clicks / impressions the world logged of the offer where
// it was also shown), each against the best group's; a ratio under 0.8 is flagged (the
// four-fifths rule). Groups are CustomerProfile.monitoring.gender, read here only to
// judge outcomes: no model or feature of the evaluation sees them.
//
// Acceptance is measured by replay: the world's homepage showed its own tiles, so an
// offer's acceptance under a policy is known only where the world showed that offer
// too; those decision points are the acceptance population.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "eval/dataset.h"

namespace intentstream::eval {

// One decision point of a policy: who, what the policy showed, what the world logged.
struct Exposure {
  std::string group;
  std::vector<std::string> shown;                    // offer ids
  std::vector<std::pair<std::string, bool>> logged;  // (offer id, clicked) the world showed
};

struct BiasOptions {
  double threshold = 0.8;  // four-fifths rule
  // A group's rate counts only with at least this many decision points (show rate) or
  // impressions (acceptance); fewer: "n/a", never the best, never flagged.
  size_t min_points = 30;
  size_t min_impressions = 20;
  // An offer shown fewer times than this in all is not judged (a handful of shows says
  // nothing about a group's rate).
  size_t min_shown = 20;
};

struct BiasRow {
  std::string offer, group;
  size_t points = 0, shown = 0;           // the group's decision points; the offer shown
  double show_rate = 0, show_ratio = -1;  // ratio -1: n/a
  size_t impressions = 0, accepted = 0;   // shown by the policy and by the world; clicked
  double accept_rate = 0, accept_ratio = -1;
  bool show_flag = false, accept_flag = false;
};

// Rows by offer (first appearance in `shown`), then group (ascending).
std::vector<BiasRow> BiasCheck(const std::vector<Exposure>& exposures, const BiasOptions& options);

// The table; `title` names the policy.
std::string FormatBias(const std::string& title, const std::vector<BiasRow>& rows,
                       const BiasOptions& options);

// The monitored group of a customer at a time (its latest profile then), or "unknown".
std::string GroupAt(const Dataset& data, const std::string& customer_id, int64_t time_ms);

}  // namespace intentstream::eval
