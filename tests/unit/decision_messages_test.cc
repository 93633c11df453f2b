// The decision operator's messages and fairness monitor, end to end over the built-in
// catalogue: tiles and triggers carry grounded, cited messages; the same inputs give
// the same messages; protected attributes change no decision; the monitor's skews reach
// the metrics seam.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "catalog/message_text.h"
#include "common/config.h"
#include "decide/decision_operator.h"
#include "decide/message_check.h"
#include "ingest/session_event.h"
#include "support/decision_state.h"
#include "support/events.h"

namespace intentstream::decide {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kT0 = 1'790'000'000'000;

v1::CustomerProfile Profile(const std::string& id, const std::string& gender) {
  auto p = testing::Profile(id, kT0 - 86'400'000, /*consent=*/true);
  p.set_income_band(v1::INCOME_BAND_MIDDLE);
  p.set_credit_grade(3);
  p.set_risk_appetite(v1::RISK_APPETITE_MEDIUM);
  p.add_products_held("CURRENT_ACCOUNT");
  p.mutable_monitoring()->set_gender(gender);
  return p;
}

// A visitor who read about travel cards and searched for lounge access.
void TravelSession(testing::CustomerSession& s) {
  int64_t t = kT0 - 600'000;
  for (const char* path : {"/credit-cards/travel-rewards", "/credit-cards/travel-rewards/benefits",
                           "/credit-cards/compare", "/travel/foreign-transaction-fees"}) {
    t += 20'000;
    s.Add(ingest::ToSessionEvent(testing::Web("w" + std::to_string(t), "anon", t, path)));
  }
  auto search = testing::Web("q1", "anon", t += 20'000, "/search");
  search.set_event_type(v1::WEB_EVENT_TYPE_SEARCH);
  search.set_search_query("airport lounge access");
  s.Add(ingest::ToSessionEvent(search));
}

struct Outputs {
  std::vector<v1::Decision> decisions;
  std::vector<v1::Trigger> triggers;
};

Outputs Login(const DecisionOptions& options, const std::string& gender,
              DecisionMetrics* metrics = nullptr) {
  LogSink log_sink(LogSink::Format::kText, LogLevel::kError);
  DecisionOperator op(options, catalog::DefaultCatalog(), {}, metrics, Logger(&log_sink, "t"));
  testing::MemoryState state;
  testing::CollectingSink sink;
  testing::CustomerSession s("cust-1");
  state.profiles["cust-1"] = Profile("cust-1", gender);
  TravelSession(s);
  const auto login = testing::App("login-1", "cust-1", kT0, v1::APP_ACTION_LOGIN);
  s.Add(ingest::ToSessionEvent(login));
  auto u = s.Update(login, kT0);
  op.Decide(std::span<op::VisitorUpdate>(&u, 1), state, sink);
  op.Flush(state);
  return {sink.decisions, sink.triggers};
}

std::vector<std::string> Excerpts(const v1::RankedOffer& o) {
  std::vector<std::string> out;
  for (const auto& c : o.citations()) out.push_back(c.excerpt());
  return out;
}

const v1::Decision* Home(const Outputs& r) {
  for (const auto& d : r.decisions) {
    if (d.placement() == "home_tile") return &d;
  }
  return nullptr;
}

TEST(DecisionMessagesTest, EveryTileStatesOnlyCitedFactsAndSensitiveOnesWarn) {
  const DecisionOptions options;
  const Outputs run = Login(options, "female");
  const v1::Decision* home = Home(run);
  ASSERT_NE(home, nullptr);
  ASSERT_EQ(home->offers_size(), 3);
  const auto& cat = *catalog::DefaultCatalog();
  bool saw_travel_card = false;
  for (const auto& o : home->offers()) {
    SCOPED_TRACE(o.offer_id() + ": " + o.message());
    ASSERT_GT(o.citations_size(), 0);
    const auto offer = cat.offers()[static_cast<size_t>(cat.FindOffer(o.offer_id()))];
    const auto f =
        CheckMessage(o.message(), Excerpts(o), ForbiddenPhrasesFor(options, offer.credit));
    EXPECT_GT(f.factual, 0u);
    EXPECT_EQ(f.factual_cited, f.factual);
    EXPECT_EQ(f.unresolved_markers, 0u);
    EXPECT_EQ(f.ungrounded_numbers, 0u);
    EXPECT_TRUE(f.forbidden.empty());
    for (const auto& c : o.citations()) {
      EXPECT_EQ(c.passage_id().rfind(c.document_id() + "#", 0), 0u);
      EXPECT_FALSE(c.title().empty());
      EXPECT_FALSE(c.url().empty());
    }
    if (offer.sensitive) {
      EXPECT_EQ(o.citations(o.citations_size() - 1).passage_id(),
                cat.passage(offer.risk_warnings.back()).id);
    }
    if (o.offer_id() == "OFR_TRAVEL_CARD") {
      saw_travel_card = true;
      // The searched-for lounge access is what retrieval picked.
      EXPECT_THAT(o.message(), HasSubstr("airport lounge passes"));
      EXPECT_EQ(o.citations(1).passage_id(), "DOC_CC_TRAVEL#rewards");
    }
  }
  EXPECT_TRUE(saw_travel_card) << "the travel-card visitor did not see the travel card";
}

TEST(DecisionMessagesTest, TriggersCarryTheirDecisionsTopMessageAndCitations) {
  const Outputs run = Login(DecisionOptions{}, "female");
  ASSERT_FALSE(run.triggers.empty()) << "the travel intent crossed no threshold";
  for (const auto& t : run.triggers) {
    const v1::Decision* d = nullptr;
    for (const auto& x : run.decisions) {
      if (x.decision_id() == t.decision_id()) d = &x;
    }
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(t.message(), d->offers(0).message());
    ASSERT_EQ(t.citations_size(), d->offers(0).citations_size());
    ASSERT_GT(t.citations_size(), 0);
    for (int i = 0; i < t.citations_size(); ++i) {
      EXPECT_EQ(t.citations(i).SerializeAsString(), d->offers(0).citations(i).SerializeAsString());
    }
  }
}

TEST(DecisionMessagesTest, SameInputsSameMessagesAndProtectedAttributesChangeNothing) {
  const Outputs a = Login(DecisionOptions{}, "female");
  const Outputs b = Login(DecisionOptions{}, "female");
  const Outputs c = Login(DecisionOptions{}, "male");
  ASSERT_EQ(a.decisions.size(), c.decisions.size());
  for (size_t i = 0; i < a.decisions.size(); ++i) {
    auto strip = [](v1::Decision d) {
      d.clear_decided_time();  // wall clock
      d.clear_processing_latency_us();
      return d.SerializeAsString();
    };
    EXPECT_EQ(strip(a.decisions[i]), strip(b.decisions[i])) << "not deterministic";
    EXPECT_EQ(strip(a.decisions[i]), strip(c.decisions[i])) << "the gender changed a decision";
  }
}

TEST(DecisionMessagesTest, MessagesOffShowTheHeadlineUncited) {
  DecisionOptions options;
  options.messages = false;
  const Outputs run = Login(options, "female");
  const v1::Decision* home = Home(run);
  ASSERT_NE(home, nullptr);
  for (const auto& o : home->offers()) {
    EXPECT_EQ(o.message(), o.headline());
    EXPECT_EQ(o.citations_size(), 0);
  }
  EXPECT_NE(options.Version(), DecisionOptions{}.Version()) << "decisions name the message mode";
}

TEST(DecisionMessagesTest, AForbiddenPhraseAnOfferCouldShowFailsTheCheckNamingKeyAndOffer) {
  const auto& cat = *catalog::DefaultCatalog();
  DecisionOptions options;
  EXPECT_NO_THROW(DecisionOperator::CheckOptions(options, cat));
  options.forbidden_phrases.push_back("lounge passes");
  try {
    DecisionOperator::CheckOptions(options, cat);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("decision.messages.forbidden_phrases"));
    EXPECT_THAT(e.what(), HasSubstr("offer 'OFR_TRAVEL_CARD'"));
    EXPECT_THAT(e.what(), HasSubstr("could say 'lounge passes': passage DOC_CC_TRAVEL#rewards"));
  }
  options = DecisionOptions{};
  options.forbidden_credit_phrases.push_back("missing payments");  // in credit risk warnings
  try {
    DecisionOperator::CheckOptions(options, cat);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("decision.messages.forbidden_phrases.credit"));
  }
  // Savings are not credit: the credit list does not apply to them.
  options = DecisionOptions{};
  options.forbidden_credit_phrases.push_back("notice");
  EXPECT_NO_THROW(DecisionOperator::CheckOptions(options, cat));
}

TEST(DecisionMessagesTest, RephrasingWithoutAChatClientIsAConfigError) {
  DecisionOptions options;
  options.rephrase.enabled = true;
  LogSink log_sink(LogSink::Format::kText, LogLevel::kError);
  try {
    DecisionOperator op(options, catalog::DefaultCatalog(), {}, nullptr, Logger(&log_sink, "t"));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("decision.messages.rephrase.enabled"));
  }
}

// Records what the operator reports about fairness.
class FairnessMetrics final : public DecisionMetrics {
 public:
  void Catalogue(const std::vector<std::string>& offers, const std::vector<std::string>&,
                 const std::vector<std::string>&) override {
    offer_ids = offers;
  }
  void Decision(int, Arm, bool, bool, double) override {}
  void Shown(int, Arm) override {}
  void Removed(size_t) override {}
  void FeedbackEvent(int, Arm, Feedback) override {}
  void UnknownOfferFeedback() override {}
  void Trigger(int) override {}
  void TriggerSuppressed(int, const std::string&) override {}
  void CatalogueReload(bool) override {}
  void MessageShown(bool rephrased) override { ++(rephrased ? rephrased_count : template_count); }
  void FairnessGroups(const std::vector<std::string>& g) override { groups = g; }
  void ParitySkew(int offer, size_t group, double skew) override {
    skew_of[offer_ids[static_cast<size_t>(offer)] + "/" + groups[group]] = skew;
  }
  void FairnessWindowTiles(size_t group, double tiles) override { tiles_of[groups[group]] = tiles; }

  std::vector<std::string> offer_ids, groups;
  std::map<std::string, double> skew_of, tiles_of;
  int template_count = 0, rephrased_count = 0;
};

TEST(DecisionMessagesTest, TheFairnessMonitorSeesTilesByGroupAndPublishesTheSkew) {
  DecisionOptions options;
  options.fairness.min_tiles = 10;
  FairnessMetrics metrics;
  LogSink log_sink(LogSink::Format::kText, LogLevel::kError);
  DecisionOperator op(options, catalog::DefaultCatalog(), {}, &metrics, Logger(&log_sink, "t"));
  testing::MemoryState state;
  testing::CollectingSink sink;
  // 40 customers; the women already hold a business account, so that offer (high value,
  // shown to everyone else) never reaches them: a skew of -1 for them.
  std::vector<testing::CustomerSession> sessions;
  for (int c = 0; c < 40; ++c) sessions.emplace_back("c" + std::to_string(c));
  for (int round = 0; round < 3; ++round) {
    for (int c = 0; c < 40; ++c) {
      auto& s = sessions[static_cast<size_t>(c)];
      const bool woman = c % 2 == 0;
      auto p = Profile(s.id(), woman ? "female" : "male");
      if (woman) p.add_products_held("BUSINESS_ACCOUNT");
      state.profiles[s.id()] = p;
      const int64_t t = kT0 + (round * 40 + c) * 120'000;
      const auto login =
          testing::App(s.id() + "-l" + std::to_string(round), s.id(), t, v1::APP_ACTION_LOGIN);
      s.Add(ingest::ToSessionEvent(login));
      auto u = s.Update(login, t);
      op.Decide(std::span<op::VisitorUpdate>(&u, 1), state, sink);
    }
  }
  op.Flush(state);
  EXPECT_THAT(metrics.groups, ::testing::ElementsAre("female", "male", "undisclosed", "other"));
  EXPECT_EQ(metrics.tiles_of["female"], 180);  // 20 customers x 3 logins x 3 tiles
  EXPECT_EQ(metrics.tiles_of["female"] + metrics.tiles_of["male"], 360);
  EXPECT_EQ(metrics.skew_of["OFR_BUSINESS_ACCOUNT/female"], -1.0);
  EXPECT_GT(metrics.skew_of["OFR_BUSINESS_ACCOUNT/male"], 0.15);
  EXPECT_TRUE(std::isnan(metrics.skew_of["OFR_BUSINESS_ACCOUNT/undisclosed"]))
      << "no tiles for the group: no skew";
  EXPECT_EQ(metrics.template_count, 360);
}

}  // namespace
}  // namespace intentstream::decide
