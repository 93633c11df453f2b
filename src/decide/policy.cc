#include "decide/policy.h"

#include <algorithm>
#include <cstdio>

namespace intentstream::decide {

namespace {

constexpr size_t kMaxContacts = 256;

std::string Days(int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f days", static_cast<double>(ms) / kDayMs);
  return buf;
}

const Cap* ChannelCap(const DecisionOptions& o, catalog::Channel c) {
  switch (c) {
    case catalog::Channel::kPush:
      return &o.push_cap;
    case catalog::Channel::kEmail:
      return &o.email_cap;
    case catalog::Channel::kInApp:
      return &o.in_app_cap;
    case catalog::Channel::kHomeTile:
      break;
  }
  return nullptr;
}

bool Blocks(catalog::Block b, const catalog::Offer& o) {
  switch (b) {
    case catalog::Block::kCredit:
      return o.credit;
    case catalog::Block::kSensitive:
      return o.sensitive;
    case catalog::Block::kAllSales:
      return o.product >= 0;
  }
  return false;
}

}  // namespace

std::vector<std::string> AllRules() {
  return {rule::kIneligible, rule::kEligibilityUnknown, rule::kNoConsent,
          rule::kOptedOut,   rule::kProductHeld,        rule::kOfferCap,
          rule::kChannelCap, rule::kCustomerCap,        rule::kDismissed,
          rule::kIgnored,    rule::kUnsuitable,         rule::kConfidenceCap};
}

const v1::OfferState* FindOffer(const v1::CustomerOffers& offers, const std::string& offer_id) {
  for (const auto& o : offers.offers()) {
    if (o.offer_id() == offer_id) return &o;
  }
  return nullptr;
}

v1::OfferState& MutableOffer(v1::CustomerOffers* offers, const std::string& offer_id) {
  for (auto& o : *offers->mutable_offers()) {
    if (o.offer_id() == offer_id) return o;
  }
  auto* o = offers->add_offers();
  o->set_offer_id(offer_id);
  return *o;
}

uint32_t CountContacts(const v1::CustomerOffers& offers, int64_t now_ms, int64_t window_ms,
                       int channel, const std::string* offer_id) {
  uint32_t n = 0;
  for (const auto& c : offers.contacts()) {
    if (c.time_ms() > now_ms || now_ms - c.time_ms() >= window_ms) continue;
    if (channel >= 0 && static_cast<int>(c.channel()) != channel) continue;
    if (offer_id != nullptr && c.offer_id() != *offer_id) continue;
    ++n;
  }
  return n;
}

void AddContact(v1::CustomerOffers* offers, const DecisionOptions& options, int64_t time_ms,
                catalog::Channel channel, const std::string& offer_id) {
  auto* contacts = offers->mutable_contacts();
  // Kept in time order; a late contact goes to its place.
  auto* c = contacts->Add();
  c->set_time_ms(time_ms);
  c->set_channel(static_cast<uint32_t>(channel));
  c->set_offer_id(offer_id);
  for (int i = contacts->size() - 1; i > 0 && contacts->Get(i - 1).time_ms() > time_ms; --i) {
    contacts->SwapElements(i, i - 1);
  }
  int64_t longest = options.offer_cap.window_ms;
  for (const Cap* cap :
       {&options.push_cap, &options.email_cap, &options.in_app_cap, &options.customer_cap}) {
    longest = std::max(longest, cap->window_ms);
  }
  const int64_t newest = contacts->Get(contacts->size() - 1).time_ms();
  int drop = 0;
  while (drop < contacts->size() && newest - contacts->Get(drop).time_ms() >= longest) ++drop;
  drop = std::max(drop, contacts->size() - static_cast<int>(kMaxContacts));
  if (drop > 0) contacts->DeleteSubrange(0, drop);
}

void ApplyPolicy(const catalog::Catalog& catalog, const DecisionOptions& options,
                 const PolicyInput& in, std::span<const int> candidates,
                 std::vector<int>* survivors, std::vector<Removal>* removed) {
  const std::string_view channel_name = catalog::ChannelName(in.placement);
  const bool tile = in.placement == catalog::Channel::kHomeTile;
  const v1::CustomerOffers empty;
  const v1::CustomerOffers& state = in.offers != nullptr ? *in.offers : empty;
  const int channel = static_cast<int>(in.placement);
  // The customer-wide and channel caps are the same for every offer: count once.
  const Cap* channel_cap = ChannelCap(options, in.placement);
  const uint32_t channel_contacts =
      channel_cap != nullptr && channel_cap->count > 0
          ? CountContacts(state, in.time_ms, channel_cap->window_ms, channel, nullptr)
          : 0;
  uint32_t customer_contacts = 0;
  if (!tile && options.customer_cap.count > 0) {
    for (int c :
         {static_cast<int>(catalog::Channel::kPush), static_cast<int>(catalog::Channel::kEmail),
          static_cast<int>(catalog::Channel::kInApp)}) {
      customer_contacts +=
          CountContacts(state, in.time_ms, options.customer_cap.window_ms, c, nullptr);
    }
  }
  // Suitability: intents active now and what they block.
  std::string blocking_intent;
  std::vector<catalog::Block> blocks;
  for (size_t i = 0; i < in.intents.size() && i < catalog.intents().size(); ++i) {
    if (in.intents[i] < options.active_intent_score) continue;
    for (auto b : catalog.intents()[i].blocks) {
      blocks.push_back(b);
      if (blocking_intent.empty()) blocking_intent = catalog.intents()[i].id;
    }
  }
  const bool consent = in.profile != nullptr && in.profile->marketing_consent();
  auto remove = [&](int offer, const char* rule, std::string detail) {
    removed->push_back({offer, rule, std::move(detail)});
  };
  for (int idx : candidates) {
    const auto& offer = catalog.offers()[static_cast<size_t>(idx)];
    uint32_t missing = 0;
    const catalog::Tri eligible = offer.eligibility.Evaluate(in.profile, &missing);
    if (eligible == catalog::Tri::kFalse) {
      remove(idx, rule::kIneligible, "eligibility is false: " + offer.eligibility.text());
      continue;
    }
    if (eligible == catalog::Tri::kUnknown) {
      remove(idx, rule::kEligibilityUnknown,
             (in.profile == nullptr ? std::string("no profile; ") : std::string()) + "needs " +
                 catalog::MissingFieldNames(missing) + " for " + offer.eligibility.text());
      continue;
    }
    const bool sales = offer.product >= 0;
    if ((!tile || (options.tiles_require_consent && sales)) && !consent) {
      remove(idx, rule::kNoConsent,
             in.profile == nullptr ? "no profile: consent unknown"
                                   : "no marketing consent for " + std::string(channel_name));
      continue;
    }
    if (in.profile != nullptr) {
      const auto& out = in.profile->opted_out_channels();
      if (std::find(out.begin(), out.end(), channel_name) != out.end()) {
        remove(idx, rule::kOptedOut, "opted out of " + std::string(channel_name));
        continue;
      }
    }
    if (sales && in.facts != nullptr && in.facts->holds[static_cast<size_t>(offer.product)]) {
      remove(idx, rule::kProductHeld,
             "already holds " + catalog.products()[static_cast<size_t>(offer.product)].code);
      continue;
    }
    if (options.offer_cap.count > 0) {
      const uint32_t n =
          CountContacts(state, in.time_ms, options.offer_cap.window_ms, -1, &offer.id);
      if (n >= options.offer_cap.count) {
        remove(idx, rule::kOfferCap,
               std::to_string(n) + " contacts with this offer in " +
                   Days(options.offer_cap.window_ms) + " (cap " +
                   std::to_string(options.offer_cap.count) + ")");
        continue;
      }
    }
    if (channel_cap != nullptr && channel_cap->count > 0 &&
        channel_contacts >= channel_cap->count) {
      remove(idx, rule::kChannelCap,
             std::to_string(channel_contacts) + " " + std::string(channel_name) + " contacts in " +
                 Days(channel_cap->window_ms) + " (cap " + std::to_string(channel_cap->count) +
                 ")");
      continue;
    }
    if (!tile && options.customer_cap.count > 0 &&
        customer_contacts >= options.customer_cap.count) {
      remove(idx, rule::kCustomerCap,
             std::to_string(customer_contacts) + " marketing contacts in " +
                 Days(options.customer_cap.window_ms) + " (cap " +
                 std::to_string(options.customer_cap.count) + ")");
      continue;
    }
    if (const v1::OfferState* os = FindOffer(state, offer.id)) {
      if (os->last_dismissed_ms() > 0 && in.time_ms >= os->last_dismissed_ms() &&
          in.time_ms - os->last_dismissed_ms() < options.suppress_after_dismiss_ms) {
        remove(idx, rule::kDismissed,
               "dismissed " + Days(in.time_ms - os->last_dismissed_ms()) + " ago (suppressed for " +
                   Days(options.suppress_after_dismiss_ms) + ")");
        continue;
      }
      if (options.suppress_after_impressions > 0 &&
          os->impressions_since_click() >= options.suppress_after_impressions) {
        remove(idx, rule::kIgnored,
               std::to_string(os->impressions_since_click()) + " impressions without a click");
        continue;
      }
    }
    bool blocked = false;
    for (auto b : blocks) blocked = blocked || Blocks(b, offer);
    if (blocked) {
      remove(idx, rule::kUnsuitable,
             blocking_intent + " is active: no " +
                 std::string(offer.credit      ? "credit"
                             : offer.sensitive ? "sensitive"
                                               : "sales") +
                 " offers");
      continue;
    }
    if (offer.sensitive) {
      float best = 0;
      for (int i : offer.intents) {
        if (static_cast<size_t>(i) < in.intents.size())
          best = std::max(best, in.intents[static_cast<size_t>(i)]);
      }
      if (best < options.sensitive_min_intent_score) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "sensitive product: best serving intent %.2f < %.2f", best,
                      options.sensitive_min_intent_score);
        remove(idx, rule::kConfidenceCap, buf);
        continue;
      }
    }
    survivors->push_back(idx);
  }
}

}  // namespace intentstream::decide
