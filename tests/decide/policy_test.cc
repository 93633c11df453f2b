// Each policy rule removes what it should, says why, and lets through what it should.
#include "decide/policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace intentstream::decide {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kT = 1'800'000'000'000;

class PolicyTest : public ::testing::Test {
 protected:
  PolicyTest() {
    profile_.set_customer_id("c");
    profile_.set_age_band(v1::AGE_BAND_35_44);
    profile_.set_income_band(v1::INCOME_BAND_UPPER_MIDDLE);
    profile_.set_credit_grade(3);
    profile_.set_risk_appetite(v1::RISK_APPETITE_MEDIUM);
    profile_.set_marketing_consent(true);
    profile_.add_products_held("CURRENT_ACCOUNT");
    intents_.assign(cat_->intents().size(), 0.0f);
  }

  int Offer(const std::string& id) const { return cat_->FindOffer(id); }
  void Intent(const std::string& id, float score) {
    intents_[static_cast<size_t>(cat_->FindIntent(id))] = score;
  }

  // The rule that removed `offer` (empty: it survived) and its detail.
  std::pair<std::string, std::string> Run(const std::string& offer,
                                          catalog::Channel placement = catalog::Channel::kHomeTile,
                                          bool with_profile = true) {
    const ProfileFacts facts = FactsOf(with_profile ? &profile_ : nullptr, *cat_);
    PolicyInput in;
    in.placement = placement;
    in.time_ms = kT;
    in.profile = with_profile ? &profile_ : nullptr;
    in.facts = &facts;
    in.offers = &offers_;
    in.intents = intents_;
    std::vector<int> survivors;
    std::vector<Removal> removed;
    const int idx = Offer(offer);
    EXPECT_GE(idx, 0) << offer;
    const int candidates[] = {idx};
    ApplyPolicy(*cat_, options_, in, candidates, &survivors, &removed);
    if (!survivors.empty()) return {"", ""};
    EXPECT_EQ(removed.size(), 1u);
    return {removed[0].rule, removed[0].detail};
  }

  std::shared_ptr<const catalog::Catalog> cat_ = catalog::DefaultCatalog();
  DecisionOptions options_;
  v1::CustomerProfile profile_;
  v1::CustomerOffers offers_;
  std::vector<float> intents_;
};

TEST_F(PolicyTest, EligibilityFalseAndUnknown) {
  EXPECT_EQ(Run("OFR_EASY_ACCESS_SAVER").first, "");
  profile_.set_age_band(v1::AGE_BAND_65_PLUS);
  Intent("home_buying", 0.9f);
  const auto [rule, detail] = Run("OFR_FIRST_HOME_MORTGAGE");
  EXPECT_EQ(rule, rule::kIneligible);
  EXPECT_THAT(detail, HasSubstr("age_band <= AGE_BAND_55_64"));
  // A sensitive product needs a confident intent signal (see the last test).
  // No profile: a rule that reads profile fields cannot be decided.
  const auto unknown = Run("OFR_EASY_ACCESS_SAVER", catalog::Channel::kHomeTile, false);
  EXPECT_EQ(unknown.first, rule::kEligibilityUnknown);
  EXPECT_THAT(unknown.second, HasSubstr("no profile; needs products_held"));
  // A service offer without a rule stays eligible without a profile.
  EXPECT_EQ(Run("OFR_APP_PAYMENTS_TIPS", catalog::Channel::kHomeTile, false).first, "");
}

TEST_F(PolicyTest, ConsentAndOptOutPerChannel) {
  EXPECT_EQ(Run("OFR_EASY_ACCESS_SAVER", catalog::Channel::kPush).first, "");
  profile_.set_marketing_consent(false);
  EXPECT_EQ(Run("OFR_EASY_ACCESS_SAVER", catalog::Channel::kPush).first, rule::kNoConsent);
  EXPECT_EQ(Run("OFR_EASY_ACCESS_SAVER", catalog::Channel::kHomeTile).first, "")
      << "tiles in the bank's own app follow decision.tiles_require_consent (off)";
  options_.tiles_require_consent = true;
  EXPECT_EQ(Run("OFR_EASY_ACCESS_SAVER", catalog::Channel::kHomeTile).first, rule::kNoConsent);
  profile_.set_marketing_consent(true);
  profile_.add_opted_out_channels("email");
  const auto [rule, detail] = Run("OFR_EASY_ACCESS_SAVER", catalog::Channel::kEmail);
  EXPECT_EQ(rule, rule::kOptedOut);
  EXPECT_EQ(detail, "opted out of email");
  EXPECT_EQ(Run("OFR_EASY_ACCESS_SAVER", catalog::Channel::kPush).first, "");
}

TEST_F(PolicyTest, ProductsAlreadyHeld) {
  // The catalogue's offers exclude holders in their own rules; the held-product rule
  // catches an offer whose rule does not.
  auto files = catalog::BuiltInCatalogFiles();
  files.offers +=
      R"({"id":"OFR_NO_RULE","name":"x","product":"INS_HOME","intents":["home_buying"],)"
      R"("value":1,"priority":0.5,"channels":["home_tile"]})";
  cat_ = catalog::ParseCatalog(files);
  EXPECT_EQ(Run("OFR_NO_RULE").first, "");
  profile_.add_products_held("INS_HOME");
  const auto [rule, detail] = Run("OFR_NO_RULE");
  EXPECT_EQ(rule, rule::kProductHeld);
  EXPECT_EQ(detail, "already holds INS_HOME");
  EXPECT_EQ(Run("OFR_HOME_INSURANCE").first, rule::kIneligible) << "its own rule comes first";
}

TEST_F(PolicyTest, ContactCapsPerOfferChannelAndCustomer) {
  for (int i = 0; i < 5; ++i) {
    AddContact(&offers_, options_, kT - (i + 1) * 3'600'000, catalog::Channel::kHomeTile,
               "OFR_EASY_ACCESS_SAVER");
  }
  const auto [rule, detail] = Run("OFR_EASY_ACCESS_SAVER");
  EXPECT_EQ(rule, rule::kOfferCap);
  EXPECT_THAT(detail, HasSubstr("5 contacts with this offer in 7.0 days (cap 5)"));
  EXPECT_EQ(Run("OFR_REGULAR_SAVER").first, "") << "the cap is per offer";
  options_.offer_cap.window_ms = 3 * 3'600'000;  // only the last two are inside
  EXPECT_EQ(Run("OFR_EASY_ACCESS_SAVER").first, "");

  offers_.Clear();
  AddContact(&offers_, options_, kT - 1000, catalog::Channel::kPush, "OFR_TRAVEL_CARD");
  AddContact(&offers_, options_, kT - 2000, catalog::Channel::kPush, "OFR_REGULAR_SAVER");
  EXPECT_EQ(Run("OFR_EASY_ACCESS_SAVER", catalog::Channel::kPush).first, rule::kChannelCap);
  EXPECT_EQ(Run("OFR_EASY_ACCESS_SAVER", catalog::Channel::kEmail).first, "");
  options_.customer_cap.count = 2;
  EXPECT_EQ(Run("OFR_EASY_ACCESS_SAVER", catalog::Channel::kEmail).first, rule::kCustomerCap);
  EXPECT_EQ(Run("OFR_EASY_ACCESS_SAVER", catalog::Channel::kHomeTile).first, "")
      << "tiles are not marketing contacts";
}

TEST_F(PolicyTest, SuppressionAfterDismissalEndsOnEventTime) {
  auto& s = MutableOffer(&offers_, "OFR_EASY_ACCESS_SAVER");
  s.set_last_dismissed_ms(kT - 2 * kDayMs);
  const auto [rule, detail] = Run("OFR_EASY_ACCESS_SAVER");
  EXPECT_EQ(rule, rule::kDismissed);
  EXPECT_THAT(detail, HasSubstr("dismissed 2.0 days ago"));
  s.set_last_dismissed_ms(kT - 15 * kDayMs);
  EXPECT_EQ(Run("OFR_EASY_ACCESS_SAVER").first, "") << "eligible again after 14 days";
}

TEST_F(PolicyTest, SuppressionAfterImpressionsWithoutAClick) {
  MutableOffer(&offers_, "OFR_EASY_ACCESS_SAVER").set_impressions_since_click(6);
  EXPECT_EQ(Run("OFR_EASY_ACCESS_SAVER").first, rule::kIgnored);
  MutableOffer(&offers_, "OFR_EASY_ACCESS_SAVER").set_impressions_since_click(5);
  EXPECT_EQ(Run("OFR_EASY_ACCESS_SAVER").first, "");
}

TEST_F(PolicyTest, SuitabilityAndConfidenceCapsOnSensitiveProducts) {
  Intent("travel_rewards", 0.9f);
  EXPECT_EQ(Run("OFR_TRAVEL_CARD").first, "");
  Intent("fraud_concern", 0.8f);
  const auto [rule, detail] = Run("OFR_TRAVEL_CARD");
  EXPECT_EQ(rule, rule::kUnsuitable);
  EXPECT_EQ(detail, "fraud_concern is active: no credit offers");
  EXPECT_EQ(Run("OFR_REGULAR_SAVER").first, "") << "savings are not credit";
  Intent("fraud_concern", 0.2f);
  Intent("travel_rewards", 0.1f);
  const auto cap = Run("OFR_TRAVEL_CARD");
  EXPECT_EQ(cap.first, rule::kConfidenceCap);
  EXPECT_THAT(cap.second, HasSubstr("best serving intent 0.10 < 0.30"));
}

TEST_F(PolicyTest, ContactsArePrunedPastTheLongestWindow) {
  for (int i = 0; i < 400; ++i) {
    AddContact(&offers_, options_, kT + i * 60'000, catalog::Channel::kHomeTile, "OFR_X");
  }
  EXPECT_LE(offers_.contacts_size(), 256);
  AddContact(&offers_, options_, kT + 60 * kDayMs, catalog::Channel::kPush, "OFR_Y");
  EXPECT_EQ(offers_.contacts_size(), 1) << "older than every window";
  // Kept in time order even when a contact is late.
  AddContact(&offers_, options_, kT + 59 * kDayMs, catalog::Channel::kPush, "OFR_Z");
  EXPECT_EQ(offers_.contacts(0).offer_id(), "OFR_Z");
}

}  // namespace
}  // namespace intentstream::decide
