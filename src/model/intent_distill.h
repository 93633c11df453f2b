// Distillation of a teacher's session labels into the intent head, end to end, on a
// generated world (the journey generator's --out directory): what tools/distill runs.
// No torch includes.
//
//   1. read the world WITHOUT its truth (eval::Dataset), build every customer's
//      sessions (eval::Timelines: own app events plus linked web history, 30-minute
//      gap), each as the state window of its last event;
//   2. label each session: the rule teacher in-process (default) or a labels file any
//      teacher wrote (teach/labels_file.h, e.g. the LLM teacher's);
//   3. replay every customer through the serving encoder (IncrementalEncoder) and take
//      the session embedding at each session's end (checked against the window the
//      teacher labelled) and at each LOGIN in it (the window a homepage decision sees:
//      the linked pre-login web history and the LOGIN), both with the session's label:
//      from a LOGIN the head learns the intent the session goes on to show;
//   4. train the head on the train period, calibrate it and set its thresholds on the
//      validation period (session ends and LOGINs), measure its agreement with the
//      teacher on the test period, at session ends and at LOGINs;
//   5. write the head's artifact directory with a model card.
// Evaluation against the latent intents is the evaluation tool's job
// (intentstream-evaluate --intent-head), which reads the truth; this never does.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/intent_head_trainer.h"

namespace intentstream::model {

struct DistillOptions {
  std::string data_dir;      // journeygen --out
  std::string encoder_dir;   // session encoder artifact (models/default)
  std::string labels_path;   // teacher labels file; empty: the rule teacher in-process
  std::string out_dir;       // the head's artifact directory
  std::string command_line;  // recorded in the model card
  HeadTrainOptions train;
  int64_t session_gap_ms = 30 * 60 * 1000;
  int max_events = 64;  // the state's window (session.max_events)
  // Train, calibrate and threshold on the LOGIN windows too (false: session ends only,
  // the set-up before; the test period's LOGINs are reported either way).
  bool login_windows = true;
  bool progress = true;
};

struct DistillSplit {
  size_t sessions = 0;
  size_t labelled = 0;   // with a teacher label (all, with the rule teacher)
  size_t agree_top = 0;  // head's top label == teacher's (test split)
  double macro_f1_vs_teacher = 0;
  size_t logins = 0;           // LOGIN windows in labelled sessions
  size_t agree_top_login = 0;  // at those LOGINs (test split)
  double macro_f1_vs_teacher_login = 0;
};

struct DistillReport {
  std::string head_version;
  std::string encoder_version;
  std::string teacher;
  std::array<DistillSplit, 3> splits{};  // train, validation, test
  std::vector<std::string> intents;
  std::vector<size_t> train_positives;
  std::vector<double> ece_raw, ece_calibrated, ece_test;
  HeadTrainReport train;
  double embed_seconds = 0;
  std::string card;  // the model card's text
};

// What the replay collects (steps 1-3): examples per period, session ends and LOGINs.
struct DistillExamples {
  std::array<std::vector<HeadExample>, 3> examples;  // train, validation, test
  IntentHeadConfig config;                // encoder, taxonomy, teacher, sizes, intents; untrained
  DistillReport report;                   // filled up to the training
  std::map<std::string, size_t> sources;  // label source -> sessions
};

// Throws std::runtime_error (or ModelError) with a readable message.
DistillExamples CollectDistillExamples(const DistillOptions& options);
// Steps 4-5 on collected examples; writes the artifact unless options.out_dir is empty.
// `head` (if set) receives the trained head.
DistillReport TrainDistilledHead(const DistillOptions& options, const DistillExamples& data,
                                 std::shared_ptr<IntentHead>* head = nullptr);
// Both.
DistillReport DistillIntentHead(const DistillOptions& options);

}  // namespace intentstream::model
