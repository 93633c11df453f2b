// Training of the intent head on a teacher's labels (distillation), its per-intent
// calibration and decision thresholds. No torch includes.
//
// Loss: binary cross-entropy per intent (multi-label), each intent's positives weighted
// up towards its negatives (HeadTrainOptions::positive_weight_power) so that rare
// intents are not drowned by the default label. Calibration: Platt scaling per intent
// (a, b of sigmoid(a * logit + b)) fitted by Newton's method on held-out sessions.
// Decision thresholds, on the same held-out sessions: first per intent, the probability
// that maximises that intent's F1 against the teacher's labels; then, where the examples
// carry the teacher's top label, coordinate ascent over all thresholds on the macro-F1 of
// the head's top label (IntentHead::Labels) against the teacher's, which is the figure
// the evaluation reports. Deterministic for a given seed (one thread).
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
  // The teacher's soft label per intent in [0, 1] (empty: none; the rule teacher's is
  // its score's margin over the label threshold through a sigmoid).
  std::vector<float> soft;
  int top = -1;           // the teacher's top label (head output order); -1: unknown
  bool at_login = false;  // the window at a LOGIN (else at a session's end)
};

struct HeadTrainOptions {
  int hidden = 128;  // 64 could not tell the intents apart at LOGIN as well
  int epochs = 80;
  int batch_size = 256;
  double learning_rate = 3e-3;
  double weight_decay = 1e-4;
  uint64_t seed = 7;
  // Positive weight of intent j in the loss: (negatives_j / positives_j) ^ power, at
  // most 50. 0: unweighted; 0.5: the square root of the imbalance.
  double positive_weight_power = 0.5;
  // The loss's target: (1 - w) x the teacher's labels + w x its soft labels, where the
  // examples carry them.
  double soft_label_weight = 0;
  // Tune the thresholds for the macro-F1 of the top label (needs HeadExample::top).
  bool tune_top_label = true;
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
  // Macro-F1 of the top label against the teacher's on the calibration set, with the
  // per-intent thresholds and after tuning them together (equal when not tuned).
  double top_macro_f1_per_intent = 0;
  double top_macro_f1_tuned = 0;
};

// Macro-F1 of top labels against the teacher's (single label per example; -1 skipped;
// over the intents that occur in either).
double TopLabelMacroF1(std::span<const int> truth, std::span<const int> predicted, size_t k);

// Trains a head described by `config` (embedding_dim, intents, ...) on `train`, then
// calibrates it and sets its thresholds on `calibration`. Throws std::invalid_argument
// when the examples do not match the config.
std::shared_ptr<IntentHead> TrainIntentHead(IntentHeadConfig config,
                                            std::span<const HeadExample> train,
                                            std::span<const HeadExample> calibration,
                                            const HeadTrainOptions& options,
                                            HeadTrainReport* report);

}  // namespace intentstream::model
