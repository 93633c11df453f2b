// Engagement and contact policy: which candidate offers a customer may see in a
// placement now. Each rule that removes an offer says so (rule name and a readable
// detail), and the first rule that removes it is recorded in `Decision.removed`.
//
// In order: eligibility (the offer's expression over the profile; unknown fields
// exclude) -> consent and opt-out per channel -> products already held -> contact caps
// (per offer, per channel, per customer, over event-time windows) -> suppression after
// a dismissal and after impressions without a click -> suitability (an active intent
// that blocks credit, sensitive or all sales offers) -> confidence cap on sensitive
// products.
//
// Thread-safety: pure functions of their arguments.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "decide/features.h"
#include "decide/options.h"
#include "intentstream/v1/state.pb.h"

namespace intentstream::decide {

// Rule names, as they appear in PolicyRemoval.rule and the removals metric.
namespace rule {
inline constexpr const char* kIneligible = "INELIGIBLE";
inline constexpr const char* kEligibilityUnknown = "ELIGIBILITY_UNKNOWN";
inline constexpr const char* kNoConsent = "NO_MARKETING_CONSENT";
inline constexpr const char* kOptedOut = "CHANNEL_OPTED_OUT";
inline constexpr const char* kProductHeld = "PRODUCT_HELD";
inline constexpr const char* kOfferCap = "OFFER_CAP";
inline constexpr const char* kChannelCap = "CHANNEL_CAP";
inline constexpr const char* kCustomerCap = "CUSTOMER_CAP";
inline constexpr const char* kDismissed = "SUPPRESSED_AFTER_DISMISSAL";
inline constexpr const char* kIgnored = "SUPPRESSED_AFTER_IMPRESSIONS";
inline constexpr const char* kUnsuitable = "UNSUITABLE";
inline constexpr const char* kConfidenceCap = "CONFIDENCE_CAP";
}  // namespace rule
std::vector<std::string> AllRules();

struct PolicyInput {
  catalog::Channel placement = catalog::Channel::kHomeTile;
  int64_t time_ms = 0;                           // the decision's event time
  const v1::CustomerProfile* profile = nullptr;  // null: no profile
  const ProfileFacts* facts = nullptr;
  const v1::CustomerOffers* offers = nullptr;  // the customer's decision-stage state
  std::span<const float> intents;              // catalogue order
};

struct Removal {
  int offer = -1;
  const char* rule = "";
  std::string detail;
};

// Keeps the offers of `candidates` (catalogue indexes) that pass every rule, in order,
// in `survivors`; appends the others to `removed`.
void ApplyPolicy(const catalog::Catalog& catalog, const DecisionOptions& options,
                 const PolicyInput& input, std::span<const int> candidates,
                 std::vector<int>* survivors, std::vector<Removal>* removed);

// The customer's state of one offer, or nullptr.
const v1::OfferState* FindOffer(const v1::CustomerOffers& offers, const std::string& offer_id);
v1::OfferState& MutableOffer(v1::CustomerOffers* offers, const std::string& offer_id);
// Contacts of the customer (optionally of one channel / one offer) within the window.
uint32_t CountContacts(const v1::CustomerOffers& offers, int64_t now_ms, int64_t window_ms,
                       int channel, const std::string* offer_id);
// Records a contact and drops those older than every cap's window.
void AddContact(v1::CustomerOffers* offers, const DecisionOptions& options, int64_t time_ms,
                catalog::Channel channel, const std::string& offer_id);

}  // namespace intentstream::decide
