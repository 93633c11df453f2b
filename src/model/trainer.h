// Self-supervised training, evaluation and export of the session model (tools/train is
// a thin main over this). No torch includes.
//
// Objectives, summed: next-event field prediction (the next event's category, product
// and event type from each position's output; the category loss weighted by
// `next_category_weight`) and masked-field prediction (a random 15% of positions have one
// of those fields replaced by the mask id; the position's output predicts it). AdamW with
// a linear warm-up, then a linear decay to `final_lr_fraction` of the rate (both by epoch
// progress); gradient clipping at 1. After every epoch the model is scored on the
// validation sessions (MRR of the every-next-item protocol, evaluation.h, on whole
// visitors up to `max_valid_cases`); the best epoch's weights are the ones saved, and
// training stops after `patience` epochs without a better score.
// Deterministic for a given seed and thread count.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/dataset.h"
#include "model/evaluation.h"
#include "model/model_config.h"

namespace intentstream::model {

// How training windows are cut from a visitor's timeline each epoch.
enum class WindowCut {
  kFixed,         // windows of `window` events back from the last event, the same every epoch
  kRandomOffset,  // the same, from a random offset per timeline and epoch: each event is a
                  // target once per epoch, with a different context each time
};

struct TrainOptions {
  std::vector<std::string> train_paths;  // event directories or .csv files
  std::vector<std::string> valid_paths;  // early stopping; empty: 10% of train visitors
  std::vector<std::string> eval_paths;   // held-out sessions; empty: another 10% of them
  CsvMapping csv;
  std::string out_dir;                   // artifact directory to write
  std::string path_rules_file;           // optional category rules (tokenizer.h)
  std::string name = "session-encoder";  // model version prefix
  std::string command_line;              // recorded in the model card
  EncoderConfig encoder;
  TokenizerConfig tokenizer;
  int64_t min_count = 3;    // vocabulary frequency cut-off
  size_t max_vocab = 5000;  // per vocabulary
  int epochs = 60;          // at most
  int patience = 10;        // epochs without a better validation score before stopping; 0 = never
  int64_t max_steps = 0;    // 0 = no cap
  int batch_size = 32;
  double learning_rate = 4e-3;
  double warmup_fraction = 0.05;   // of the steps, rising linearly from 0 to the rate
  double final_lr_fraction = 0.1;  // the rate at the last step, as a fraction of the peak
  double weight_decay = 0.01;
  double dropout = 0.1;  // embeddings and residual branches, training only
  double mask_probability = 0.15;
  double next_category_weight = 3.0;
  // Next-event targets only within a session (session_gap_ms): the evaluation's task.
  bool next_within_session = true;
  WindowCut window_cut = WindowCut::kRandomOffset;
  bool length_buckets = true;  // batches of windows of similar length (less padding)
  uint64_t seed = 7;
  int threads = 1;
  int64_t session_gap_ms = 30 * 60 * 1000;
  size_t max_eval_cases = 0;       // per protocol; 0 = all
  size_t max_valid_cases = 20000;  // whole visitors, in hash order, up to this many cases
  int top_k = 20;
  bool progress = true;  // progress bar on stderr
  // > 0: before training, time this many steps on 1 and on 2 threads (a throwaway copy
  // of the model) and record both in the model card.
  int64_t speed_probe_steps = 0;
};

struct EpochRecord {
  double loss = 0;           // mean training loss
  double valid_mrr = 0;      // every-next-item MRR@k on the validation sessions
  double seconds = 0;        // wall time of the epoch's training steps
  double windows_per_s = 0;  // training windows (sequences) per second
};

struct TrainResult {
  std::string model_version;
  std::vector<MethodMetrics> metrics;  // baselines, then the encoder
  std::string table;
  std::string verdict;  // CompareWithBest of the encoder against the baselines
  std::vector<EpochRecord> epochs;
  int best_epoch = 0;      // 1-based: the saved weights
  size_t valid_cases = 0;  // next-item cases of the validation score
  double first_epoch_loss = 0;
  double last_epoch_loss = 0;
};

// Trains, evaluates with baselines and writes the artifact with its model card.
// Throws std::runtime_error (or ModelError) with a readable message.
TrainResult TrainAndExport(const TrainOptions& options);

struct EvaluateOptions {
  std::string model_dir;  // empty: baselines only (vocabulary built from the training data)
  std::vector<std::string> train_paths;  // for the baselines
  std::vector<std::string> eval_paths;
  CsvMapping csv;
  std::string path_rules_file;  // without a model: category rules for the vocabulary
  TokenizerConfig tokenizer;    // without a model: category depth and hashed buckets
  int64_t min_count = 3;        // without a model: vocabulary cut-off
  int64_t session_gap_ms = 30 * 60 * 1000;
  size_t max_eval_cases = 0;
  int top_k = 20;
  uint64_t seed = 7;
  int threads = 1;
};

struct EvaluateResult {
  std::vector<MethodMetrics> metrics;  // baselines, then the encoder when there is a model
  DatasetSummary train, eval;
};

// Evaluates a saved model (or only the baselines) on held-out sessions.
EvaluateResult EvaluateSaved(const EvaluateOptions& options);

}  // namespace intentstream::model
