// The fairness monitor's window and skews.
#include "decide/fairness.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace intentstream::decide {
namespace {

constexpr int64_t kHourMs = 3'600'000;

FairnessOptions Options() {
  FairnessOptions o;
  o.window_ms = 24 * kHourMs;
  o.buckets = 24;
  o.groups = {"a", "b"};
  o.min_tiles = 10;
  return o;
}

double Skew(const FairnessMonitor& m, size_t offer, size_t group) {
  std::vector<double> s;
  m.Skews(&s);
  return s[offer * m.groups().size() + group];
}

TEST(FairnessMonitorTest, GroupsComeOnlyFromTheMonitoringAttribute) {
  FairnessMonitor m(Options(), 2);
  EXPECT_THAT(m.groups(), ::testing::ElementsAre("a", "b", "other"));
  v1::CustomerProfile p;
  EXPECT_EQ(m.GroupOf(nullptr), 2u);
  EXPECT_EQ(m.GroupOf(&p), 2u);
  p.mutable_monitoring()->set_gender("b");
  EXPECT_EQ(m.GroupOf(&p), 1u);
  p.mutable_monitoring()->set_gender("c");
  EXPECT_EQ(m.GroupOf(&p), 2u);
}

TEST(FairnessMonitorTest, SkewIsTheGroupShareOverTheOverallShareMinusOne) {
  FairnessMonitor m(Options(), 2);
  // Group a: offer 0 x30, offer 1 x10. Group b: offer 0 x10, offer 1 x30.
  for (int i = 0; i < 30; ++i) {
    m.Shown(0, 0, i);
    m.Shown(1, 1, i);
  }
  for (int i = 0; i < 10; ++i) {
    m.Shown(0, 1, i);
    m.Shown(1, 0, i);
  }
  // Overall offer 0 share = 40/80 = 0.5; group a's = 30/40 = 0.75 -> +0.5.
  EXPECT_DOUBLE_EQ(Skew(m, 0, 0), 0.5);
  EXPECT_DOUBLE_EQ(Skew(m, 0, 1), -0.5);
  EXPECT_DOUBLE_EQ(Skew(m, 1, 0), -0.5);
  EXPECT_TRUE(std::isnan(Skew(m, 0, 2))) << "no tiles for 'other'";
  EXPECT_THAT(m.GroupTiles(), ::testing::ElementsAre(40u, 40u, 0u));
}

TEST(FairnessMonitorTest, TooFewTilesGiveNoSkew) {
  FairnessMonitor m(Options(), 2);
  for (int i = 0; i < 9; ++i) m.Shown(0, 0, i);
  for (int i = 0; i < 20; ++i) m.Shown(1, 1, i);
  EXPECT_TRUE(std::isnan(Skew(m, 0, 0))) << "offer 0 has 9 tiles, group a 9";
  EXPECT_FALSE(std::isnan(Skew(m, 1, 1)));
  EXPECT_TRUE(std::isnan(Skew(m, 1, 0))) << "group a has 9 tiles, below the minimum";
}

TEST(FairnessMonitorTest, TheWindowForgetsOldTilesAndIgnoresLateOnes) {
  FairnessMonitor m(Options(), 1);
  for (int i = 0; i < 20; ++i) m.Shown(0, 0, kHourMs / 2);
  EXPECT_EQ(m.GroupTiles()[0], 20u);
  m.Shown(1, 0, 10 * kHourMs);
  EXPECT_EQ(m.GroupTiles()[0], 20u) << "within 24 h";
  m.Shown(1, 0, 25 * kHourMs);
  EXPECT_EQ(m.GroupTiles()[0], 0u) << "the first hour left the window";
  EXPECT_EQ(m.GroupTiles()[1], 2u);
  m.Shown(0, 0, kHourMs);  // older than the window now: not counted
  EXPECT_EQ(m.GroupTiles()[0], 0u);
  m.Shown(0, 0, 5 * kHourMs);  // late but within it: counted
  EXPECT_EQ(m.GroupTiles()[0], 1u);
  m.Shown(0, 0, 1000 * kHourMs);  // a jump far ahead empties everything
  EXPECT_THAT(m.GroupTiles(), ::testing::ElementsAre(1u, 0u, 0u));
  m.Reset(3);
  EXPECT_EQ(m.offers(), 3u);
  EXPECT_THAT(m.GroupTiles(), ::testing::ElementsAre(0u, 0u, 0u));
}

}  // namespace
}  // namespace intentstream::decide
