// The distilled intent head: multi-label intent probabilities from a visitor's session
// embedding, trained on a teacher's session labels (src/teach, intent_distill.h) and
// served by the processor through op::IntentModel on every embedding update, in the
// same step and thread as the encoder.
//
// Network: embedding (d) -> Linear(d, hidden) -> GELU -> Linear(hidden, intents)
// -> per-intent Platt calibration p = sigmoid(a * logit + b), fitted on held-out
// sessions. One set of parameters (a LibTorch module, intent_head_net.h) serves
// training and serving; serving reads the module's tensors with plain loops, which
// equal the module's forward to float tolerance (tests/model/intent_head_test.cc).
//
// Artifact: a directory of its own (models/intent-head by default), next to no other
// model's files:
//   config.txt     key = value: format, kind, version, the encoder version whose
//                  embeddings it reads, taxonomy version, teacher, sizes, intent ids,
//                  calibration (a, b) and decision thresholds per intent
//   weights.pt     LibTorch archive of the two layers
//   model_card.md  data, training, calibration and evaluation figures
// No torch includes. A loaded head is immutable; Score may run on several threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "operator/models.h"

namespace intentstream::model {

inline constexpr int kIntentHeadFormat = 1;

struct IntentHeadConfig {
  std::string version = "untrained";
  std::string encoder_version;   // the session encoder whose embeddings it was trained on
  std::string taxonomy_version;  // the taxonomy its labels come from
  std::string teacher;           // who labelled its training sessions ("rules-v2", ...)
  int embedding_dim = 64;
  int hidden = 64;
  std::vector<std::string> intents;  // taxonomy ids, output order
  std::string default_intent;        // the taxonomy's default label, "" if none
  std::vector<float> calibration_a;  // per intent; 1 = none
  std::vector<float> calibration_b;  // per intent; 0 = none
  std::vector<float> threshold;      // per intent: a label from this probability
  uint64_t seed = 7;
};

class IntentHead final : public op::IntentModel {
 public:
  // Reads an artifact directory. Throws ModelError (model/tokenizer.h) naming the file
  // and key when the config and the weights disagree.
  static std::shared_ptr<IntentHead> Load(const std::string& dir);
  // Fresh weights drawn from config.seed (calibration and thresholds default when empty).
  static std::shared_ptr<IntentHead> Create(IntentHeadConfig config);
  ~IntentHead() override;
  IntentHead(const IntentHead&) = delete;
  IntentHead& operator=(const IntentHead&) = delete;

  // Writes config.txt and weights.pt (not the model card); sets the version from a digest
  // of both when it is "untrained".
  void Save(const std::string& dir);

  // op::IntentModel: calibrated probabilities, n rows of intents().size().
  std::string version() const override;
  const std::vector<std::string>& intents() const override;
  size_t embedding_dim() const override;
  void Score(std::span<const float> embeddings, size_t n, std::span<float> out) const override;

  // Logits before calibration (the same arithmetic, for training and tests).
  void Logits(std::span<const float> embeddings, size_t n, std::span<float> out) const;
  // Labels of one row of probabilities: intents at or above their threshold by margin,
  // else the default label (as the teacher does). Indexes into intents().
  std::vector<int> Labels(std::span<const float> probabilities) const;
  // Parameters (weights and biases) of the network.
  size_t parameter_count() const;

  const IntentHeadConfig& config() const;
  void SetCalibration(std::vector<float> a, std::vector<float> b, std::vector<float> threshold);

  struct Impl;
  Impl& impl() const { return *impl_; }

 private:
  explicit IntentHead(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace intentstream::model
