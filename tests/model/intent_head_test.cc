// The intent head: trained on labelled embeddings it learns them, calibrates and sets
// thresholds; saved and loaded it scores the same; the serving path (op::IntentModel)
// is calibration over the logits; a broken artifact fails naming the file and key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "model/intent_head.h"
#include "model/intent_head_trainer.h"
#include "model/tokenizer.h"
#include "operator/models.h"

namespace intentstream::model {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int kDim = 8;
const std::vector<std::string> kIntents = {"home_buying", "travel_rewards", "savings",
                                           "everyday_servicing"};

// Intent j (of the first three) is present when embedding coordinate j is above 0.3;
// none present: the default label. Coordinates beyond are noise.
std::vector<HeadExample> Examples(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<HeadExample> out(n);
  for (auto& e : out) {
    e.embedding.resize(kDim);
    for (auto& x : e.embedding) x = normal(rng);
    e.targets.assign(kIntents.size(), 0);
    bool any = false;
    for (size_t j = 0; j < 3; ++j) {
      if (e.embedding[j] > 0.3f) e.targets[j] = 1, any = true;
    }
    if (!any) e.targets[3] = 1;
  }
  return out;
}

IntentHeadConfig Config() {
  IntentHeadConfig c;
  c.embedding_dim = kDim;
  c.hidden = 16;
  c.intents = kIntents;
  c.default_intent = "everyday_servicing";
  c.teacher = "test-rules";
  c.encoder_version = "test-encoder";
  return c;
}

class IntentHeadTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto train = Examples(3000, 1);
    const auto calibration = Examples(1000, 2);
    HeadTrainOptions options;
    options.hidden = 16;
    options.epochs = 30;
    options.batch_size = 128;
    options.learning_rate = 1e-2;
    head_ = TrainIntentHead(Config(), train, calibration, options, &report_);
  }
  static void TearDownTestSuite() { head_.reset(); }

  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("intentstream_intent_head_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::vector<float> Flatten(const std::vector<HeadExample>& examples) {
    std::vector<float> x;
    for (const auto& e : examples) x.insert(x.end(), e.embedding.begin(), e.embedding.end());
    return x;
  }

  static inline std::shared_ptr<IntentHead> head_;
  static inline HeadTrainReport report_;
  fs::path dir_;
};

TEST_F(IntentHeadTest, LearnsTheTeachersLabels) {
  const auto test = Examples(1000, 3);
  const auto x = Flatten(test);
  std::vector<float> p(test.size() * kIntents.size());
  head_->Score(x, test.size(), p);
  size_t exact = 0;
  for (size_t i = 0; i < test.size(); ++i) {
    const std::span<const float> row(p.data() + i * kIntents.size(), kIntents.size());
    for (float v : row) {
      ASSERT_GE(v, 0.0f);
      ASSERT_LE(v, 1.0f);
    }
    std::vector<uint8_t> predicted(kIntents.size(), 0);
    for (int j : head_->Labels(row)) predicted[static_cast<size_t>(j)] = 1;
    exact += predicted == test[i].targets;
  }
  // The rule is nearly separable: a trained head gets most label sets exactly right
  // (a random one about 1 in 16).
  EXPECT_GT(static_cast<double>(exact) / static_cast<double>(test.size()), 0.85);
  ASSERT_FALSE(report_.epoch_loss.empty());
  EXPECT_LT(report_.epoch_loss.back(), report_.epoch_loss.front());
}

TEST_F(IntentHeadTest, CalibrationKeepsExpectedCalibrationErrorSmall) {
  const auto test = Examples(2000, 4);
  const auto ece = ExpectedCalibrationError(*head_, test, /*calibrated=*/true);
  ASSERT_EQ(ece.size(), kIntents.size());
  for (size_t j = 0; j < ece.size(); ++j) EXPECT_LT(ece[j], 0.05) << kIntents[j];
  ASSERT_EQ(report_.ece_calibrated.size(), kIntents.size());
  const auto& c = head_->config();
  ASSERT_EQ(c.threshold.size(), kIntents.size());
  for (float t : c.threshold) {
    EXPECT_GT(t, 0.0f);
    EXPECT_LT(t, 1.0f);
  }
}

TEST_F(IntentHeadTest, ServedScoresAreCalibratedLogits) {
  const auto test = Examples(50, 5);
  const auto x = Flatten(test);
  const size_t k = kIntents.size();
  std::vector<float> logits(test.size() * k), p(test.size() * k);
  head_->Logits(x, test.size(), logits);
  const op::IntentModel& served = *head_;
  ASSERT_EQ(served.embedding_dim(), static_cast<size_t>(kDim));
  ASSERT_EQ(served.intents(), kIntents);
  served.Score(x, test.size(), p);
  const auto& c = head_->config();
  for (size_t i = 0; i < test.size(); ++i) {
    for (size_t j = 0; j < k; ++j) {
      const float z = c.calibration_a[j] * logits[i * k + j] + c.calibration_b[j];
      EXPECT_NEAR(p[i * k + j], 1.0f / (1.0f + std::exp(-z)), 1e-5f);
    }
  }
}

TEST_F(IntentHeadTest, SaveAndLoadScoreTheSame) {
  head_->Save(dir_.string());
  const auto loaded = IntentHead::Load(dir_.string());
  EXPECT_EQ(loaded->version(), head_->version());
  EXPECT_THAT(loaded->version(), HasSubstr("intent-head-"));
  EXPECT_EQ(loaded->intents(), kIntents);
  EXPECT_EQ(loaded->config().encoder_version, "test-encoder");
  EXPECT_EQ(loaded->config().default_intent, "everyday_servicing");
  EXPECT_EQ(loaded->parameter_count(), head_->parameter_count());
  const auto test = Examples(200, 6);
  const auto x = Flatten(test);
  std::vector<float> a(test.size() * kIntents.size()), b(a.size());
  head_->Score(x, test.size(), a);
  loaded->Score(x, test.size(), b);
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-6f) << i;
}

TEST_F(IntentHeadTest, ArtifactThatDisagreesNamesFileAndKey) {
  head_->Save(dir_.string());
  const std::string config = (dir_ / "config.txt").string();
  std::stringstream ss;
  ss << std::ifstream(config).rdbuf();
  // One intent fewer than the weights and calibration have.
  const std::string broken =
      std::regex_replace(ss.str(), std::regex(",everyday_servicing"), std::string());
  ASSERT_NE(broken, ss.str());
  std::ofstream(config, std::ios::trunc) << broken;
  try {
    IntentHead::Load(dir_.string());
    FAIL() << "expected a ModelError";
  } catch (const ModelError& e) {
    EXPECT_THAT(e.what(), HasSubstr("config.txt"));
    EXPECT_THAT(e.what(), HasSubstr("calibration_a"));
  }
  fs::remove(dir_ / "weights.pt");
  std::ofstream(config, std::ios::trunc) << ss.str();
  EXPECT_THROW(IntentHead::Load(dir_.string()), ModelError);
}

TEST(IntentHeadTrainer, RejectsExamplesThatDoNotMatchTheConfig) {
  auto bad = Examples(10, 7);
  bad[3].embedding.resize(kDim - 1);
  EXPECT_THROW(TrainIntentHead(Config(), bad, bad, HeadTrainOptions{}, nullptr),
               std::invalid_argument);
}

}  // namespace
}  // namespace intentstream::model
