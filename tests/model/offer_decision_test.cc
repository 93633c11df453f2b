// The offer model inside the decision stage: learned propensities and personas in
// decisions, and an offer added to the catalogue at run time (no history) ranked for
// visitors whose sessions match it, by its cold-start estimate.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/logging.h"
#include "common/text.h"
#include "decide/arbitration.h"
#include "decide/decision_operator.h"
#include "decide/features.h"
#include "ingest/session_event.h"
#include "model/calibration.h"
#include "model/offer_model.h"
#include "model/offer_trainer.h"
#include "support/decision_state.h"

namespace intentstream {
namespace {

// A model of the catalogue's intents that learned, on synthetic visitors, that a
// visitor clicks the offers of the intent their session shows. Trained on the 12 tile
// offers of the built-in catalogue; knows nothing of any other offer.
std::shared_ptr<model::OfferModel> TrainIntentModel(const catalog::Catalog& cat,
                                                    const decide::FeatureBuilder& features) {
  const op::ScoringLayout layout = decide::ScoringLayoutOf(cat, features);
  model::OfferModelSpec spec;
  spec.model_version = "test-offer-model";
  for (const auto& i : layout.intents) spec.semantic.names.push_back("intent=" + i);
  spec.structured.names = {"profile_known"};
  spec.tasks = {"click"};
  spec.intents = layout.intents;
  const char* tiles[] = {"OFR_FIRST_HOME_MORTGAGE", "OFR_REMORTGAGE_SWITCH", "OFR_TRAVEL_CARD",
                         "OFR_BALANCE_TRANSFER",    "OFR_EASY_ACCESS_SAVER", "OFR_CASHBACK_CARD"};
  for (const char* id : tiles) {
    const auto& d = layout.offers[static_cast<size_t>(cat.FindOffer(id))];
    spec.offers.push_back(d);
    if (std::find(spec.kinds.begin(), spec.kinds.end(), d.product_kind) == spec.kinds.end()) {
      spec.kinds.push_back(d.product_kind);
    }
    spec.products.push_back(d.product);
  }
  spec.net.hidden = 16;
  spec.net.branches = 2;
  spec.net.branch_hidden = 16;
  spec.net.offer_dim = 8;
  auto draw = [&](size_t rows, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> u(0, 1);
    model::OfferTrainData d;
    d.tasks = 1;
    d.offers = spec.offers.size();
    d.inputs.rows = rows;
    const size_t intents = layout.intents.size();
    for (size_t r = 0; r < rows; ++r) {
      const size_t focus = rng() % intents;
      std::vector<float> scores(intents);
      for (size_t k = 0; k < intents; ++k)
        scores[k] = k == focus ? 0.6f + 0.4f * u(rng) : 0.1f * u(rng);
      d.inputs.semantic.insert(d.inputs.semantic.end(), scores.begin(), scores.end());
      d.inputs.structured.push_back(1.0f);
      for (const auto& o : spec.offers) {
        const auto i = static_cast<size_t>(cat.FindIntent(o.intents[0]));
        const bool shown = rng() % 2 == 0;
        d.mask.push_back(shown ? 1.0f : 0.0f);
        d.target.push_back(shown && u(rng) < model::Sigmoid(-3.5 + 4 * scores[i]) ? 1.0f : 0.0f);
      }
    }
    return d;
  };
  const auto train = draw(4000, 1), validation = draw(1000, 2);
  model::FitStandardisation(train.inputs, &spec);
  model::OfferTrainOptions o;
  o.epochs = 10;
  o.patience = 10;
  o.batch = 64;
  o.learning_rate = 5e-3;
  o.residual_l2 = 3e-2;
  o.seed = 5;
  return model::TrainOfferModel(spec, train, validation, o, nullptr);
}

// A customer whose pre-login web session was about `paths`, now logging in to the app.
struct Visit {
  v1::VisitorState state;
  v1::AppEvent login;
};
Visit VisitAbout(const std::string& customer, const std::vector<std::string>& paths,
                 int64_t login_ms) {
  Visit v;
  int64_t t = login_ms - 3'600'000;
  uint64_t key = std::hash<std::string>{}(customer);
  for (const auto& p : paths) {
    auto* e = v.state.add_events();
    e->set_event_key(++key);
    e->set_time_ms(t += 60'000);
    e->set_source(v1::SOURCE_WEB);
    e->set_event_type(v1::WEB_EVENT_TYPE_CALCULATOR_USE);
    e->set_category(CategoryFromPath(p));
  }
  v.login.set_event_id("login-" + customer + "-" + std::to_string(login_ms));
  v.login.set_customer_id(customer);
  v.login.set_action(v1::APP_ACTION_LOGIN);
  v.login.set_screen("login");
  v.login.mutable_event_time()->set_seconds(login_ms / 1000);
  *v.state.add_events() = ingest::ToSessionEvent(v.login);
  return v;
}

std::shared_ptr<const catalog::Catalog> WithNewOffer() {
  catalog::CatalogFiles files = catalog::BuiltInCatalogFiles();
  files.origin = "test";
  files.offers +=
      "{\"id\": \"OFR_HOMEBUYER_CHECKLIST\", \"name\": \"Your home-buying checklist\", "
      "\"tile\": \"TILE_HOMEBUYER_CHECKLIST\", \"intents\": [\"home_buying\"], \"value\": 120, "
      "\"priority\": 0.5, \"channels\": [\"home_tile\", \"in_app\"], \"headline\": \"Your "
      "home-buying checklist\"}\n";
  return catalog::ParseCatalog(files);
}

class OfferDecisionTest : public ::testing::Test {
 protected:
  OfferDecisionTest() : log_(&sink_, "test") {
    options_.exploration_share = 0;  // rank by posterior means: deterministic
    options_.holdout_percent = 0;
    for (const char* c : {"c-home", "c-travel"}) {
      v1::CustomerProfile p;
      p.set_customer_id(c);
      p.set_age_band(v1::AGE_BAND_25_34);
      p.set_income_band(v1::INCOME_BAND_MIDDLE);
      p.set_credit_grade(3);
      p.set_marketing_consent(true);
      p.add_products_held("CURRENT_ACCOUNT");
      state_.profiles[c] = p;
    }
  }

  v1::Decision Decide(decide::DecisionOperator& op, Visit& v) {
    op::VisitorUpdate u;
    u.visitor_id = v.login.customer_id();
    u.customer_id = v.login.customer_id();
    u.state = &v.state;
    u.task = 0;
    u.event.kind = op::StepEvent::Kind::kApp;
    u.event.event_id = v.login.event_id();
    u.event.time_ms = ingest::TimestampToMillis(v.login.event_time());
    u.event.app = &v.login;
    const size_t before = out_.decisions.size();
    op.Decide(std::span<op::VisitorUpdate>(&u, 1), state_, out_);
    // Besides the homepage decision, an intent crossing its threshold may trigger.
    for (size_t i = before; i < out_.decisions.size(); ++i) {
      if (out_.decisions[i].placement() == "home_tile") return out_.decisions[i];
    }
    ADD_FAILURE() << "no homepage decision";
    return out_.decisions.back();
  }
  static std::string Describe(const v1::Decision& d) {
    std::string s;
    for (const auto& o : d.offers()) {
      s += o.offer_id() + " p=" + std::to_string(o.factors().propensity()) +
           " cw=" + std::to_string(o.factors().context_weight()) +
           " v=" + std::to_string(o.factors().value()) + " " + o.factors().propensity_source() +
           "; ";
    }
    return s;
  }

  static const v1::RankedOffer* Find(const v1::Decision& d, const std::string& id) {
    for (const auto& o : d.offers()) {
      if (o.offer_id() == id) return &o;
    }
    return nullptr;
  }

  LogSink sink_{LogSink::Format::kText, LogLevel::kError};
  Logger log_;
  decide::DecisionOptions options_;
  testing::MemoryState state_;
  testing::CollectingSink out_;
};

TEST_F(OfferDecisionTest, AnOfferAddedAtRunTimeIsRankedForVisitorsWhoseSessionsMatchIt) {
  const auto builtin = catalog::DefaultCatalog();
  const decide::FeatureBuilder features(std::make_shared<decide::IntentMatcher>(builtin));
  const auto model = TrainIntentModel(*builtin, features);
  decide::DecisionModels models;
  models.propensity = model.get();
  decide::DecisionOperator op(options_, builtin, models, nullptr, log_);

  const std::vector<std::string> mortgage = {"/mortgages/calculator",
                                             "/mortgages/first-time-buyers", "/mortgages/rates",
                                             "/guides/buying-your-first-home"};
  const std::vector<std::string> travel = {"/credit-cards/travel-rewards",
                                           "/travel/foreign-transaction-fees",
                                           "/credit-cards/travel-rewards/benefits"};
  const int64_t t0 = 1'767'600'000'000;
  Visit home = VisitAbout("c-home", mortgage, t0);
  const v1::Decision before = Decide(op, home);
  EXPECT_EQ(before.offer_model_version(), "test-offer-model");
  EXPECT_EQ(Find(before, "OFR_HOMEBUYER_CHECKLIST"), nullptr);  // not in the catalogue yet
  ASSERT_GT(before.offers_size(), 0);
  const auto* mortgage_offer = Find(before, "OFR_FIRST_HOME_MORTGAGE");
  ASSERT_NE(mortgage_offer, nullptr);
  EXPECT_EQ(mortgage_offer->factors().propensity_source(), "model+posterior");

  // The catalogue gains an offer nobody has seen; it serves home buying.
  op.SetCatalog(WithNewOffer());
  Visit home_again = VisitAbout("c-home", mortgage, t0 + 3'600'000);
  const v1::Decision after = Decide(op, home_again);
  const auto* fresh = Find(after, "OFR_HOMEBUYER_CHECKLIST");
  ASSERT_NE(fresh, nullptr) << "the new offer is not among the home tiles of a home buyer: "
                            << Describe(after);
  EXPECT_EQ(fresh->factors().propensity_source(), "cold-start+posterior");
  EXPECT_LE(fresh->rank(), 3u);

  // A traveller sees the travel card first (and the travel insurance, another offer the
  // model was not trained on, by its own cold-start estimate); the checklist, if it is
  // shown at all, ranks below both with a far lower propensity.
  Visit traveller = VisitAbout("c-travel", travel, t0 + 3'600'000);
  const v1::Decision other = Decide(op, traveller);
  ASSERT_GT(other.offers_size(), 0);
  EXPECT_EQ(other.offers(0).offer_id(), "OFR_TRAVEL_CARD") << Describe(other);
  const auto* insurance = Find(other, "OFR_TRAVEL_INSURANCE");
  ASSERT_NE(insurance, nullptr) << Describe(other);
  EXPECT_EQ(insurance->factors().propensity_source(), "cold-start+posterior");
  if (const auto* shown = Find(other, "OFR_HOMEBUYER_CHECKLIST"); shown != nullptr) {
    EXPECT_GT(shown->rank(), fresh->rank()) << Describe(other);
    EXPECT_LT(shown->factors().propensity(), 0.5 * fresh->factors().propensity())
        << Describe(after) << " | " << Describe(other);
  }

  // What the model says for each, directly: the cold-start estimate follows the session.
  const decide::FeatureBuilder new_features(
      std::make_shared<decide::IntentMatcher>(WithNewOffer()));
  const auto layout = model->Prepare(decide::ScoringLayoutOf(*WithNewOffer(), new_features));
  const int row = WithNewOffer()->FindOffer("OFR_HOMEBUYER_CHECKLIST");
  auto score = [&](const std::string& intent) {
    std::vector<float> intents(builtin->intents().size(), 0.02f);
    intents[static_cast<size_t>(builtin->FindIntent(intent))] = 0.9f;
    float out = 0;
    op::PropensityRequest req;
    req.intents = intents;
    const std::vector<int> offers = {row};
    req.offers = offers;
    req.out = std::span<float>(&out, 1);
    model->Score(*layout, std::span<op::PropensityRequest>(&req, 1));
    return out;
  };
  EXPECT_GT(score("home_buying"), 2 * score("travel_rewards"));
}

TEST(ColdStartBlendTest, EvidenceTakesOverFromTheColdStartEstimate) {
  const decide::DecisionOptions o;
  const decide::BetaCounts none;
  // A cold-start estimate of 8% with no evidence is the propensity...
  const auto prior =
      decide::OfferPosterior(o, none, nullptr, nullptr, 0.08, decide::kColdStartPriorStrength);
  EXPECT_NEAR(prior.mean(), 0.08, 1e-9);
  // ...which the offer's own feedback moves, faster than a trained offer's prior.
  const decide::BetaCounts seen{200, 2};  // 1% click-through in the task
  const auto cold =
      decide::OfferPosterior(o, seen, nullptr, nullptr, 0.08, decide::kColdStartPriorStrength);
  const auto known =
      decide::OfferPosterior(o, seen, nullptr, nullptr, 0.08, decide::kModelPriorStrength);
  EXPECT_LT(cold.mean(), 0.02);
  EXPECT_LT(cold.mean(), known.mean());
  EXPECT_GT(cold.mean(), 0.01);
}

}  // namespace
}  // namespace intentstream
