// The decision operator on scripted customers: homepage decisions, the feedback loop,
// the holdout arm, cold start, triggers and determinism.
#include "decide/decision_operator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "decide/intent_rules.h"
#include "ingest/session_event.h"
#include "state/visitor_state.h"
#include "support/decision_state.h"

namespace intentstream::decide {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kT0 = 1'800'000'000'000;

class CountingMetrics : public DecisionMetrics {
 public:
  void Catalogue(const std::vector<std::string>&, const std::vector<std::string>&,
                 const std::vector<std::string>&) override {
    ++catalogues;
  }
  void Decision(int, Arm, bool, bool, double) override { ++decisions; }
  void Shown(int, Arm) override {}
  void Removed(size_t) override {}
  void FeedbackEvent(int, Arm, Feedback kind) override { ++feedback[static_cast<size_t>(kind)]; }
  void UnknownOfferFeedback() override { ++unknown; }
  void Trigger(int) override { ++triggers; }
  void TriggerSuppressed(int, const std::string& reason) override { suppressed.push_back(reason); }
  void CatalogueReload(bool) override {}
  int catalogues = 0, decisions = 0, unknown = 0, triggers = 0;
  std::array<int, kFeedbackKinds> feedback{};
  std::vector<std::string> suppressed;
};

class OperatorTest : public ::testing::Test {
 protected:
  OperatorTest() {
    options_.exploration_share = 0;
    options_.holdout_percent = 0;
    Profile("c-1");
  }

  void Make() {
    op_ = std::make_unique<DecisionOperator>(options_, catalog::DefaultCatalog(), DecisionModels{},
                                             &metrics_, Logger(nullptr, "test"));
  }

  v1::CustomerProfile& Profile(const std::string& id) {
    auto& p = state_.profiles[id];
    p.set_customer_id(id);
    p.set_age_band(v1::AGE_BAND_35_44);
    p.set_income_band(v1::INCOME_BAND_UPPER_MIDDLE);
    p.set_credit_grade(3);
    p.set_risk_appetite(v1::RISK_APPETITE_MEDIUM);
    p.set_marketing_consent(true);
    p.add_products_held("CURRENT_ACCOUNT");
    return p;
  }

  // Applies one app event to the customer's state, as the runtime does, and runs one
  // step of the operator on it.
  void App(const std::string& customer, const std::string& id, int64_t t, v1::AppAction action,
           const std::string& screen = "home", const std::string& offer = "") {
    if (!op_) Make();
    v1::AppEvent e;
    e.set_event_id(id);
    e.set_customer_id(customer);
    e.mutable_event_time()->set_seconds(t / 1000);
    e.mutable_event_time()->set_nanos(static_cast<int32_t>(t % 1000) * 1000000);
    e.set_action(action);
    e.set_screen(screen);
    e.set_offer_id(offer);
    v1::VisitorState& st = visitors_[customer];
    state::ApplyOwnEvent(&st, ingest::ToSessionEvent(e), state::SessionPolicy{});
    op::VisitorUpdate u;
    const std::string key = "c/" + customer;
    u.visitor_id = key;
    u.customer_id = customer;
    u.state = &st;
    u.task = 0;
    u.event.kind = op::StepEvent::Kind::kApp;
    u.event.event_id = e.event_id();
    u.event.time_ms = t;
    u.event.app = &e;
    u.new_event_ids = {e.event_id()};
    op_->Decide(std::span<op::VisitorUpdate>(&u, 1), state_, sink_);
  }

  const v1::Decision& LastDecision() {
    EXPECT_FALSE(sink_.decisions.empty());
    return sink_.decisions.back();
  }
  static const v1::RankedOffer* Find(const v1::Decision& d, const std::string& offer) {
    for (const auto& o : d.offers()) {
      if (o.offer_id() == offer) return &o;
    }
    return nullptr;
  }
  static std::string RemovedBy(const v1::Decision& d, const std::string& offer) {
    for (const auto& r : d.removed()) {
      if (r.offer_id() == offer) return r.rule();
    }
    return "";
  }

  DecisionOptions options_;
  CountingMetrics metrics_;
  std::unique_ptr<DecisionOperator> op_;
  testing::MemoryState state_;
  testing::CollectingSink sink_;
  std::map<std::string, v1::VisitorState> visitors_;
};

TEST_F(OperatorTest, LoginGivesRankedExplainedPolicyCheckedTiles) {
  state_.profiles["c-1"].add_products_held("CC_CASHBACK");
  for (int i = 0; i < 2; ++i) {
    App("c-1", "s" + std::to_string(i), kT0 + i * 1000, v1::APP_ACTION_SCREEN_VIEW,
        "products/travel-card");
  }
  // Two product screens are enough evidence for a travel trigger (its own decisions),
  // but never a homepage decision.
  const auto home_decisions = [&] {
    return std::count_if(sink_.decisions.begin(), sink_.decisions.end(),
                         [](const v1::Decision& d) { return d.placement() == "home_tile"; });
  };
  EXPECT_EQ(home_decisions(), 0) << "product screens are not homepage triggers";
  App("c-1", "login-1", kT0 + 60'000, v1::APP_ACTION_LOGIN);
  ASSERT_EQ(home_decisions(), 1);
  const v1::Decision& d = LastDecision();
  EXPECT_EQ(d.placement(), "home_tile");
  EXPECT_EQ(d.arm(), "treated");
  EXPECT_EQ(d.trigger_event_id(), "login-1");
  EXPECT_EQ(d.trigger_time().seconds(), (kT0 + 60'000) / 1000);
  ASSERT_EQ(d.offers_size(), 3);
  for (int r = 0; r < 3; ++r) {
    const auto& o = d.offers(r);
    EXPECT_EQ(o.rank(), static_cast<uint32_t>(r + 1));
    const auto& f = o.factors();
    EXPECT_NEAR(f.priority(), f.propensity() * f.context_weight() * f.value() * f.lever(),
                1e-4 * f.priority());
    if (r > 0) {
      EXPECT_GE(d.offers(r - 1).factors().priority(), f.priority());
    }
    EXPECT_FLOAT_EQ(o.logging_propensity(), 1.0f) << "no exploration: deterministic";
    EXPECT_FALSE(o.tile_id().empty());
  }
  EXPECT_EQ(d.offers(0).offer_id(), "OFR_TRAVEL_CARD") << "the customer's intent wins";
  EXPECT_EQ(RemovedBy(d, "OFR_CASHBACK_CARD"), "INELIGIBLE") << "held (its rule excludes it)";
  EXPECT_EQ(RemovedBy(d, "OFR_FIRST_HOME_MORTGAGE"), "CONFIDENCE_CAP");
  ASSERT_FALSE(d.intents().empty());
  EXPECT_EQ(d.intents(0).intent(), "travel_rewards");
  std::vector<std::string> codes;
  for (const auto& r : d.reasons()) codes.push_back(r.code());
  EXPECT_THAT(codes, ::testing::IsSupersetOf({"INTENT", "TOP_OFFER", "PROFILE", "ARM", "POLICY"}));
  EXPECT_THAT(d.reasons(0).description(), HasSubstr("products/travel-card"));
  EXPECT_EQ(d.reasons(0).event_ids_size(), 2) << "the two screens that drove it";
  EXPECT_EQ(d.catalogue_version(), catalog::DefaultCatalog()->version());
  EXPECT_EQ(d.taxonomy_version(), catalog::DefaultCatalog()->taxonomy_version());
  EXPECT_EQ(d.policy_version(), options_.Version());
  EXPECT_EQ(d.intent_model_version(), RuleIntentScorer::Version());
  EXPECT_EQ(state_.latest.count("c-1|home_tile"), 1u) << "the latest, for the lookup API";
  // The home screen a second later does not decide again.
  App("c-1", "home-1", kT0 + 61'000, v1::APP_ACTION_SCREEN_VIEW, "home");
  EXPECT_EQ(home_decisions(), 1);
  App("c-1", "login-2", kT0 + 3'600'000, v1::APP_ACTION_LOGIN);
  EXPECT_EQ(home_decisions(), 2);
}

TEST_F(OperatorTest, ClickIsVisibleToTheVeryNextDecision) {
  App("c-1", "login-1", kT0, v1::APP_ACTION_LOGIN);
  const std::string offer = LastDecision().offers(0).offer_id();
  const float alpha = LastDecision().offers(0).factors().posterior_alpha();
  const float beta = LastDecision().offers(0).factors().posterior_beta();
  App("c-1", "imp-1", kT0 + 1000, v1::APP_ACTION_TILE_IMPRESSION, "home", offer);
  App("c-1", "click-1", kT0 + 2000, v1::APP_ACTION_TILE_CLICK, "home", offer);
  App("c-1", "login-2", kT0 + 120'000, v1::APP_ACTION_LOGIN);
  const auto* after = Find(LastDecision(), offer);
  ASSERT_NE(after, nullptr);
  EXPECT_FLOAT_EQ(after->factors().posterior_alpha(), alpha + 1) << "the customer's own click";
  EXPECT_FLOAT_EQ(after->factors().posterior_beta(), beta);
  EXPECT_EQ(metrics_.feedback[static_cast<size_t>(Feedback::kImpression)], 1);
  EXPECT_EQ(metrics_.feedback[static_cast<size_t>(Feedback::kClick)], 1);
  const auto& s = state_.offers["c-1"];
  ASSERT_EQ(s.offers_size() > 0, true);
  // The task's posterior learns from the next posterior bucket on.
  EXPECT_TRUE(state_.task_values.empty()) << "the task's posteriors are written at Flush";
  op_->Flush(state_);
  EXPECT_EQ(state_.task_values.count("0|posteriors"), 1u);
}

TEST_F(OperatorTest, DismissalSuppressesForItsWindowThenTheOfferReturns) {
  App("c-1", "login-1", kT0, v1::APP_ACTION_LOGIN);
  const std::string offer = LastDecision().offers(0).offer_id();
  App("c-1", "dismiss-1", kT0 + 1000, v1::APP_ACTION_TILE_DISMISS, "home", offer);
  App("c-1", "login-2", kT0 + kDayMs, v1::APP_ACTION_LOGIN);
  EXPECT_EQ(Find(LastDecision(), offer), nullptr);
  EXPECT_EQ(RemovedBy(LastDecision(), offer), "SUPPRESSED_AFTER_DISMISSAL");
  App("c-1", "login-3", kT0 + 15 * kDayMs, v1::APP_ACTION_LOGIN);
  EXPECT_EQ(RemovedBy(LastDecision(), offer), "") << "eligible again after 14 days";
}

TEST_F(OperatorTest, HoldoutArmGetsTheStaticRanking) {
  options_.holdout_percent = 100;
  App("c-1", "s1", kT0, v1::APP_ACTION_SCREEN_VIEW, "products/travel-card");
  App("c-1", "login-1", kT0 + 60'000, v1::APP_ACTION_LOGIN);
  const auto& d = LastDecision();
  EXPECT_EQ(d.arm(), "holdout");
  const auto cat = catalog::DefaultCatalog();
  for (int r = 1; r < d.offers_size(); ++r) {
    const auto& a = cat->offers()[static_cast<size_t>(cat->FindOffer(d.offers(r - 1).offer_id()))];
    const auto& b = cat->offers()[static_cast<size_t>(cat->FindOffer(d.offers(r).offer_id()))];
    EXPECT_GE(a.priority, b.priority);
  }
  // Nothing the policy let through outranks the last tile shown.
  std::set<std::string> seen;
  for (const auto& o : d.offers()) seen.insert(o.offer_id());
  for (const auto& r : d.removed()) seen.insert(r.offer_id());
  const double last =
      cat->offers()[static_cast<size_t>(cat->FindOffer(d.offers(d.offers_size() - 1).offer_id()))]
          .priority;
  for (const auto& o : cat->offers()) {
    if (!o.channels[0] || seen.count(o.id) != 0) continue;
    EXPECT_LE(o.priority, last) << o.id;
  }
}

TEST_F(OperatorTest, CustomerWithoutAProfileGetsAColdStartRanking) {
  state_.profiles.clear();
  App("c-2", "login-1", kT0, v1::APP_ACTION_LOGIN);
  const auto& d = LastDecision();
  EXPECT_GT(d.offers_size(), 0);
  EXPECT_EQ(RemovedBy(d, "OFR_CASHBACK_CARD"), "ELIGIBILITY_UNKNOWN");
  for (const auto& r : d.removed()) {
    if (r.rule() == "ELIGIBILITY_UNKNOWN") {
      EXPECT_THAT(r.detail(), HasSubstr("no profile"));
    }
  }
  for (const auto& o : d.offers()) EXPECT_EQ(o.product_code(), "") << "service offers only";
}

TEST_F(OperatorTest, FallbackWhenThePolicyRemovesEverything) {
  options_.offer_cap = {1, 30 * kDayMs};
  Make();
  // Every tile offer already shown once: capped.
  const auto cat = catalog::DefaultCatalog();
  for (const auto& o : cat->offers()) {
    App("c-1", "imp-" + o.id, kT0, v1::APP_ACTION_TILE_IMPRESSION, "home", o.id);
  }
  App("c-1", "login-1", kT0 + 1000, v1::APP_ACTION_LOGIN);
  const auto& d = LastDecision();
  EXPECT_TRUE(d.fallback());
  ASSERT_EQ(d.offers_size(), 1);
  EXPECT_TRUE(cat->offers()[static_cast<size_t>(cat->FindOffer(d.offers(0).offer_id()))].fallback);
}

TEST_F(OperatorTest, FeedbackForAnUnknownOfferIsCountedAndIgnored) {
  App("c-1", "imp-x", kT0, v1::APP_ACTION_TILE_IMPRESSION, "home", "OFR_NOT_IN_CATALOGUE");
  EXPECT_EQ(metrics_.unknown, 1);
  EXPECT_EQ(state_.offers["c-1"].offers_size(), 0);
}

TEST_F(OperatorTest, IntentCrossingItsThresholdTriggersOncePerCooldown) {
  // Three product screens take travel_rewards over 0.6 (1 - e^-1 at the third).
  for (int i = 0; i < 3; ++i) {
    App("c-1", "s" + std::to_string(i), kT0 + i * 1000, v1::APP_ACTION_SCREEN_VIEW,
        "products/travel-card");
  }
  ASSERT_EQ(sink_.triggers.size(), 1u);
  const v1::Trigger& t = sink_.triggers[0];
  EXPECT_EQ(t.intent(), "travel_rewards");
  EXPECT_EQ(t.channel(), "push");
  EXPECT_EQ(t.customer_id(), "c-1");
  EXPECT_GE(t.score(), 0.6f);
  EXPECT_FLOAT_EQ(t.threshold(), 0.6f);
  EXPECT_FALSE(t.offer_id().empty());
  EXPECT_EQ(t.expires_time().seconds() - t.created_time().seconds(), 7 * 86400);
  // The trigger's decision went out too, naming the trigger's offer.
  EXPECT_EQ(LastDecision().decision_id(), t.decision_id());
  EXPECT_EQ(LastDecision().placement(), "push");
  const std::string first_id = t.trigger_id();
  // The score falls and rises again within the cooldown: no second trigger.
  visitors_["c-1"].clear_intents();
  App("c-1", "s9", kT0 + kDayMs, v1::APP_ACTION_SCREEN_VIEW, "products/travel-card");
  EXPECT_EQ(sink_.triggers.size(), 1u);
  EXPECT_THAT(metrics_.suppressed, ::testing::Contains("cooldown"));
  // After the cooldown it may fire again.
  visitors_["c-1"].clear_intents();
  App("c-1", "s10", kT0 + 8 * kDayMs, v1::APP_ACTION_SCREEN_VIEW, "products/travel-card");
  EXPECT_EQ(sink_.triggers.size(), 2u);
  EXPECT_NE(sink_.triggers[1].trigger_id(), first_id);
}

TEST_F(OperatorTest, NoConsentNoTriggerButAnAuditedDecision) {
  state_.profiles["c-1"].set_marketing_consent(false);
  for (int i = 0; i < 3; ++i) {
    App("c-1", "s" + std::to_string(i), kT0 + i * 1000, v1::APP_ACTION_SCREEN_VIEW,
        "products/travel-card");
  }
  EXPECT_TRUE(sink_.triggers.empty());
  ASSERT_FALSE(sink_.decisions.empty());
  EXPECT_EQ(LastDecision().offers_size(), 0);
  EXPECT_EQ(LastDecision().removed(0).rule(), "NO_MARKETING_CONSENT");
  EXPECT_THAT(metrics_.suppressed, ::testing::Contains("NO_MARKETING_CONSENT"));
}

TEST_F(OperatorTest, ServiceIntentsNeverTrigger) {
  for (int i = 0; i < 5; ++i) {
    App("c-1", "f" + std::to_string(i), kT0 + i * 1000, v1::APP_ACTION_SCREEN_VIEW, "cards/freeze");
  }
  EXPECT_TRUE(sink_.triggers.empty()) << "fraud_concern is not marketing-relevant";
  App("c-1", "login", kT0 + 10'000, v1::APP_ACTION_LOGIN);
  for (const auto& o : LastDecision().offers()) {
    EXPECT_NE(o.offer_id(), "OFR_TRAVEL_CARD") << "no credit during a fraud concern";
  }
}

TEST_F(OperatorTest, SameInputSameDecisions) {
  options_.exploration_share = 0.5;  // exploration is seeded per decision
  auto run = [&] {
    state_ = testing::MemoryState();
    Profile("c-1");
    sink_ = testing::CollectingSink();
    visitors_.clear();
    op_.reset();
    Make();
    for (int day = 0; day < 6; ++day) {
      App("c-1", "s" + std::to_string(day), kT0 + day * kDayMs, v1::APP_ACTION_SCREEN_VIEW,
          "products/savings");
      App("c-1", "l" + std::to_string(day), kT0 + day * kDayMs + 1000, v1::APP_ACTION_LOGIN);
      const auto& d = LastDecision();
      App("c-1", "i" + std::to_string(day), kT0 + day * kDayMs + 2000,
          v1::APP_ACTION_TILE_IMPRESSION, "home", d.offers(0).offer_id());
    }
    std::vector<std::string> out;
    for (auto d : sink_.decisions) {
      if (d.placement() != "home_tile") continue;
      d.clear_decided_time();
      d.clear_processing_latency_us();
      out.push_back(d.SerializeAsString());
    }
    return out;
  };
  const auto a = run();
  const auto b = run();
  EXPECT_EQ(a.size(), 6u);
  EXPECT_EQ(a, b);
}

TEST(DecisionOptionsTest, KeysParseAndBadOnesAreNamed) {
  const auto o = LoadDecisionOptions({{"decision.home.tiles", "4"},
                                      {"decision.lever.OFR_TRAVEL_CARD", "2"},
                                      {"triggers.threshold.travel_rewards", "0.7"},
                                      {"decision.weight.push", "0.5"},
                                      {"triggers.channels", "email,push"}});
  EXPECT_EQ(o.home_tiles, 4);
  EXPECT_EQ(o.LeverOf("OFR_TRAVEL_CARD"), 2);
  EXPECT_EQ(o.ThresholdOf("travel_rewards"), 0.7);
  EXPECT_EQ(o.ThresholdOf("auto_loan"), 0.6);
  EXPECT_EQ(o.placement_weight.at("push"), 0.5);
  EXPECT_EQ(o.trigger_channels, (std::vector<std::string>{"email", "push"}));
  EXPECT_NE(o.Version(), DecisionOptions().Version());
  auto error = [](std::map<std::string, std::string> props) {
    try {
      const auto opts = LoadDecisionOptions(props);
      DecisionOperator::CheckOptions(opts, *catalog::DefaultCatalog());
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_THAT(error({{"decision.home.tilez", "3"}}), HasSubstr("'decision.home.tilez': unknown"));
  EXPECT_THAT(error({{"decision.home.tiles", "0"}}), HasSubstr("out of range"));
  EXPECT_THAT(error({{"decision.lever.OFR_NOPE", "2"}}), HasSubstr("no offer 'OFR_NOPE'"));
  EXPECT_THAT(error({{"triggers.threshold.nope", "0.5"}}), HasSubstr("no intent 'nope'"));
  EXPECT_THAT(error({{"triggers.channels", "fax"}}), HasSubstr("unknown channel 'fax'"));
  EXPECT_THAT(error({{"decision.weight.billboard", "1"}}), HasSubstr("unknown placement"));
}

TEST(DecisionOptionsTest, DocumentedReferenceIsCurrent) {
  std::ifstream in(std::string(INTENTSTREAM_TEST_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(in);
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(doc, HasSubstr(OptionsReference(DecisionOptionSpecs())))
      << "regenerate: bash tools/gen-config-doc.sh";
}

}  // namespace
}  // namespace intentstream::decide
