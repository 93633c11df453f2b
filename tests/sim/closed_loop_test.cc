// The generator's closed-loop mode: visits of the processor's arms wait for tiles, the
// world answers with what it is given, the same answers give the same world, and the
// bank policy's logged propensities are right.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "intentstream/v1/events.pb.h"
#include "sim/generator.h"

namespace intentstream::sim {
namespace {

WorldOptions Small(uint64_t seed = 5) {
  WorldOptions o;
  o.seed = seed;
  o.customers = 120;
  o.days = 6;
  return o;
}

ClosedLoopOptions AllProcessor() {
  ClosedLoopOptions loop;
  loop.enabled = true;
  loop.bank_share = 0;
  loop.oracle_share = 0;
  loop.holdout_percent = 0;
  return loop;
}

class Visits : public TruthSink {
 public:
  void OnSession(const SessionTruth&) override {}
  void OnConversion(const ConversionTruth&) override {}
  void OnEpisode(const EpisodeTruth&) override {}
  void OnHomeVisit(const HomeVisitTruth& v) override { visits.push_back(v); }
  void OnArm(std::string_view id, Arm arm) override { arms[std::string(id)] = arm; }
  std::vector<HomeVisitTruth> visits;
  std::map<std::string, Arm> arms;
};

// Runs a closed-loop world to its end, answering every wait with `answer`; returns
// every record's bytes, in order.
std::string RunLoop(const WorldOptions& world, const ClosedLoopOptions& loop,
                    const std::function<void(Generator&, size_t)>& answer, Visits* truth,
                    size_t* waits = nullptr) {
  Generator generator(world, truth, loop);
  Record r;
  std::string all;
  size_t n = 0;
  for (;;) {
    while (generator.Next(&r))
      all += r.key + '|' + std::to_string(r.event_time_ms) + '|' + r.value + '\n';
    if (generator.waiting().empty()) break;
    ++n;
    for (size_t i = 0; i < generator.waiting().size(); ++i) answer(generator, i);
  }
  if (waits) *waits = n;
  return all;
}

void ShowTravelCard(Generator& g, size_t i) {
  g.Answer(i, {{"OFR_TRAVEL_CARD", "TILE_CC_TRAVEL", Intent::kTravelRewards}},
           TileSource::kProcessor);
}

TEST(ClosedLoopTest, WaitingVisitsHaveTheirLoginOutAndGetTheTilesTheyAreGiven) {
  Visits truth;
  Generator generator(Small(), &truth, AllProcessor());
  Record r;
  std::set<std::string> logins_out;
  std::map<std::string, std::vector<std::string>> impressions;  // customer -> offers
  size_t waits = 0;
  for (;;) {
    while (generator.Next(&r)) {
      if (r.topic != Topic::kApp) continue;
      v1::AppEvent e;
      ASSERT_TRUE(e.ParseFromString(r.value));
      if (e.action() == v1::APP_ACTION_LOGIN) logins_out.insert(e.event_id());
      if (e.action() == v1::APP_ACTION_TILE_IMPRESSION) {
        impressions[e.customer_id()].push_back(e.offer_id());
      }
    }
    if (generator.waiting().empty()) break;
    ++waits;
    for (size_t i = 0; i < generator.waiting().size(); ++i) {
      const HomeVisit& v = generator.waiting()[i];
      // The processor can only decide on a LOGIN it has been sent.
      EXPECT_TRUE(logins_out.contains(v.login_event_id)) << v.login_event_id;
      EXPECT_EQ(v.arm, Arm::kTreated);
      EXPECT_TRUE(generator.IsCustomer(v.customer_id));
      ShowTravelCard(generator, i);
    }
  }
  EXPECT_GT(waits, 20u);
  ASSERT_FALSE(truth.visits.empty());
  for (const auto& v : truth.visits) {
    EXPECT_EQ(v.source, TileSource::kProcessor);
    ASSERT_EQ(v.tiles.size(), 1u);
    EXPECT_EQ(v.tiles[0].offer_id, "OFR_TRAVEL_CARD");
  }
  for (const auto& [customer, offers] : impressions) {
    for (const auto& o : offers) EXPECT_EQ(o, "OFR_TRAVEL_CARD") << customer;
  }
  EXPECT_FALSE(generator.IsCustomer("C999999999"));
  EXPECT_FALSE(generator.IsCustomer("P000000001"));
}

TEST(ClosedLoopTest, SameAnswersGiveTheSameWorldAndOtherAnswersAnother) {
  Visits t1, t2, t3;
  const std::string a = RunLoop(Small(), AllProcessor(), ShowTravelCard, &t1);
  const std::string b = RunLoop(Small(), AllProcessor(), ShowTravelCard, &t2);
  const std::string c = RunLoop(
      Small(), AllProcessor(), [](Generator& g, size_t i) { g.Answer(i, {}, TileSource::kMiss); },
      &t3);
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a == c);
  // A miss shows the bank's policy (three tiles), recorded as a miss.
  ASSERT_FALSE(t3.visits.empty());
  for (const auto& v : t3.visits) {
    EXPECT_EQ(v.source, TileSource::kMiss);
    EXPECT_EQ(v.tiles.size(), 3u);
  }
}

TEST(ClosedLoopTest, ArmsFollowTheSharesAndTheProcessorsHoldoutRule) {
  ClosedLoopOptions loop;
  loop.enabled = true;
  loop.holdout_percent = 50;
  WorldOptions world = Small();
  world.customers = 2000;
  world.days = 1;
  Visits truth;
  size_t waits = 0;
  RunLoop(world, loop, ShowTravelCard, &truth, &waits);
  std::map<Arm, size_t> count;
  for (const auto& [id, arm] : truth.arms) ++count[arm];
  ASSERT_EQ(truth.arms.size(), 2000u);
  for (Arm arm : {Arm::kTreated, Arm::kHoldout, Arm::kBank, Arm::kOracle}) {
    EXPECT_GT(count[arm], 400u) << ArmName(arm);
    EXPECT_LT(count[arm], 600u) << ArmName(arm);
  }
  // Only the processor's arms wait; the others are answered by the world itself.
  for (const auto& v : truth.visits) {
    const Arm arm = truth.arms.at(v.customer_id);
    EXPECT_EQ(v.arm, arm);
    const TileSource expected = arm == Arm::kBank     ? TileSource::kBank
                                : arm == Arm::kOracle ? TileSource::kOracle
                                                      : TileSource::kProcessor;
    EXPECT_EQ(v.source, expected);
  }
  // The processor's rule (decide: FNV-1a of "arm|" + id, per 10,000): the same split.
  loop.holdout_percent = 100;
  for (const auto& [id, arm] : truth.arms) {
    if (DecidedByProcessor(arm)) {
      EXPECT_EQ(ArmOf(id, world.seed, loop), Arm::kHoldout);
    }
  }
}

// IPS identity: for a tile the bank's policy can always show (the security check-up:
// no product to hold), the sum of 1/propensity over the visits that showed it estimates
// the number of visits. A first-draw-only propensity would make it about 2.5.
TEST(ClosedLoopTest, BankPropensitiesAreTheInclusionProbabilities) {
  Visits truth;
  WorldOptions world = Small();
  world.customers = 1500;
  world.days = 10;
  Generator generator(world, &truth);  // open loop: the logged world
  Record r;
  while (generator.Next(&r)) {
  }
  ASSERT_GT(truth.visits.size(), 6000u);
  double weight = 0;
  for (const auto& v : truth.visits) {
    EXPECT_EQ(v.source, TileSource::kBank);
    for (const auto& t : v.tiles) {
      EXPECT_GT(t.bank_propensity, 0);
      EXPECT_LE(t.bank_propensity, 1 + 1e-9);
      if (t.intent == Intent::kFraudConcern) weight += 1 / t.bank_propensity;
    }
  }
  const double n = static_cast<double>(truth.visits.size());
  EXPECT_NEAR(weight / n, 1.0, 0.08);  // about 3 standard errors
}

TEST(ClosedLoopTest, MaxRecordsEndsTheLoop) {
  WorldOptions world = Small();
  world.max_records = 3000;
  Generator generator(world, nullptr, AllProcessor());
  Record r;
  size_t records = 0, waits = 0;
  for (int guard = 0; guard < 100000; ++guard) {
    while (generator.Next(&r)) ++records;
    if (generator.waiting().empty()) break;  // the limit ends the world, waits included
    ++waits;
    for (size_t i = 0; i < generator.waiting().size(); ++i) ShowTravelCard(generator, i);
  }
  EXPECT_TRUE(generator.waiting().empty());
  EXPECT_EQ(records, 3000u);
  EXPECT_GT(waits, 0u);
}

TEST(ClosedLoopTest, InvalidOptionsNameTheFlag) {
  ClosedLoopOptions loop = AllProcessor();
  loop.bank_share = 0.8;
  loop.oracle_share = 0.5;
  EXPECT_NE(loop.Validate().find("--bank-share"), std::string::npos);
  loop = AllProcessor();
  loop.step_ms = 1000;
  EXPECT_NE(loop.Validate().find("--step-minutes"), std::string::npos);
  EXPECT_THROW(Generator(Small(), nullptr, loop), std::invalid_argument);
}

}  // namespace
}  // namespace intentstream::sim
