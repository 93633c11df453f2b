// Training of the intent head on a teacher's labels (distillation), its per-intent
// calibration and decision thresholds. No torch includes.
//
// Loss: binary cross-entropy per intent (multi-label). Calibration: Platt scaling per
// intent (a, b of sigmoid(a * logit + b)) fitted by Newton's method on held-out
// sessions. Decision thresholds: per intent, the probability that maximises the F1 of
// the head's labels against the teacher's on the same held-out sessions. Deterministic
// for a given seed (one thread).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/intent_head.h"

namespace intentstream::model {

struct HeadExample {
  std::vector<float> embedding;
  std::vector<uint8_t> targets;  // 1 per intent the teacher labelled (head output order)
};

struct HeadTrainOptions {
  int hidden = 64;
  int epochs = 40;
  int batch_size = 256;
  double learning_rate = 3e-3;
  double weight_decay = 1e-4;
  uint64_t seed = 7;
};

// Expected calibration error per intent: 10 equal-width bins of the predicted
// probability, sum over bins of |observed rate - mean prediction| x the bin's share.
std::vector<double> ExpectedCalibrationError(const IntentHead& head,
                                             std::span<const HeadExample> examples,
                                             bool calibrated);

struct HeadTrainReport {
  std::vector<double> epoch_loss;
  double seconds = 0;
  std::vector<double> ece_raw;         // on the calibration set, before calibration
  std::vector<double> ece_calibrated;  // on the calibration set, after
};

// Trains a head described by `config` (embedding_dim, intents, ...) on `train`, then
// calibrates it and sets its thresholds on `calibration`. Throws std::invalid_argument
// when the examples do not match the config.
std::shared_ptr<IntentHead> TrainIntentHead(IntentHeadConfig config,
                                            std::span<const HeadExample> train,
                                            std::span<const HeadExample> calibration,
                                            const HeadTrainOptions& options,
                                            HeadTrainReport* report);

}  // namespace intentstream::model
