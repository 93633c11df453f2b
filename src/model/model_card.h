// The model card written next to a trained artifact (model_card.md): what it was trained
// on, how, how fast, and its next-item figures against the baselines. No torch includes.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "model/model.h"
#include "model/trainer.h"

namespace intentstream::model {

struct ModelCardInputs {
  const TrainOptions* options = nullptr;
  const SessionModel* model = nullptr;
  const DatasetSummary* train = nullptr;
  const DatasetSummary* valid = nullptr;
  const DatasetSummary* eval = nullptr;
  const TrainResult* result = nullptr;
  int64_t steps = 0;
  double seconds = 0;  // wall time of the whole run before the evaluation
  size_t windows_per_epoch = 0;
  size_t valid_cases = 0;
  std::vector<std::pair<int, double>> speed_probe;  // (threads, windows/s)
};

// Writes options->out_dir + "/model_card.md". Throws std::runtime_error when it cannot.
void WriteModelCard(const ModelCardInputs& card);

}  // namespace intentstream::model
