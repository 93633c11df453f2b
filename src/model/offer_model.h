// Front door of the offer propensity model: P(accept | shown) of candidate offers for a
// visitor, from the session embedding (and the intent scores) fused with structured
// profile and session features (docs/offer-model.md). No torch includes (pimpl); the
// processor includes this, the trainer (offer_trainer.h) builds it.
//
// The network (offer_network.h), one definition for training and serving:
//   semantic part    h_s = GELU(W_s [embedding; intents] + b_s)
//   structured part  h_x = GELU(W_x [profile; session] + b_x)
//   gate             g = sigmoid(W_g [h_s; h_x] + b_g),  h = g * h_s + (1 - g) * h_x
//   M branches       r_m = h + W2_m GELU(W1_m h)  (residual),  v_m = A_m r_m
//   ensemble         v = sum_m a_m v_m, a = softmax(learned), so the weights sum to one
//   per offer o      logit = v . e_o + u + c_o,  one such head per task (click, convert)
// The visitor side (everything up to v) runs once per decision; an offer adds one dot
// product. An offer's embedding e_o and bias c_o are composed from the intents it
// serves, its product's kind and its product (shared, learned with the model) plus an
// offer's own residual when it was trained on; an offer added later (no history) gets
// the composition alone: its cold-start estimate, the similarity of the visitor's
// vector to the embedding of what the offer serves. Task 0 is served, Platt-calibrated.
//
// Thread-safety: a loaded OfferModel is immutable; its const methods may be called from
// several threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/calibration.h"
#include "model/personas.h"
#include "operator/models.h"

namespace intentstream::model {

inline constexpr int kOfferArtifactFormat = 1;

struct OfferNetConfig {
  int hidden = 64;         // width of h_s, h_x and h
  int branches = 4;        // M
  int branch_hidden = 64;  // width inside a branch
  int offer_dim = 32;      // width of e_o (and of each task's v)
  // Throws ModelError naming the key when a value is out of range.
  void Validate(const std::string& where) const;
};

// A named input block and its standardisation (fitted on the training rows).
struct InputBlock {
  std::vector<std::string> names;
  std::vector<float> mean, sd;
  size_t size() const { return names.size(); }
};

struct OfferModelSpec {
  std::string mode = "journeys";  // or "tabular"
  std::string model_version = "untrained";
  std::string encoder_version;  // session encoder the embeddings came from; "" for none
  size_t embedding_dim = 0;     // semantic names "embedding[i]" first, then "intent=<id>"
  InputBlock semantic, structured;
  std::vector<std::string> tasks = {"click"};         // task 0 is served
  std::vector<op::OfferDescription> offers;           // offers trained on
  std::vector<std::string> intents, kinds, products;  // what offer embeddings compose from
  OfferNetConfig net;
  uint64_t seed = 7;
  std::vector<PlattScaling> calibration;  // per task (identity until fitted)
  PersonaSet personas;
};

// Visitors' model inputs in the model's own layout (semantic and structured names),
// raw (the model standardises).
struct OfferInputs {
  size_t rows = 0;
  std::vector<float> semantic;    // rows x spec.semantic.size()
  std::vector<float> structured;  // rows x spec.structured.size()
};

class OfferModel final : public op::PropensityModel {
 public:
  // Reads an artifact directory: offer_model.txt, offers.tsv, inputs.tsv, personas.txt,
  // offer_weights.pt. Throws ModelError naming the file and key.
  static std::shared_ptr<OfferModel> Load(const std::string& dir);
  // Fresh weights drawn from spec.seed (training and tests).
  static std::shared_ptr<OfferModel> Create(OfferModelSpec spec);
  ~OfferModel() override;
  OfferModel(const OfferModel&) = delete;
  OfferModel& operator=(const OfferModel&) = delete;

  // Writes the artifact (not the model card).
  void Save(const std::string& dir) const;
  const OfferModelSpec& spec() const;
  // For the trainer: calibration, personas and the version are set after training.
  OfferModelSpec& mutable_spec();

  // Offline scoring: calibrated probabilities [rows x tasks x offers] of the prepared
  // layout's offers, for inputs in the model's layout. `raw_logits` (optional) gets the
  // uncalibrated ensemble logits in the same shape.
  std::vector<float> Predict(const OfferInputs& inputs, const op::PreparedLayout& layout,
                             std::vector<float>* raw_logits = nullptr) const;
  // A layout of the trained offers only, in spec().offers order, with the model's own
  // feature layout (offline evaluation and training).
  std::shared_ptr<const op::PreparedLayout> PrepareTrained() const;
  // Persona of a row in the model's layout (-1 without personas).
  int PersonaOf(std::span<const float> semantic, std::span<const float> structured) const;

  // op::PropensityModel
  std::string version() const override;
  const std::vector<std::string>& personas() const override;
  bool Knows(const std::string& offer_id) const override;
  std::shared_ptr<const op::PreparedLayout> Prepare(const op::ScoringLayout& layout) const override;
  void Score(const op::PreparedLayout& layout,
             std::span<op::PropensityRequest> batch) const override;

  // Multiply-adds of the visitor-side part per decision and per scored offer (for the
  // bench's GFLOP/s).
  int64_t VisitorMacs() const;
  int64_t OfferMacs() const;

  struct Impl;
  Impl& impl() const { return *impl_; }

 private:
  explicit OfferModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The serving layout of a catalogue-like list of offers in the spec's own feature
// order (tests and tools that have no decide::FeatureBuilder at hand).
op::ScoringLayout LayoutOf(const OfferModelSpec& spec, std::vector<op::OfferDescription> offers);

}  // namespace intentstream::model
