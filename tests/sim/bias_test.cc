// The evaluation's bias check (four-fifths rule by monitored group) and its audit of a
// decisions log's messages.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <fstream>

#include "eval/bias.h"
#include "eval/message_audit.h"

namespace intentstream::eval {
namespace {

using ::testing::HasSubstr;

const BiasRow& Row(const std::vector<BiasRow>& rows, const std::string& offer,
                   const std::string& group) {
  for (const auto& r : rows) {
    if (r.offer == offer && r.group == group) return r;
  }
  static const BiasRow none;
  ADD_FAILURE() << "no row " << offer << "/" << group;
  return none;
}

std::vector<Exposure> Exposures() {
  std::vector<Exposure> out;
  // Group a: 100 decision points, offer X shown at 50, the world also showed it at 40 of
  // those and 10 were clicked. Group b: 100 points, X at 35 (ratio 0.7: flagged), logged
  // at 30 of them with 9 clicks (0.3 vs 0.25: ratio 1 for b, a gets 0.833).
  for (int i = 0; i < 100; ++i) {
    Exposure e;
    e.group = "a";
    if (i < 50) e.shown = {"X"};
    if (i < 40) e.logged = {{"X", i < 10}};
    e.shown.push_back("Y");
    out.push_back(e);
  }
  for (int i = 0; i < 100; ++i) {
    Exposure e;
    e.group = "b";
    if (i < 35) e.shown = {"X"};
    if (i < 30) e.logged = {{"X", i < 9}};
    if (i >= 60) e.logged.push_back({"Z", true});  // logged, never shown: not counted
    e.shown.push_back("Y");
    out.push_back(e);
  }
  for (int i = 0; i < 5; ++i) out.push_back({"tiny", {"X"}, {}});
  return out;
}

TEST(BiasCheckTest, RatesAgainstTheBestGroupWithTheFourFifthsFlag) {
  const BiasOptions options;
  const auto rows = BiasCheck(Exposures(), options);
  const auto& xa = Row(rows, "X", "a");
  const auto& xb = Row(rows, "X", "b");
  EXPECT_DOUBLE_EQ(xa.show_rate, 0.5);
  EXPECT_DOUBLE_EQ(xa.show_ratio, 1.0);
  EXPECT_FALSE(xa.show_flag);
  EXPECT_DOUBLE_EQ(xb.show_rate, 0.35);
  EXPECT_DOUBLE_EQ(xb.show_ratio, 0.7);
  EXPECT_TRUE(xb.show_flag);
  EXPECT_EQ(xa.impressions, 40u);
  EXPECT_EQ(xa.accepted, 10u);
  EXPECT_DOUBLE_EQ(xb.accept_rate, 0.3);
  EXPECT_DOUBLE_EQ(xb.accept_ratio, 1.0);
  EXPECT_NEAR(xa.accept_ratio, 0.25 / 0.3, 1e-12);
  EXPECT_FALSE(xa.accept_flag) << "0.833 passes the four-fifths rule";
  // A group too small to judge is shown, never flagged, never the best.
  const auto& xt = Row(rows, "X", "tiny");
  EXPECT_DOUBLE_EQ(xt.show_rate, 1.0);
  EXPECT_LT(xt.show_ratio, 0);
  EXPECT_FALSE(xt.show_flag);
  // Shown everywhere: parity.
  EXPECT_DOUBLE_EQ(Row(rows, "Y", "b").show_ratio, 1.0);
  for (const auto& r : rows) EXPECT_NE(r.offer, "Z") << "never shown by the policy";
  const std::string table = FormatBias("test", rows, options);
  EXPECT_THAT(table, HasSubstr(" 0.700<"));
  EXPECT_THAT(table, HasSubstr("1 of 6 judged ratios under 0.8"));
  // Fewer shows of the offer than the minimum: its show rates are not judged.
  BiasOptions strict;
  strict.min_shown = 1000;
  EXPECT_LT(Row(BiasCheck(Exposures(), strict), "X", "b").show_ratio, 0);
}

v1::Decision Decision(const std::string& id, const std::string& offer, const std::string& message,
                      const std::vector<std::pair<std::string, std::string>>& citations) {
  v1::Decision d;
  d.set_decision_id(id);
  d.set_placement("home_tile");
  auto* o = d.add_offers();
  o->set_offer_id(offer);
  o->set_message(message);
  for (const auto& [passage, excerpt] : citations) {
    auto* c = o->add_citations();
    c->set_passage_id(passage);
    c->set_excerpt(excerpt);
  }
  return d;
}

TEST(MessageAuditTest, CountsCitedFactsForbiddenPhrasesAndRiskWarnings) {
  const auto cat = catalog::DefaultCatalog();
  const std::string risk =
      "Credit is subject to status and affordability, and missing payments could affect your "
      "credit score.";
  const std::vector<v1::Decision> decisions = {
      // Clean: two cited facts and the warning.
      Decision(
          "d1", "OFR_CASHBACK_CARD",
          "Representative 22.9% APR variable [1]. " + risk.substr(0, risk.size() - 1) + " [2].",
          {{"DOC_CC_CASHBACK#rate", "Representative 22.9% APR variable."},
           {"DOC_CC_CASHBACK#risk", risk}}),
      // An uncited fact, a number the citation lacks, a forbidden phrase, no warning.
      Decision("d2", "OFR_CASHBACK_CARD",
               "No annual fee. Representative 19.9% APR variable [1]. You are pre-approved.",
               {{"DOC_CC_CASHBACK#rate", "Representative 22.9% APR variable."}}),
      // Savings: "pre-approved" is a credit phrase only.
      Decision("d3", "OFR_EASY_ACCESS_SAVER", "You are pre-approved to save.", {}),
  };
  const auto a = AuditMessages(decisions, *cat, decide::DecisionOptions{});
  EXPECT_EQ(a.tiles, 3u);
  // "approved" states a condition: the pre-approval sentences count as uncited facts too.
  EXPECT_EQ(a.factual, 6u);
  EXPECT_EQ(a.factual_cited, 3u);
  EXPECT_EQ(a.ungrounded_numbers, 1u);
  EXPECT_EQ(a.forbidden_total(), 1u);
  EXPECT_EQ(a.forbidden.at("pre-approved"), 1u);
  EXPECT_EQ(a.sensitive_tiles, 2u);
  EXPECT_EQ(a.sensitive_with_warning, 1u);
  const std::string text = FormatAudit(a, "log");
  EXPECT_THAT(text, HasSubstr("factual sentences cited       3 / 6 = 50.00%"));
  EXPECT_THAT(text, HasSubstr("forbidden phrases found       1"));
  EXPECT_THAT(text, HasSubstr("d2 OFR_CASHBACK_CARD: uncited fact"));
}

TEST(MessageAuditTest, ReadsTheLogDroppingRepeatsAndNamesABadLine) {
  const auto dir = std::filesystem::temp_directory_path() / ("audit-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "decisions.jsonl").string();
  {
    std::ofstream out(path);
    for (const char* id : {"d1", "d2", "d1"}) {
      std::string line;
      ASSERT_TRUE(google::protobuf::util::MessageToJsonString(
                      Decision(id, "OFR_TRAVEL_CARD", "Hi.", {}), &line)
                      .ok());
      out << line << "\n";
    }
  }
  std::vector<v1::Decision> decisions;
  size_t repeats = 0;
  ASSERT_EQ(ReadDecisions(path, &decisions, &repeats), "");
  EXPECT_EQ(decisions.size(), 2u);
  EXPECT_EQ(repeats, 1u);
  std::ofstream(path, std::ios::app) << "{\"offers\": 3}\n";
  decisions.clear();
  EXPECT_THAT(ReadDecisions(path, &decisions, &repeats),
              HasSubstr(path + ":4: not a valid Decision"));
  EXPECT_THAT(ReadDecisions(path + ".missing", &decisions, &repeats), HasSubstr("cannot read"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace intentstream::eval
