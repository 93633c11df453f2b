// Feedback from the app (tile impressions, clicks, dismissals, applications) into the
// customer's offer state and the task's posteriors, in the same commit as its offsets:
// the very next decision for the customer sees it (its own counts at once; the task's
// posteriors from the next posterior bucket on, posteriors.h).
//
// Thread-safety: pure functions of their arguments.
#pragma once

#include <string>

#include "catalog/catalog.h"
#include "decide/options.h"
#include "decide/posteriors.h"
#include "intentstream/v1/events.pb.h"
#include "intentstream/v1/state.pb.h"

namespace intentstream::decide {

enum class FeedbackOutcome {
  kNone,          // not a feedback event
  kApplied,       // counted
  kUnknownOffer,  // names an offer the catalogue does not have: counted as such, ignored
};

struct FeedbackResult {
  FeedbackOutcome outcome = FeedbackOutcome::kNone;
  int offer = -1;           // catalogue index of the offer it concerns
  bool conversion = false;  // an application completed for an offer's product
};

// Applies one app event. `segment` is the posterior arm the customer's decisions use.
FeedbackResult ApplyFeedback(const catalog::Catalog& catalog, const DecisionOptions& options,
                             const v1::AppEvent& event, int64_t time_ms, v1::CustomerOffers* offers,
                             PosteriorTable* posteriors);

}  // namespace intentstream::decide
