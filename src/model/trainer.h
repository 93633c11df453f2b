// Self-supervised training, evaluation and export of the session model (tools/train is
// a thin main over this). No torch includes.
//
// Objectives, summed: next-event field prediction (the next event's category, product
// and event type from each position's output) and masked-field prediction (a random
// 15% of positions have one of those fields replaced by the mask id; the position's
// output predicts it). Deterministic for a given seed and thread count.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/dataset.h"
#include "model/evaluation.h"
#include "model/model_config.h"

namespace intentstream::model {

struct TrainOptions {
  std::vector<std::string> train_paths;  // event directories or .csv files
  std::vector<std::string> eval_paths;   // held-out sessions; empty: 10% of train visitors
  CsvMapping csv;
  std::string out_dir;                   // artifact directory to write
  std::string path_rules_file;           // optional category rules (tokenizer.h)
  std::string name = "session-encoder";  // model version prefix
  std::string command_line;              // recorded in the model card
  EncoderConfig encoder;
  TokenizerConfig tokenizer;
  int64_t min_count = 3;    // vocabulary frequency cut-off
  size_t max_vocab = 5000;  // per vocabulary
  int epochs = 3;
  int64_t max_steps = 0;  // 0 = no cap
  int batch_size = 32;
  double learning_rate = 2e-3;
  double mask_probability = 0.15;
  uint64_t seed = 7;
  int threads = 1;
  int64_t session_gap_ms = 30 * 60 * 1000;
  size_t max_eval_cases = 20000;
  int top_k = 20;
  bool progress = true;  // progress bar on stderr
};

struct TrainResult {
  std::string model_version;
  std::vector<RankMetrics> metrics;
  std::string table;
  double first_epoch_loss = 0;
  double last_epoch_loss = 0;
};

// Trains, evaluates with baselines and writes the artifact with its model card.
// Throws std::runtime_error (or ModelError) with a readable message.
TrainResult TrainAndExport(const TrainOptions& options);

struct EvaluateOptions {
  std::string model_dir;
  std::vector<std::string> train_paths;  // for the baselines
  std::vector<std::string> eval_paths;
  CsvMapping csv;
  int64_t session_gap_ms = 30 * 60 * 1000;
  size_t max_eval_cases = 20000;
  int top_k = 20;
  uint64_t seed = 7;
  int threads = 1;
};

// Evaluates a saved model against the baselines; returns the metrics.
std::vector<RankMetrics> EvaluateSaved(const EvaluateOptions& options);

}  // namespace intentstream::model
