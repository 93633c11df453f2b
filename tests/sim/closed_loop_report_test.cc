// The closed-loop report on hand-made truth files: figures per arm, lifts, the share
// of the bank-to-oracle gap, the off-policy estimators, and errors naming file and line.
#include "eval/closed_loop_report.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/temp_dir.h"

namespace intentstream::eval {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

constexpr char kVisitHeader[] =
    "customer_id,session_id,login_event_id,time_ms,arm,source,rank,offer_id,intent,"
    "bank_propensity,clicked,dismissed,applied,converted\n";

// Three tiles of one visit; `clicks` of them clicked (from the first).
std::string Visit(const std::string& customer, const std::string& arm, int clicks,
                  const std::string& source = "processor") {
  std::string out;
  for (int rank = 1; rank <= 3; ++rank) {
    out += customer + ",s-" + customer + ",login-" + customer + ",1000," + arm + "," + source +
           "," + std::to_string(rank) + ",OFR_TRAVEL_CARD,travel_rewards,0.5," +
           (rank <= clicks ? "1" : "0") + ",0,0,0\n";
  }
  return out;
}

// Two customers per arm: treated CTR 2/6, holdout 0/6, bank 1/6, oracle 3/6;
// conversions per 1,000 customers: treated 500, holdout 0, bank 0, oracle 1000.
void MakeWorld(const fs::path& dir) {
  Write(dir / "world.properties", "seed=1\ncustomers=8\ndays=2\nstart_time_ms=0\n");
  Write(dir / "truth" / "arms.csv",
        "customer_id,arm\nT1,treated\nT2,treated\nH1,holdout\nH2,holdout\nB1,bank\nB2,bank\n"
        "O1,oracle\nO2,oracle\n");
  Write(dir / "truth" / "home_visits.csv",
        std::string(kVisitHeader) + Visit("T1", "treated", 2) + Visit("T2", "treated", 0) +
            Visit("H1", "holdout", 0) + Visit("H2", "holdout", 0) + Visit("B1", "bank", 1, "bank") +
            Visit("B2", "bank", 0, "bank") + Visit("O1", "oracle", 2, "oracle") +
            Visit("O2", "oracle", 1, "oracle"));
  Write(dir / "truth" / "conversions.csv",
        "customer_id,event_id,time_ms,product_code,intent\nT1,e1,1000,CC_TRAVEL,travel_rewards\n"
        "O1,e2,90000000,CC_TRAVEL,travel_rewards\nO2,e3,1000,CC_TRAVEL,travel_rewards\n");
  Write(dir / "truth" / "episodes.csv",
        "person_id,customer_id,intent,start_ms,end_ms,converted\n"
        "T1,T1,travel_rewards,0,172800000,1\nB1,B1,home_buying,0,86400000,0\n");
}

TEST(ClosedLoopReportTest, FiguresPerArmLiftsAndTheGap) {
  testing::TempDir dir;
  MakeWorld(dir.path() / "world");
  ClosedLoopReportOptions options;
  options.data_dir = dir.Sub("world");
  options.out_dir = dir.Sub("report");
  options.bootstrap_samples = 200;
  ClosedLoopReport report;
  ASSERT_EQ(BuildClosedLoopReport(options, &report), "");
  const auto& t = report.arms[static_cast<size_t>(sim::Arm::kTreated)];
  const auto& b = report.arms[static_cast<size_t>(sim::Arm::kBank)];
  const auto& o = report.arms[static_cast<size_t>(sim::Arm::kOracle)];
  EXPECT_EQ(t.customers, 2u);
  EXPECT_EQ(t.visits, 2u);
  EXPECT_EQ(t.impressions, 6u);
  EXPECT_EQ(t.clicks, 2u);
  EXPECT_NEAR(t.ctr.value, 2.0 / 6, 1e-12);
  EXPECT_LE(t.ctr.low, t.ctr.value);
  EXPECT_GE(t.ctr.high, t.ctr.value);
  EXPECT_LT(t.ctr.low, t.ctr.high);  // resampling two unequal customers varies the CTR
  EXPECT_NEAR(b.ctr.value, 1.0 / 6, 1e-12);
  EXPECT_NEAR(o.ctr.value, 0.5, 1e-12);
  EXPECT_NEAR(t.conversions_per_1000.value, 500, 1e-9);
  EXPECT_NEAR(o.conversions_per_1000.value, 1000, 1e-9);
  EXPECT_NEAR(b.conversions_per_1000.value, 0, 1e-9);
  EXPECT_NEAR(t.lead_time_days, 2.0, 1e-9);
  EXPECT_EQ(t.lead_time_n, 1u);
  EXPECT_NEAR(report.ctr_lift[static_cast<size_t>(sim::Arm::kBank)].value, 1.0, 1e-9);
  EXPECT_NEAR(report.gap_closed.value, 0.5, 1e-9);
  EXPECT_NEAR(report.ctr_gap_closed.value, 0.5, 1e-9);  // (1/3 - 1/6) / (1/2 - 1/6)
  EXPECT_NE(report.markdown.find("| treated | 2 | 2 | 6 | 0.3333"), std::string::npos)
      << report.markdown;
  EXPECT_TRUE(fs::exists(dir.path() / "report" / "closed_loop.csv"));
  EXPECT_TRUE(fs::exists(dir.path() / "report" / "cumulative_conversions.dat"));
  EXPECT_FALSE(report.off_policy.has_value());

  // Seeded: the same seed gives the same intervals.
  ClosedLoopReport again;
  options.out_dir.clear();
  ASSERT_EQ(BuildClosedLoopReport(options, &again), "");
  EXPECT_EQ(again.arms[0].ctr.low, t.ctr.low);
  EXPECT_EQ(again.arms[0].ctr.high, t.ctr.high);
}

TEST(ClosedLoopReportTest, IpsAndSnipsFromTheLoggedWorld) {
  testing::TempDir dir;
  MakeWorld(dir.path() / "world");
  // Logged visit L1 shows A (p 0.5, clicked) and B (p 0.5); L2 shows A (p 0.25) and C
  // (p 1, clicked). The processor would show {A, D} at L1 and {A, C} at L2.
  const std::string a = "OFR_TRAVEL_CARD", b = "OFR_FIRST_HOME_MORTGAGE",
                    c = "OFR_REMORTGAGE_SWITCH";
  auto row = [](const std::string& login, int rank, const std::string& offer, const char* p,
                int click) {
    return "C1,s," + login + ",0,bank,bank," + std::to_string(rank) + "," + offer +
           ",travel_rewards," + p + "," + std::to_string(click) + ",0,0,0\n";
  };
  Write(dir.path() / "logged" / "truth" / "home_visits.csv",
        std::string(kVisitHeader) + row("L1", 1, a, "0.5", 1) + row("L1", 2, b, "0.5", 0) +
            row("L2", 1, a, "0.25", 0) + row("L2", 2, c, "1", 1));
  auto decision = [](const std::string& login, const std::string& arm, const std::string& x,
                     const std::string& y) {
    return R"({"triggerEventId":")" + login + R"(","placement":"home_tile","arm":")" + arm +
           R"(","offers":[{"offerId":")" + x + R"("},{"offerId":")" + y + "\"}]}\n";
  };
  Write(dir.path() / "decisions.jsonl", decision("L1", "treated", a, "OFR_NO_SUCH_OFFER") +
                                            decision("L2", "treated", a, c) +
                                            decision("L3", "holdout", a, b));
  ClosedLoopReportOptions options;
  options.data_dir = dir.Sub("world");
  options.logged_dir = dir.Sub("logged");
  options.logged_decisions = dir.Sub("decisions.jsonl");
  options.bootstrap_samples = 100;
  ClosedLoopReport report;
  ASSERT_EQ(BuildClosedLoopReport(options, &report), "");
  ASSERT_TRUE(report.off_policy.has_value());
  const auto& ope = *report.off_policy;
  EXPECT_EQ(ope.visits, 2u);
  EXPECT_EQ(ope.target_tiles, 4u);
  EXPECT_EQ(ope.supported_tiles, 3u);
  // IPS: (2 + 1) / 4 target tiles; SNIPS: 3 / (2 + 4 + 1).
  EXPECT_NEAR(ope.ips_ctr.value, 0.75, 1e-9);
  EXPECT_NEAR(ope.snips_ctr.value, 3.0 / 7, 1e-9);
  // By intent (every logged row says travel_rewards; D is unknown): L1's slate serves
  // {travel_rewards}, both logged tiles count: w 2 + 2, weighted clicks 2; L2's serves
  // {travel_rewards, refinancing}: w 4 + 1, weighted clicks 1. IPS: 3 / (1 + 2) slate
  // intents; SNIPS: 3 / 9.
  EXPECT_NEAR(ope.intent_ips_ctr.value, 1.0, 1e-9);
  EXPECT_NEAR(ope.intent_snips_ctr.value, 3.0 / 9, 1e-9);
  EXPECT_NE(report.markdown.find("SNIPS"), std::string::npos);
}

TEST(ClosedLoopReportTest, BadTruthNamesFileAndLine) {
  testing::TempDir dir;
  MakeWorld(dir.path() / "world");
  Write(dir.path() / "world" / "truth" / "arms.csv", "customer_id,arm\nT1,treated\nT2,sideways\n");
  ClosedLoopReportOptions options;
  options.data_dir = dir.Sub("world");
  ClosedLoopReport report;
  const std::string error = BuildClosedLoopReport(options, &report);
  EXPECT_NE(error.find("arms.csv:3"), std::string::npos) << error;
  EXPECT_NE(error.find("sideways"), std::string::npos) << error;

  options.data_dir = dir.Sub("nowhere");
  EXPECT_NE(BuildClosedLoopReport(options, &report).find("world.properties"), std::string::npos);
  options.data_dir = dir.Sub("world");
  options.logged_dir = dir.Sub("world");
  EXPECT_NE(BuildClosedLoopReport(options, &report).find("--logged-decisions"), std::string::npos);
}

}  // namespace
}  // namespace intentstream::eval
