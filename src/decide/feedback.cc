#include "decide/feedback.h"

#include <algorithm>

#include "decide/policy.h"

namespace intentstream::decide {

namespace {
constexpr const char* kAllSegment = "all";

void Learn(PosteriorTable* table, const std::string& offer, const std::string& segment,
           int64_t time_ms, double impressions, double clicks) {
  if (table == nullptr) return;
  table->Add(offer, kAllSegment, time_ms, impressions, clicks);
  if (!segment.empty() && segment != kAllSegment) {
    table->Add(offer, segment, time_ms, impressions, clicks);
  }
}
}  // namespace

FeedbackResult ApplyFeedback(const catalog::Catalog& catalog, const DecisionOptions& options,
                             const v1::AppEvent& e, int64_t t, v1::CustomerOffers* offers,
                             PosteriorTable* posteriors) {
  FeedbackResult r;
  const auto action = e.action();
  const bool tile = action == v1::APP_ACTION_TILE_IMPRESSION ||
                    action == v1::APP_ACTION_TILE_CLICK || action == v1::APP_ACTION_TILE_DISMISS;
  if (tile) {
    r.offer = catalog.FindOffer(e.offer_id());
    if (r.offer < 0) {
      r.outcome = FeedbackOutcome::kUnknownOffer;
      return r;
    }
    r.outcome = FeedbackOutcome::kApplied;
    v1::OfferState& s = MutableOffer(offers, e.offer_id());
    switch (action) {
      case v1::APP_ACTION_TILE_IMPRESSION:
        s.set_impressions(s.impressions() + 1);
        s.set_impressions_since_click(s.impressions_since_click() + 1);
        s.set_last_shown_ms(std::max(s.last_shown_ms(), t));
        AddContact(offers, options, t, catalog::Channel::kHomeTile, e.offer_id());
        Learn(posteriors, e.offer_id(), s.segment(), t, 1, 0);
        break;
      case v1::APP_ACTION_TILE_CLICK:
        s.set_clicks(s.clicks() + 1);
        s.set_impressions_since_click(0);
        s.set_last_clicked_ms(std::max(s.last_clicked_ms(), t));
        Learn(posteriors, e.offer_id(), s.segment(), t, 0, 1);
        break;
      default:
        s.set_dismissals(s.dismissals() + 1);
        s.set_last_dismissed_ms(std::max(s.last_dismissed_ms(), t));
        break;
    }
    return r;
  }
  if ((action == v1::APP_ACTION_APPLICATION_START ||
       action == v1::APP_ACTION_APPLICATION_COMPLETE) &&
      !e.product_code().empty()) {
    // Credited to the offers of that product the customer was shown.
    const int product = catalog.FindProduct(e.product_code());
    if (product < 0) return r;
    for (size_t i = 0; i < catalog.offers().size(); ++i) {
      const auto& o = catalog.offers()[i];
      if (o.product != product) continue;
      v1::OfferState* s = nullptr;
      for (auto& x : *offers->mutable_offers()) {
        if (x.offer_id() == o.id) s = &x;
      }
      if (s == nullptr || s->impressions() == 0) continue;
      if (action == v1::APP_ACTION_APPLICATION_START) {
        s->set_applications_started(s->applications_started() + 1);
      } else {
        s->set_applications_completed(s->applications_completed() + 1);
        r.conversion = true;
      }
      r.offer = static_cast<int>(i);
      r.outcome = FeedbackOutcome::kApplied;
    }
  }
  return r;
}

}  // namespace intentstream::decide
