// decide::FeatureBuilder: the one feature builder of serving and offline evaluation.
#include "decide/features.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/text.h"

namespace intentstream::decide {
namespace {

class FeatureBuilderTest : public ::testing::Test {
 protected:
  FeatureBuilderTest()
      : catalog_(catalog::DefaultCatalog()), features_(std::make_shared<IntentMatcher>(catalog_)) {}

  std::vector<float> ProfileOf(const v1::CustomerProfile* p) const {
    std::vector<float> out(features_.profile_size());
    features_.Profile(FactsOf(p, *catalog_), out);
    return out;
  }
  size_t Index(const std::vector<std::string>& names, const std::string& name) const {
    const auto it = std::find(names.begin(), names.end(), name);
    EXPECT_NE(it, names.end()) << name;
    return static_cast<size_t>(it - names.begin());
  }

  std::shared_ptr<const catalog::Catalog> catalog_;
  FeatureBuilder features_;
};

v1::CustomerProfile Profile() {
  v1::CustomerProfile p;
  p.set_customer_id("c-1");
  p.set_age_band(v1::AGE_BAND_25_34);
  p.set_income_band(v1::INCOME_BAND_UPPER_MIDDLE);
  p.set_risk_appetite(v1::RISK_APPETITE_HIGH);
  p.set_credit_grade(2);
  p.set_tenure_months(48);
  p.set_marketing_consent(true);
  p.add_products_held("CURRENT_ACCOUNT");
  p.add_products_held("MORTGAGE_FIXED");
  return p;
}

TEST_F(FeatureBuilderTest, ProtectedAttributesCannotChangeAnyFeature) {
  v1::CustomerProfile a = Profile();
  v1::CustomerProfile b = Profile();
  a.mutable_monitoring()->set_gender("female");
  b.mutable_monitoring()->set_gender("male");
  v1::CustomerProfile none = Profile();  // no monitoring attributes at all
  EXPECT_NE(a.SerializeAsString(), b.SerializeAsString());
  EXPECT_EQ(ProfileOf(&a), ProfileOf(&b));
  EXPECT_EQ(ProfileOf(&a), ProfileOf(&none));
  // ...while a field a model may read does change them (the comparison can fail).
  v1::CustomerProfile older = Profile();
  older.set_age_band(v1::AGE_BAND_65_PLUS);
  EXPECT_NE(ProfileOf(&older), ProfileOf(&a));
  // No feature is even named after the protected attribute.
  for (const auto& n : features_.profile_names()) {
    EXPECT_EQ(n.find("gender"), std::string::npos) << n;
    EXPECT_EQ(n.find("monitoring"), std::string::npos) << n;
  }
}

TEST_F(FeatureBuilderTest, ProfileFeaturesEncodeTheFacts) {
  const auto p = Profile();
  const auto f = ProfileOf(&p);
  const auto& names = features_.profile_names();
  ASSERT_EQ(f.size(), names.size());
  EXPECT_EQ(f[Index(names, "profile_known")], 1.0f);
  EXPECT_EQ(f[Index(names, "age_band=AGE_BAND_25_34")], 1.0f);
  EXPECT_EQ(f[Index(names, "age_band=AGE_BAND_35_44")], 0.0f);
  EXPECT_EQ(f[Index(names, "holds=MORTGAGE_FIXED")], 1.0f);
  EXPECT_EQ(f[Index(names, "holds=CC_TRAVEL")], 0.0f);
  EXPECT_EQ(f[Index(names, "credit_grade<=3")], 1.0f);
  EXPECT_EQ(f[Index(names, "marketing_consent")], 1.0f);
  // No profile: everything zero.
  const auto unknown = ProfileOf(nullptr);
  EXPECT_TRUE(std::all_of(unknown.begin(), unknown.end(), [](float x) { return x == 0.0f; }));
}

TEST_F(FeatureBuilderTest, SessionFeaturesSeeOnlyEventsUpToTheDecision) {
  v1::VisitorState state;
  auto* page = state.add_events();
  page->set_event_key(1);
  page->set_time_ms(1000);
  page->set_source(v1::SOURCE_WEB);
  page->set_event_type(v1::WEB_EVENT_TYPE_CALCULATOR_USE);
  page->set_category(CategoryFromPath("/mortgages/calculator"));
  auto* later = state.add_events();
  later->set_event_key(2);
  later->set_time_ms(5000);
  later->set_source(v1::SOURCE_WEB);
  later->set_event_type(v1::WEB_EVENT_TYPE_PAGE_VIEW);
  later->set_category(CategoryFromPath("/credit-cards/travel-rewards"));
  const auto& names = features_.session_names();
  std::vector<float> at_2000(features_.session_size()), at_6000(features_.session_size());
  features_.Session(state, 2000, at_2000);
  features_.Session(state, 6000, at_6000);
  const size_t home = Index(names, "web_evidence=home_buying");
  const size_t travel = Index(names, "web_evidence=travel_rewards");
  EXPECT_GT(at_2000[home], 0.0f);
  EXPECT_EQ(at_2000[travel], 0.0f);  // the later event is not seen yet
  EXPECT_GT(at_6000[travel], 0.0f);
  EXPECT_EQ(at_2000[Index(names, "log_calculators")], std::log1p(1.0f));
}

TEST_F(FeatureBuilderTest, TheScoringLayoutDescribesEveryOffer) {
  const op::ScoringLayout l = ScoringLayoutOf(*catalog_, features_);
  ASSERT_EQ(l.offers.size(), catalog_->offers().size());
  EXPECT_EQ(l.intents.size(), catalog_->intents().size());
  EXPECT_EQ(l.profile_features, features_.profile_names());
  EXPECT_EQ(l.session_features, features_.session_names());
  const auto it = std::find_if(l.offers.begin(), l.offers.end(),
                               [](const auto& o) { return o.id == "OFR_HOME_INSURANCE"; });
  ASSERT_NE(it, l.offers.end());
  EXPECT_EQ(it->intents, (std::vector<std::string>{"home_buying", "refinancing"}));
  EXPECT_EQ(it->product, "INS_HOME");
  EXPECT_EQ(it->product_kind, "insurance");
}

}  // namespace
}  // namespace intentstream::decide
