// The training tool's library end to end on a tiny CSV: trains, evaluates with both
// baselines, exports an artifact that loads and serves, deterministically.
#include "model/trainer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <cmath>

#include "model/encoder_ranking.h"
#include "model/incremental_encoder.h"
#include "model/model.h"

namespace intentstream::model {
namespace {

namespace fs = std::filesystem;

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("intentstream_trainer_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    WriteFunnel(dir_ / "clicks.csv", 1, 0, 60);
  }
  // Visitors walk a fixed funnel with some noise: learnable next items.
  static void WriteFunnel(const fs::path& path, uint64_t seed, int first_visitor, int visitors) {
    std::ofstream csv(path);
    csv << "visitor,ts,page\n";
    const char* funnel[] = {"/home", "/loans", "/loans/personal", "/loans/apply", "/help"};
    std::mt19937_64 rng(seed);
    for (int v = first_visitor; v < first_visitor + visitors; ++v) {
      int64_t t = 1700000000 + v * 100000;
      for (int i = 0; i < 12; ++i) {
        const int step = rng() % 5 == 0 ? static_cast<int>(rng() % 5) : i % 5;
        csv << "v" << v << "," << t << "," << funnel[step] << "\n";
        t += 20 + static_cast<int64_t>(rng() % 60);
      }
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  TrainOptions Options(const std::string& out) {
    TrainOptions o;
    o.train_paths = {(dir_ / "clicks.csv").string()};
    o.csv.visitor = "visitor";
    o.csv.time = "ts";
    o.csv.item = "page";
    o.out_dir = (dir_ / out).string();
    o.encoder.d_model = 16;
    o.encoder.heads = 2;
    o.encoder.ffn = 32;
    o.encoder.window = 8;
    o.encoder.window_stride = 2;
    o.tokenizer.query_buckets = 16;
    o.tokenizer.category_hash_buckets = 4;
    o.min_count = 1;
    o.epochs = 2;
    o.batch_size = 8;
    o.progress = false;
    o.name = "tiny";
    return o;
  }
  fs::path dir_;
};

TEST_F(TrainerTest, TrainsEvaluatesAndExportsALoadableModel) {
  const TrainResult r = TrainAndExport(Options("a"));
  ASSERT_EQ(r.metrics.size(), 5u);
  EXPECT_EQ(r.metrics[0].name, "most-popular");
  EXPECT_EQ(r.metrics[1].name, "item-to-item transitions");
  EXPECT_EQ(r.metrics[2].name, "sequential rules");
  EXPECT_EQ(r.metrics[3].name, "session kNN");
  EXPECT_EQ(r.metrics[4].name, "session encoder " + r.model_version);
  for (Protocol p : kProtocols) EXPECT_GT(r.metrics[4][p].cases, 0u);
  EXPECT_GT(r.metrics[4][Protocol::kEveryNextItem].cases, r.metrics[4][Protocol::kLastItem].cases);
  EXPECT_LT(r.last_epoch_loss, r.first_epoch_loss);
  EXPECT_TRUE(fs::exists(dir_ / "a" / "model_card.md"));

  const auto model = SessionModel::Load((dir_ / "a").string());
  EXPECT_EQ(model->version(), r.model_version);
  IncrementalEncoder encoder(model);
  v1::VisitorState state;
  auto* e = state.add_events();
  e->set_event_key(1);
  e->set_category("/loans/never-seen-before");
  std::vector<op::VisitorUpdate> updates(1);
  updates[0].visitor_id = "x";
  updates[0].state = &state;
  encoder.Encode(updates);
  EXPECT_EQ(DecodeEmbedding(state.embedding()).size(), 16u);
}

TEST_F(TrainerTest, SameSeedSameWeights) {
  const TrainResult a = TrainAndExport(Options("a"));
  const TrainResult b = TrainAndExport(Options("b"));
  EXPECT_EQ(a.model_version, b.model_version);  // the version carries the weights' digest
  TrainOptions other = Options("c");
  other.seed = 8;
  EXPECT_NE(TrainAndExport(other).model_version, a.model_version);
}

// The evaluation runs one forward pass per window start and reads every case that shares
// it at its own position: each must be exactly what serving computes for the events
// before the target (EncodeFull, the reference the incremental encoder matches).
TEST_F(TrainerTest, EvaluationSeesWhatServingEncodes) {
  const TrainOptions o = Options("a");
  TrainAndExport(o);
  const auto model = SessionModel::Load(o.out_dir);
  DatasetSummary summary;
  const auto timelines = LoadTimelines(o.train_paths, o.csv, &summary);
  const auto cases = BuildNextItemCases(timelines, model->tokenizer(), 30 * 60 * 1000,
                                        Protocol::kEveryNextItem, 0, 1);
  ASSERT_GT(cases.size(), 500u);
  const auto outputs = EncoderOutputs(*model, cases);
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& events = cases[i].timeline->events;
    const auto expected = model->EncodeFull(std::span(events).first(cases[i].target));
    std::vector<float> got = outputs[i];
    double norm = 0;
    for (float v : got) norm += static_cast<double>(v) * v;
    ASSERT_EQ(got.size(), expected.size());
    for (size_t j = 0; j < got.size(); ++j) {
      ASSERT_NEAR(got[j] / std::sqrt(norm), expected[j], 1e-5) << "case " << i << " dim " << j;
    }
  }
  const auto ranked = EncoderTopK(*model, cases, 3);
  ASSERT_EQ(ranked.size(), cases.size());
  for (const auto& r : ranked) {
    ASSERT_EQ(r.size(), 3u);
    for (int32_t id : r) EXPECT_GE(id, kFirstVocabId);
  }
}

// Early stopping keeps the best epoch: the saved model scores on the validation sessions
// what that epoch scored, and training ran `patience` epochs past it at most.
TEST_F(TrainerTest, EarlyStoppingSavesTheBestEpoch) {
  WriteFunnel(dir_ / "valid.csv", 2, 1000, 30);
  TrainOptions o = Options("a");
  o.valid_paths = {(dir_ / "valid.csv").string()};
  o.epochs = 12;
  o.patience = 2;
  o.max_valid_cases = 0;
  const TrainResult r = TrainAndExport(o);
  ASSERT_FALSE(r.epochs.empty());
  size_t best = 0;  // the first epoch with the highest score
  for (size_t i = 1; i < r.epochs.size(); ++i) {
    if (r.epochs[i].valid_mrr > r.epochs[best].valid_mrr) best = i;
  }
  EXPECT_EQ(r.best_epoch, static_cast<int>(best) + 1);
  if (r.epochs.size() < 12u) {
    EXPECT_EQ(r.epochs.size(), best + 1 + 2);
  }
  EXPECT_EQ(r.valid_cases, 30u * 11u);  // every next item of every validation visitor

  EvaluateOptions e;
  e.model_dir = o.out_dir;
  e.train_paths = o.train_paths;
  e.eval_paths = o.valid_paths;
  e.csv = o.csv;
  const EvaluateResult saved = EvaluateSaved(e);
  const auto& next = saved.metrics.back()[Protocol::kEveryNextItem];
  EXPECT_EQ(next.cases, r.valid_cases);
  EXPECT_NEAR(next.Mrr(), r.epochs[best].valid_mrr, 1e-6);
}

// The validation score reads whole visitors until it has max_valid_cases: a cap smaller
// than the data keeps fewer visitors, each with all of its cases.
TEST_F(TrainerTest, ValidationCapTakesWholeVisitors) {
  WriteFunnel(dir_ / "valid.csv", 2, 1000, 30);
  TrainOptions o = Options("a");
  o.valid_paths = {(dir_ / "valid.csv").string()};
  o.epochs = 1;
  o.max_valid_cases = 50;
  const TrainResult r = TrainAndExport(o);
  EXPECT_EQ(r.valid_cases, 55u);  // five visitors of 11 cases: the first count >= 50
}

}  // namespace
}  // namespace intentstream::model
