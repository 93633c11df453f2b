// The offer model's journeys mode: a generated world replayed through the processor's
// state code (eval/replay.h), so every decision point (app LOGIN) has the inputs the
// processor would have had there: the session embedding of the customer's state (the
// session encoder, as served), the rule intent scores, and decide::FeatureBuilder's
// profile and session features. Trains on the train split (tile impressions with their
// clicks; application completes within the horizon), stops early and calibrates on the
// validation split, fits personas, and evaluates on the test split next to the
// evaluation tool's baselines with its protocol. Writes the artifact and its model card.
// No torch includes.
#pragma once

#include <string>
#include <vector>

#include "eval/dataset.h"
#include "eval/evaluation.h"
#include "eval/logistic.h"
#include "model/offer_trainer.h"
#include "model/personas.h"

namespace intentstream::model {

struct JourneyRunOptions {
  std::string world_dir;  // intentstream-journeygen --out
  std::string encoder_dir = "models/default";
  std::string out_dir;     // the offer model artifact; empty = not written
  std::string report_dir;  // results.md, calibration files; empty = not written
  // Replayed decision points are kept here and reused while the world, the encoder and
  // the feature layout are the same; empty = no cache.
  std::string cache_path;
  std::string name = "offer";
  std::string command_line;  // recorded in the model card
  eval::ExampleOptions examples;
  eval::TrainOptions baseline_train;
  OfferNetConfig net;
  OfferTrainOptions train;
  PersonaOptions personas;
  bool skip_ablations = false;  // train only the full model
  bool quick = false;           // model rows only: no baselines, personas or artifact
};

struct JourneyResult {
  std::string model_version;
  std::string report;               // markdown: every table
  std::vector<eval::Metrics> rows;  // the main table (threshold 0.5)
};

// Throws std::runtime_error / ModelError with a readable message.
JourneyResult RunJourneys(const JourneyRunOptions& options);

}  // namespace intentstream::model
