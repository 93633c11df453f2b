// The offer propensity model: training on a small seeded set, calibration, the artifact
// round trip, serving through the propensity seam, cold-start offers.
#include "model/offer_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "model/binary_metrics.h"
#include "model/offer_trainer.h"
#include "model/tokenizer.h"
#include "offer_test_util.h"
#include "support/temp_dir.h"

namespace intentstream::model {
namespace {

using testing::FastTraining;
using ::testing::HasSubstr;
using testing::MakeWorld;

// Trained once: the tests below read it.
class OfferModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SetTrainingThreads(1);
    world_ = new testing::SyntheticWorld(MakeWorld());
    report_ = new OfferTrainReport();
    model_ = new std::shared_ptr<OfferModel>(
        TrainOfferModel(world_->spec, world_->train, world_->validation, FastTraining(), report_));
  }
  static void TearDownTestSuite() {
    delete model_;
    delete report_;
    delete world_;
  }
  static const OfferModel& model() { return **model_; }

  // Held-out probabilities and labels of the observed (shown) entries.
  static void HeldOut(const OfferModel& m, std::vector<double>* p, std::vector<int>* y) {
    const auto probs = m.Predict(world_->test.inputs, *m.PrepareTrained());
    for (size_t i = 0; i < probs.size(); ++i) {
      if (world_->test.mask[i] == 0) continue;
      p->push_back(probs[i]);
      y->push_back(world_->test.target[i] > 0.5f ? 1 : 0);
    }
  }

  static testing::SyntheticWorld* world_;
  static OfferTrainReport* report_;
  static std::shared_ptr<OfferModel>* model_;
};
testing::SyntheticWorld* OfferModelTest::world_ = nullptr;
OfferTrainReport* OfferModelTest::report_ = nullptr;
std::shared_ptr<OfferModel>* OfferModelTest::model_ = nullptr;

TEST_F(OfferModelTest, TrainingLossFallsAndTheHeldOutSplitIsPredicted) {
  ASSERT_GE(report_->train_loss.size(), 3u);
  EXPECT_LT(report_->train_loss.back(), report_->train_loss.front() * 0.9)
      << report_->train_loss.front() << " -> " << report_->train_loss.back();
  EXPECT_LT(report_->validation_loss[static_cast<size_t>(report_->best_epoch - 1)],
            report_->validation_loss.front());
  // The ensemble weights are a softmax: they sum to one.
  double mix = 0;
  for (double m : report_->mix) mix += m;
  EXPECT_NEAR(mix, 1.0, 1e-6);
  EXPECT_EQ(report_->mix.size(), 3u);
  EXPECT_GT(report_->mean_gate, 0.0);
  EXPECT_LT(report_->mean_gate, 1.0);

  std::vector<double> p;
  std::vector<int> y;
  HeldOut(model(), &p, &y);
  ASSERT_GT(p.size(), 1000u);
  // The truth is a logistic function of the inputs: a working model ranks well...
  EXPECT_GT(RocAuc(p, y), 0.78);
  // ...and, Platt-calibrated on validation, its probabilities mean what they say.
  EXPECT_LT(ExpectedCalibrationError(Reliability(p, y)), 0.05);
  const auto loss = MaskedLogLoss(model(), world_->test);
  ASSERT_EQ(loss.size(), 1u);
  EXPECT_NEAR(loss[0], LogLoss(p, y), 1e-5);

  // An untrained model of the same spec is far worse on the same rows.
  auto fresh = OfferModel::Create(world_->spec);
  std::vector<double> p0;
  std::vector<int> y0;
  HeldOut(*fresh, &p0, &y0);
  EXPECT_LT(RocAuc(p0, y0), RocAuc(p, y) - 0.1);
}

TEST_F(OfferModelTest, TrainingIsDeterministicForASeed) {
  auto again =
      TrainOfferModel(world_->spec, world_->train, world_->validation, FastTraining(), nullptr);
  const auto a = model().Predict(world_->test.inputs, *model().PrepareTrained());
  const auto b = again->Predict(world_->test.inputs, *again->PrepareTrained());
  EXPECT_EQ(a, b);
}

TEST_F(OfferModelTest, SaveAndLoadGiveTheSamePropensities) {
  intentstream::testing::TempDir dir;
  const std::string path = dir.Sub("offer");
  model().Save(path);
  const auto loaded = OfferModel::Load(path);
  EXPECT_EQ(loaded->version(), "test-offer");
  EXPECT_EQ(loaded->spec().semantic.names, model().spec().semantic.names);
  EXPECT_EQ(loaded->spec().calibration[0].a, model().spec().calibration[0].a);
  const auto a = model().Predict(world_->test.inputs, *model().PrepareTrained());
  const auto b = loaded->Predict(world_->test.inputs, *loaded->PrepareTrained());
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-6) << i;
  EXPECT_TRUE(loaded->Knows("A"));
  EXPECT_FALSE(loaded->Knows("D"));
}

TEST_F(OfferModelTest, BrokenArtifactsFailNamingTheFileAndKey) {
  intentstream::testing::TempDir dir;
  const std::string path = dir.Sub("offer");
  model().Save(path);
  auto rewrite = [&](const std::string& file, const std::string& from, const std::string& to) {
    std::ifstream in(path + "/" + file);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    text = std::regex_replace(text, std::regex(from), to);
    std::ofstream(path + "/" + file, std::ios::trunc) << text;
  };
  auto error = [&]() -> std::string {
    try {
      OfferModel::Load(path);
    } catch (const ModelError& e) {
      return e.what();
    }
    return "";
  };
  rewrite("offer_model.txt", "hidden = 16", "hidden = sixteen");
  EXPECT_EQ(error(), path + "/offer_model.txt: key 'hidden' is not an integer: 'sixteen'");
  rewrite("offer_model.txt", "hidden = sixteen", "hidden = 32");
  EXPECT_THAT(error(), HasSubstr("offer_weights.pt: tensor"));
  rewrite("offer_model.txt", "hidden = 32", "hidden = 16");
  rewrite("offer_model.txt", "offers = 3", "offers = 4");
  EXPECT_EQ(error(),
            path + "/offers.tsv has 3 offers but " + path + "/offer_model.txt key 'offers' says 4");
  EXPECT_EQ(
      [&]() -> std::string {
        try {
          OfferModel::Load(dir.Sub("missing"));
        } catch (const ModelError& e) {
          return e.what();
        }
        return "";
      }(),
      dir.Sub("missing") + ": offer model directory not found");
}

TEST_F(OfferModelTest, ServingMatchesOfflinePredictionsAndMapsFeaturesByName) {
  // The serving layout names its features in another order and adds one the model does
  // not know; the model maps by name.
  op::ScoringLayout layout;
  layout.offers = testing::TrainedOffers();
  layout.intents = {"c", "b", "a", "z"};
  layout.profile_features = {"noise", "unused"};
  layout.session_features = {"age"};
  const auto prepared = model().Prepare(layout);
  const auto offline = model().Predict(world_->test.inputs, *model().PrepareTrained());
  std::vector<op::PropensityRequest> batch(50);
  std::vector<std::array<float, 4>> intents(batch.size());
  std::vector<std::array<float, 2>> profile(batch.size());
  std::vector<float> session(batch.size());
  std::vector<std::array<float, 3>> out(batch.size());
  const std::vector<int> offers = {0, 1, 2};
  for (size_t r = 0; r < batch.size(); ++r) {
    const float* sem = &world_->test.inputs.semantic[r * 3];
    const float* str = &world_->test.inputs.structured[r * 2];
    intents[r] = {sem[2], sem[1], sem[0], 0.9f};
    profile[r] = {str[1], 123.0f};
    session[r] = str[0];
    batch[r].intents = intents[r];
    batch[r].profile = profile[r];
    batch[r].session = std::span<const float>(&session[r], 1);
    batch[r].offers = offers;
    batch[r].out = out[r];
  }
  model().Score(*prepared, batch);
  for (size_t r = 0; r < batch.size(); ++r) {
    for (size_t k = 0; k < 3; ++k) EXPECT_NEAR(out[r][k], offline[r * 3 + k], 1e-5) << r;
    EXPECT_EQ(batch[r].persona, -1);  // this model has no personas
  }
}

TEST_F(OfferModelTest, AnOfferWithNoHistoryIsRankedForVisitorsWhoseSessionsMatchIt) {
  // D serves intent a, like A, with a product and kind the model has never seen.
  auto offers = testing::TrainedOffers();
  offers.push_back({"D", {"a"}, "NEW_PRODUCT", "insurance"});
  offers.push_back({"E", {}, "", ""});  // nothing known about it: no estimate
  const auto prepared = model().Prepare(LayoutOf(model().spec(), offers));
  const std::vector<int> rows = {0, 1, 2, 3, 4};
  auto score = [&](std::array<float, 3> intents) {
    std::array<float, 2> structured = {0.0f, 0.0f};
    std::array<float, 5> out{};
    op::PropensityRequest req;
    req.intents = intents;
    req.profile = structured;
    req.offers = rows;
    req.out = out;
    model().Score(*prepared, std::span<op::PropensityRequest>(&req, 1));
    return out;
  };
  const auto a_visitor = score({0.95f, 0.05f, 0.05f});
  const auto b_visitor = score({0.05f, 0.95f, 0.05f});
  EXPECT_FALSE(model().Knows("D"));
  // D is ranked above the offers of other intents for a visitor whose session matches it...
  EXPECT_GT(a_visitor[3], a_visitor[1]);
  EXPECT_GT(a_visitor[3], a_visitor[2]);
  // ...and well above what a visitor with another intent gets.
  EXPECT_GT(a_visitor[3], 2 * b_visitor[3]) << a_visitor[3] << " vs " << b_visitor[3];
  EXPECT_LT(b_visitor[3], b_visitor[1]);
  EXPECT_EQ(a_visitor[4], -1.0f);
}

}  // namespace
}  // namespace intentstream::model
