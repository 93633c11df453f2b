#include "sim/generator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/hash.h"
#include "intentstream/v1/events.pb.h"
#include "sim/world_writer.h"

namespace intentstream::sim {
namespace {

WorldOptions Small(uint64_t seed) {
  WorldOptions o;
  o.seed = seed;
  o.customers = 150;
  o.days = 10;
  return o;
}

// Every byte of every record, in order.
std::string Digest(const WorldOptions& options, size_t* count = nullptr) {
  Generator generator(options);
  Record r;
  std::string all;
  size_t n = 0;
  while (generator.Next(&r)) {
    all += std::to_string(static_cast<int>(r.topic)) + '|' + r.key + '|' +
           std::to_string(r.event_time_ms) + '|' + r.value + '\n';
    ++n;
  }
  if (count) *count = n;
  return all;
}

TEST(GeneratorTest, SameSeedGivesByteIdenticalRecords) {
  size_t n = 0;
  const std::string a = Digest(Small(42), &n);
  const std::string b = Digest(Small(42));
  EXPECT_GT(n, 5000u);
  EXPECT_EQ(Fnv1a64(a), Fnv1a64(b));
  EXPECT_TRUE(a == b);
}

TEST(GeneratorTest, DifferentSeedGivesDifferentRecords) {
  const std::string a = Digest(Small(42));
  const std::string b = Digest(Small(43));
  EXPECT_NE(Fnv1a64(a), Fnv1a64(b));
}

TEST(GeneratorTest, RecordsAreOrderedKeyedAndUniquelyIdentified) {
  Generator generator(Small(7));
  Record r;
  int64_t last = 0;
  std::set<std::string> ids;
  std::array<size_t, kTopicCount> per_topic{};
  size_t logins = 0;
  while (generator.Next(&r)) {
    ASSERT_GE(r.event_time_ms, last);
    last = r.event_time_ms;
    ++per_topic[static_cast<size_t>(r.topic)];
    switch (r.topic) {
      case Topic::kWeb: {
        v1::WebEvent e;
        ASSERT_TRUE(e.ParseFromString(r.value));
        EXPECT_EQ(r.key, e.anonymous_id());
        EXPECT_NE(e.event_type(), v1::WEB_EVENT_TYPE_UNSPECIFIED);
        EXPECT_TRUE(ids.insert(e.event_id()).second) << e.event_id();
        break;
      }
      case Topic::kApp: {
        v1::AppEvent e;
        ASSERT_TRUE(e.ParseFromString(r.value));
        EXPECT_EQ(r.key, e.customer_id());
        EXPECT_NE(e.action(), v1::APP_ACTION_UNSPECIFIED);
        logins += e.action() == v1::APP_ACTION_LOGIN;
        EXPECT_TRUE(ids.insert(e.event_id()).second) << e.event_id();
        break;
      }
      case Topic::kLink: {
        v1::IdentityLink e;
        ASSERT_TRUE(e.ParseFromString(r.value));
        EXPECT_EQ(r.key, e.anonymous_id());
        EXPECT_FALSE(e.customer_id().empty());
        EXPECT_TRUE(ids.insert(e.event_id()).second) << e.event_id();
        break;
      }
      case Topic::kProfile: {
        v1::CustomerProfile p;
        ASSERT_TRUE(p.ParseFromString(r.value));
        EXPECT_EQ(r.key, p.customer_id());
        EXPECT_GE(p.credit_grade(), 1u);
        EXPECT_LE(p.credit_grade(), 10u);
        break;
      }
    }
  }
  for (size_t t = 0; t < kTopicCount; ++t) EXPECT_GT(per_topic[t], 0u) << t;
  EXPECT_GE(per_topic[static_cast<size_t>(Topic::kProfile)], 150u);
  EXPECT_GT(logins, 100u);
  // Most in-app activity is servicing: tile impressions and balance checks dominate
  // applications by far.
  const auto& s = generator.stats();
  EXPECT_GT(s.app_by_type[v1::APP_ACTION_BALANCE_CHECK],
            10 * s.app_by_type[v1::APP_ACTION_APPLICATION_START]);
}

TEST(GeneratorTest, MaxRecordsStopsEarly) {
  WorldOptions o = Small(3);
  o.max_records = 500;
  size_t n = 0;
  Digest(o, &n);
  EXPECT_EQ(n, 500u);
}

class RecordingTruth : public TruthSink {
 public:
  void OnSession(const SessionTruth& s) override {
    if (!s.web) app_logins.insert(s.first_event_id);
    ++sessions;
  }
  void OnConversion(const ConversionTruth&) override { ++conversions; }
  void OnEpisode(const EpisodeTruth&) override { ++episodes; }
  std::set<std::string> app_logins;
  size_t sessions = 0, conversions = 0, episodes = 0;
};

TEST(GeneratorTest, TruthCoversEveryAppSession) {
  RecordingTruth truth;
  WorldOptions o = Small(11);
  o.customers = 400;
  o.days = 20;
  Generator generator(o, &truth);
  Record r;
  size_t logins = 0;
  while (generator.Next(&r)) {
    if (r.topic != Topic::kApp || r.event_type != v1::APP_ACTION_LOGIN) continue;
    v1::AppEvent e;
    ASSERT_TRUE(e.ParseFromString(r.value));
    EXPECT_TRUE(truth.app_logins.contains(e.event_id()));
    ++logins;
  }
  EXPECT_EQ(logins, truth.app_logins.size());
  EXPECT_GT(truth.conversions, 0u);
  EXPECT_GT(truth.episodes, 0u);
}

TEST(GeneratorTest, InvalidOptionsNameTheFlag) {
  WorldOptions o;
  o.customers = -5;
  EXPECT_EQ(o.Validate(), "--customers must be >= 1 (got -5)");
  EXPECT_THROW({ Generator g(o); }, std::invalid_argument);
  o = WorldOptions();
  o.days = 0;
  EXPECT_EQ(o.Validate(), "--days must be in [1, 3650] (got 0)");
  o = WorldOptions();
  o.prospect_ratio = -1;
  EXPECT_EQ(o.Validate(), "--prospect-ratio must be in [0, 100] (got -1)");
  o = WorldOptions();
  o.intents = {"home_buying", "space_travel"};
  EXPECT_EQ(
      o.Validate().rfind("--intents: unknown intent \"space_travel\" (known: home_buying,", 0), 0u)
      << o.Validate();
  o = WorldOptions();
  o.max_records = -1;
  EXPECT_EQ(o.Validate(), "--max-events must be >= 0 (got -1)");
}

TEST(GeneratorTest, RestrictedIntentsOnlyStartThoseEpisodes) {
  WorldOptions o = Small(5);
  o.intents = {"travel_rewards"};
  Generator generator(o);
  Record r;
  while (generator.Next(&r)) {
  }
  const auto& s = generator.stats();
  for (size_t i = 0; i < kIntentCount; ++i) {
    if (static_cast<Intent>(i) == Intent::kTravelRewards) {
      EXPECT_GT(s.episodes[i], 0u);
    } else {
      EXPECT_EQ(s.episodes[i], 0u) << IntentName(static_cast<Intent>(i));
    }
  }
}

TEST(WorldWriterTest, UnwritableOutputFailsNamingTheFlag) {
  const std::string file =
      testing::TempDir() + "/journeygen-not-a-dir-" + std::to_string(::getpid());
  { std::ofstream(file) << "x"; }
  WorldOptions world = Small(1);
  SplitOptions split;
  split.out_dir = file + "/world";  // a path below a regular file
  ASSERT_EQ(split.Resolve(world), "");
  std::string error;
  EXPECT_EQ(WorldWriter::Open(world, split, &error), nullptr);
  EXPECT_EQ(error.rfind("--out: cannot write " + file + "/world/train", 0), 0u) << error;
}

TEST(WorldWriterTest, SplitBoundariesAreValidated) {
  WorldOptions world = Small(1);
  SplitOptions split;
  split.out_dir = "x";
  split.validation_start_day = 8;
  split.test_start_day = 4;
  EXPECT_EQ(split.Resolve(world),
            "--test-start-day must be in [--validation-start-day, --days] (got 4)");
  split.validation_start_day = 11;
  split.test_start_day = 11;
  EXPECT_EQ(split.Resolve(world), "--validation-start-day must be in [0, --days] (got 11)");
  SplitOptions defaults;
  defaults.out_dir = "x";
  ASSERT_EQ(defaults.Resolve(world), "");
  EXPECT_EQ(defaults.validation_start_day, 5);
  EXPECT_EQ(defaults.test_start_day, 7);
}

TEST(WorldWriterTest, WritesSplitsAndTruth) {
  namespace fs = std::filesystem;
  const std::string dir = testing::TempDir() + "/journeygen-world-" + std::to_string(::getpid());
  fs::remove_all(dir);
  WorldOptions world = Small(9);
  SplitOptions split;
  split.out_dir = dir;
  ASSERT_EQ(split.Resolve(world), "");
  std::string error;
  auto writer = WorldWriter::Open(world, split, &error);
  ASSERT_NE(writer, nullptr) << error;
  Generator generator(world, writer.get());
  Record r;
  while (generator.Next(&r)) ASSERT_TRUE(writer->Write(r, &error)) << error;
  ASSERT_TRUE(writer->Close(&error)) << error;
  for (const char* s : {"train", "validation", "test"}) {
    for (const char* f : {"web-events.jsonl", "app-events.jsonl", "identity-links.jsonl",
                          "customer-profiles.jsonl", "examples.csv"}) {
      EXPECT_GT(fs::file_size(fs::path(dir) / s / f), 0u) << s << "/" << f;
    }
  }
  EXPECT_GT(fs::file_size(fs::path(dir) / "truth" / "sessions.csv"), 0u);
  std::ifstream in(fs::path(dir) / "test" / "web-events.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_NE(line.find("\"anonymous_id\":\"a-"), std::string::npos) << line;
  EXPECT_NE(line.find("\"event_time\":\"2026-01-"), std::string::npos) << line;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace intentstream::sim

namespace intentstream::sim {
namespace {

TEST(WorldStartTest, NowMeansTheWorldEndsAtTheLastMidnight) {
  constexpr int64_t kDayMs = 86'400'000;
  const int64_t now = 20'000 * kDayMs + 13 * 3'600'000;  // 13:00 UTC
  const int64_t start = StartEndingAtLastMidnight(now, 14);
  EXPECT_EQ(start + 14 * kDayMs, 20'000 * kDayMs) << "ends at the last midnight";
  EXPECT_LE(start + 14 * kDayMs, now) << "no event in the future";
  EXPECT_EQ(StartEndingAtLastMidnight(20'000 * kDayMs, 1), 19'999 * kDayMs);
}

}  // namespace
}  // namespace intentstream::sim
