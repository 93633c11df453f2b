// Training of the offer model (offer_model.h) on dense rows: one row per decision point
// (or per table row in tabular mode), a target and a mask per task and offer.
//
// Loss = sum over tasks of w_t * BCE(ensemble logits) over the observed entries
//      + L2 (weights; offers' own residuals more strongly, so what offers share goes
//        into the intent / kind / product parts that cold-start offers reuse)
//      + aux * mean over branches of (sigmoid(branch) - sigmoid(ensemble))^2, the
//        ensemble held fixed: each branch stays consistent with the ensemble.
// Adam, mini-batches, early stopping on the validation loss (the best epoch's weights
// are kept), then Platt scaling per task on the validation rows. Deterministic for a
// seed and a thread count. No torch includes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/offer_model.h"

namespace intentstream::model {

struct OfferTrainData {
  OfferInputs inputs;
  size_t tasks = 1, offers = 1;
  // rows x tasks x offers; mask 1 where the target is observed.
  std::vector<float> target, mask;
};

struct OfferTrainOptions {
  int epochs = 30;
  int patience = 4;  // epochs without a better validation loss before stopping
  int batch = 256;
  double learning_rate = 2e-3;
  double weight_decay = 1e-5;  // L2 on weight matrices
  double residual_l2 = 3e-3;   // L2 on offers' own residuals
  double atom_l2 = 1e-5;       // L2 on intent / kind / product parts
  double aux_weight = 0.1;     // branch consistency term
  double dropout = 0.1;
  std::vector<double> task_weights;  // default 1 each
  uint64_t seed = 7;
  int threads = 1;
  bool progress = false;  // one line per epoch on stderr
};

struct OfferTrainReport {
  std::vector<double> train_loss, validation_loss;  // per epoch (validation: BCE only)
  int best_epoch = 0;
  double seconds = 0;
  std::vector<double> mix;  // learned branch weights
  double mean_gate = 0;     // mean g on validation rows (share of the semantic part)
  int64_t parameters = 0;
};

// Standardisation of both input blocks from the training rows (constant inputs get sd 1).
void FitStandardisation(const OfferInputs& train, OfferModelSpec* spec);

// Trains a model of `spec` (offers, tasks and inputs as the data) and calibrates it on
// `validation`. Throws ModelError on inconsistent shapes.
std::shared_ptr<OfferModel> TrainOfferModel(OfferModelSpec spec, const OfferTrainData& train,
                                            const OfferTrainData& validation,
                                            const OfferTrainOptions& options,
                                            OfferTrainReport* report);

// Mean masked BCE per task of `data` under the model (calibrated probabilities).
std::vector<double> MaskedLogLoss(const OfferModel& model, const OfferTrainData& data);

// Sets the torch intra-op thread count (tools call it once, before training).
void SetTrainingThreads(int threads);

}  // namespace intentstream::model
