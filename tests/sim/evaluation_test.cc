#include "eval/evaluation.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "eval/baseline_rules.h"
#include "sim/generator.h"
#include "sim/world_writer.h"

namespace intentstream::eval {
namespace {

using sim::Intent;

// One small world on disk, shared by the tests (generation is the slow part).
class EvaluationTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    namespace fs = std::filesystem;
    // Per process: ctest may run these tests in parallel.
    dir_ = new std::string(testing::TempDir() + "/eval-world-" + std::to_string(::getpid()));
    fs::remove_all(*dir_);
    sim::WorldOptions world;
    world.seed = 2024;
    world.customers = 1000;
    world.days = 40;
    sim::SplitOptions split;
    split.out_dir = *dir_;
    split.validation_start_day = 22;
    split.test_start_day = 27;
    ASSERT_EQ(split.Resolve(world), "");
    std::string error;
    auto writer = sim::WorldWriter::Open(world, split, &error);
    ASSERT_NE(writer, nullptr) << error;
    sim::Generator generator(world, writer.get());
    sim::Record r;
    while (generator.Next(&r)) ASSERT_TRUE(writer->Write(r, &error)) << error;
    ASSERT_TRUE(writer->Close(&error)) << error;
    data_ = new Dataset();
    ASSERT_EQ(data_->Load(*dir_), "");
    examples_ = new std::vector<Example>(BuildExamples(*data_, ExampleOptions()));
    test_ = new std::vector<const Example*>();
    for (const auto& ex : *examples_) {
      if (ex.split == 2) test_->push_back(&ex);
    }
    baselines_ = new Baselines(*examples_, Training());
  }
  static TrainOptions Training() {
    TrainOptions t;
    t.epochs = 4;  // enough for these margins, and keeps the suite fast
    return t;
  }
  static void TearDownTestSuite() {
    delete baselines_;
    delete test_;
    delete examples_;
    delete data_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  template <typename Fn>
  static Metrics ScoreWith(const std::string& name, Fn&& fn) {
    std::vector<Prediction> p;
    for (const Example* ex : *test_) p.push_back(fn(*ex));
    return Score(name, *test_, p, 0.5);
  }

  static std::string* dir_;
  static Dataset* data_;
  static std::vector<Example>* examples_;
  static std::vector<const Example*>* test_;
  static Baselines* baselines_;
};
std::string* EvaluationTest::dir_ = nullptr;
Dataset* EvaluationTest::data_ = nullptr;
std::vector<Example>* EvaluationTest::examples_ = nullptr;
std::vector<const Example*>* EvaluationTest::test_ = nullptr;
Baselines* EvaluationTest::baselines_ = nullptr;

// One test per process keeps ctest fast: the world is generated once per process.
TEST_F(EvaluationTest, OracleIntentClearlyBeatsMostPopular) {
  ASSERT_GT(test_->size(), 5000u);
  const Metrics m = ScoreWith("trivial", [](const Example&) { return TrivialPrediction(); });
  EXPECT_GT(m.ranked, 300u);
  EXPECT_GT(m.conversion_examples, 2000u);
  // All tiles tie, so the first tile is always on top: macro recall is 1/12.
  EXPECT_NEAR(m.recall_at_1, 1.0 / 12, 1e-9);

  const Metrics popular =
      ScoreWith("popular", [](const Example& ex) { return baselines_->MostPopular(ex); });
  const Metrics oracle =
      ScoreWith("oracle", [](const Example& ex) { return baselines_->FromIntent(ex.intent, ex); });
  EXPECT_GT(oracle.recall_at_1, popular.recall_at_1 + 0.2)
      << "oracle " << oracle.recall_at_1 << " popular " << popular.recall_at_1;
  EXPECT_LT(oracle.click_log_loss, popular.click_log_loss);
  EXPECT_GT(oracle.convert_auc, popular.convert_auc + 0.1);
  EXPECT_DOUBLE_EQ(oracle.intent_macro_f1, 1.0);
  // ...but the task is not trivial: the oracle is far from perfect ranking.
  EXPECT_LT(oracle.recall_at_1, 0.8);
}

TEST_F(EvaluationTest, WebSessionsCarryInformationBeyondInApp) {
  const Metrics app = ScoreWith("app", [](const Example& ex) { return baselines_->AppOnly(ex); });
  const Metrics web = ScoreWith("web", [](const Example& ex) { return baselines_->WebAndApp(ex); });
  EXPECT_GT(web.convert_auc, app.convert_auc + 0.02)
      << "web+app " << web.convert_auc << " in-app " << app.convert_auc;
  EXPECT_GT(web.intent_macro_f1, app.intent_macro_f1 + 0.05)
      << "web+app " << web.intent_macro_f1 << " in-app " << app.intent_macro_f1;
  EXPECT_GT(web.recall_at_1, app.recall_at_1);
}

TEST_F(EvaluationTest, PredictionFilesRoundTripAndBadOnesAreRejected) {
  std::string path = *dir_ + "/trivial-predictions.csv";
  std::vector<Prediction> trivial(test_->size(), TrivialPrediction());
  ASSERT_EQ(WritePredictions(path, *test_, trivial), "");
  std::vector<Prediction> read;
  ASSERT_EQ(ReadPredictions(path, *test_, &read), "");
  const Metrics a = Score("a", *test_, trivial, 0.5);
  const Metrics b = Score("b", *test_, read, 0.5);
  EXPECT_DOUBLE_EQ(a.recall_at_1, b.recall_at_1);
  EXPECT_NEAR(a.click_log_loss, b.click_log_loss, 1e-9);

  EvaluationOptions options;
  options.data_dir = *dir_;
  options.predictions_path = path;
  options.out_dir = *dir_ + "/eval-out";
  options.train = Training();
  EvaluationResult result;
  ASSERT_EQ(RunEvaluation(options, &result), "");
  ASSERT_EQ(result.rows.size(), 7u);
  EXPECT_NEAR(result.rows[0].recall_at_1, 1.0 / 12, 1e-9);
  EXPECT_TRUE(std::filesystem::exists(options.out_dir + "/results.csv"));
  EXPECT_TRUE(std::filesystem::exists(options.out_dir + "/results.md"));
  // The bias check of the model's top three tiles covers every test decision point, by
  // monitored group, and is in results.md.
  std::map<std::string, size_t> points;
  for (const auto& r : result.model_bias) {
    if (r.offer == result.model_bias.front().offer) points[r.group] = r.points;
  }
  EXPECT_EQ(points.size(), 3u) << "female, male, undisclosed";
  size_t all = 0;
  for (const auto& [g, n] : points) all += n;
  EXPECT_EQ(all, test_->size());
  for (const auto& e : ModelExposures(*data_, *test_, trivial, 3)) EXPECT_EQ(e.shown.size(), 3u);
  {
    std::ifstream md(options.out_dir + "/results.md");
    const std::string text((std::istreambuf_iterator<char>(md)), {});
    EXPECT_NE(text.find("bias check: model, top 3 tiles"), std::string::npos);
  }

  // Bad files are rejected with the reason.
  path = *dir_ + "/bad.csv";
  { std::ofstream(path) << "example_id,intent,p_convert,TILE_MORTGAGE\n"; }
  EXPECT_EQ(ReadPredictions(path, *test_, &read),
            "--predictions: " + path + ": no column for tile TILE_REMORTGAGE");
  std::vector<Prediction> one(1, TrivialPrediction());
  std::vector<const Example*> first(test_->begin(), test_->begin() + 1);
  ASSERT_EQ(WritePredictions(path, first, one), "");
  std::string text;
  {
    std::ifstream in(path);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const size_t pos = text.find("everyday_servicing");
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, 18, "space_travel");
  { std::ofstream(path) << text; }
  EXPECT_EQ(ReadPredictions(path, first, &read),
            "--predictions: " + path + ":2: unknown intent \"space_travel\"");
  EXPECT_EQ(ReadPredictions(*dir_ + "/missing.csv", first, &read),
            "--predictions: cannot read " + *dir_ + "/missing.csv");
}

TEST(BaselineRulesTest, RulesMapPagesScreensAndQueries) {
  EXPECT_EQ(IntentOfPath("/mortgages/remortgage/calculator"), Intent::kRefinancing);
  EXPECT_EQ(IntentOfPath("/Mortgages/First-Time-Buyers?utm=x"), Intent::kHomeBuying);
  EXPECT_EQ(IntentOfPath("/credit-cards/compare"), std::nullopt);
  EXPECT_EQ(IntentOfPath("/savingsbank"), std::nullopt);
  EXPECT_EQ(IntentOfScreen("products/travel-card"), Intent::kTravelRewards);
  EXPECT_EQ(IntentOfScreen("accounts"), std::nullopt);
  EXPECT_EQ(IntentOfQuery("0% Balance Transfer"), Intent::kBalanceTransfer);
  EXPECT_EQ(IntentOfQuery("remortgage rates"), Intent::kRefinancing);
}

TEST(EvaluationRunTest, ADecisionsLogAloneIsAuditedWithoutData) {
  EvaluationOptions options;
  options.decisions_path = "/nonexistent-decisions.jsonl";
  EvaluationResult result;
  EXPECT_EQ(RunEvaluation(options, &result),
            "--decisions: cannot read /nonexistent-decisions.jsonl");
  options.decisions_path = testing::TempDir() + "/empty-decisions.jsonl";
  { std::ofstream(options.decisions_path) << "\n"; }
  ASSERT_EQ(RunEvaluation(options, &result), "");
  EXPECT_TRUE(result.audited);
  EXPECT_EQ(result.audit.decisions, 0u);
  EXPECT_TRUE(result.rows.empty());
}

TEST(EvaluationRunTest, MissingDataFailsNamingTheFlag) {
  EvaluationOptions options;
  options.data_dir = "/nonexistent-world";
  options.trivial = true;
  EvaluationResult result;
  EXPECT_EQ(RunEvaluation(options, &result),
            "--data: cannot read /nonexistent-world/world.properties");
}

}  // namespace
}  // namespace intentstream::eval
