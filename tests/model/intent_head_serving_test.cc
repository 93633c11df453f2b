// The intent head served by the decision operator through op::IntentModel: its scores
// reach the visitor state and the decision, with its version; a visitor without an
// embedding, or an operator without a head, gets the rule scores.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "decide/decision_operator.h"
#include "decide/intent_rules.h"
#include "ingest/session_event.h"
#include "model/intent_head.h"
#include "state/visitor_state.h"
#include "support/decision_state.h"

namespace intentstream::model {
namespace {

constexpr int64_t kT0 = 1'800'000'000'000;
constexpr int kDim = 4;

float Logit(float p) {
  return std::log(p / (1 - p));
}

// A head whose calibration ignores the network (a = 0): travel_rewards 0.9,
// home_buying 0.2, whatever the embedding.
std::shared_ptr<IntentHead> FixedHead() {
  IntentHeadConfig c;
  c.embedding_dim = kDim;
  c.hidden = 4;
  c.intents = {"travel_rewards", "home_buying"};
  c.encoder_version = "test-encoder";
  auto head = IntentHead::Create(c);
  head->SetCalibration({0.0f, 0.0f}, {Logit(0.9f), Logit(0.2f)}, {0.5f, 0.5f});
  return head;
}

class IntentHeadServingTest : public ::testing::Test {
 protected:
  IntentHeadServingTest() {
    options_.exploration_share = 0;
    options_.holdout_percent = 0;
    auto& p = state_.profiles["c-1"];
    p.set_customer_id("c-1");
    p.set_age_band(v1::AGE_BAND_35_44);
    p.set_income_band(v1::INCOME_BAND_UPPER_MIDDLE);
    p.set_credit_grade(3);
    p.set_marketing_consent(true);
    p.add_products_held("CURRENT_ACCOUNT");
  }

  // One LOGIN step of customer c-1, with or without an embedding in its state.
  void Login(const op::IntentModel* model, bool with_embedding) {
    decide::DecisionModels models;
    models.intents = model;
    decide::DecisionOperator op(options_, catalog::DefaultCatalog(), models, nullptr,
                                Logger(nullptr, "test"));
    v1::AppEvent e;
    e.set_event_id("e-1");
    e.set_customer_id("c-1");
    e.mutable_event_time()->set_seconds(kT0 / 1000);
    e.set_action(v1::APP_ACTION_LOGIN);
    e.set_screen("home");
    state::ApplyOwnEvent(&visitor_, ingest::ToSessionEvent(e), state::SessionPolicy{});
    if (with_embedding) {
      const std::vector<float> embedding = {0.5f, -0.5f, 0.5f, -0.5f};
      visitor_.set_embedding(std::string(reinterpret_cast<const char*>(embedding.data()),
                                         embedding.size() * sizeof(float)));
    }
    op::VisitorUpdate u;
    u.visitor_id = "c/c-1";
    u.customer_id = "c-1";
    u.state = &visitor_;
    u.event.kind = op::StepEvent::Kind::kApp;
    u.event.event_id = e.event_id();
    u.event.time_ms = kT0;
    u.event.app = &e;
    u.new_event_ids = {e.event_id()};
    op.Decide(std::span<op::VisitorUpdate>(&u, 1), state_, sink_);
  }

  std::map<std::string, float> StoredIntents() const {
    std::map<std::string, float> out;
    for (const auto& s : visitor_.intents()) out[s.intent()] = s.score();
    return out;
  }

  decide::DecisionOptions options_;
  testing::MemoryState state_;
  testing::CollectingSink sink_;
  v1::VisitorState visitor_;
};

TEST_F(IntentHeadServingTest, HeadScoresReachStateAndDecision) {
  const auto head = FixedHead();
  Login(head.get(), /*with_embedding=*/true);
  const auto intents = StoredIntents();
  ASSERT_TRUE(intents.count("travel_rewards"));
  EXPECT_NEAR(intents.at("travel_rewards"), 0.9f, 1e-5f);
  ASSERT_TRUE(intents.count("home_buying"));
  EXPECT_NEAR(intents.at("home_buying"), 0.2f, 1e-5f);
  ASSERT_FALSE(sink_.decisions.empty());
  EXPECT_EQ(sink_.decisions.back().intent_model_version(), head->version());
}

TEST_F(IntentHeadServingTest, NoEmbeddingKeepsTheRuleScores) {
  const auto head = FixedHead();
  Login(head.get(), /*with_embedding=*/false);
  const auto intents = StoredIntents();
  // A bare login is no evidence of travel for the rules.
  EXPECT_FALSE(intents.count("travel_rewards") && intents.at("travel_rewards") > 0.5f);
}

TEST_F(IntentHeadServingTest, NoHeadMeansTheRuleScorer) {
  Login(nullptr, /*with_embedding=*/true);
  const auto intents = StoredIntents();
  EXPECT_FALSE(intents.count("travel_rewards") && intents.at("travel_rewards") > 0.5f);
  ASSERT_FALSE(sink_.decisions.empty());
  EXPECT_EQ(sink_.decisions.back().intent_model_version(), decide::RuleIntentScorer::Version());
}

}  // namespace
}  // namespace intentstream::model
