// Seams for the learned models the decision stage can use, so it depends on no model
// library: the distilled intent head and the offer propensity model are implemented in
// src/model (LibTorch) and handed to the decision operator by the program's main.
// Without them the operator falls back to rule-based intent scores and online Beta
// posteriors (decide/).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "intentstream/v1/state.pb.h"

namespace intentstream::op {

// Multi-label intent scores from a visitor's session embedding.
class IntentModel {
 public:
  virtual ~IntentModel() = default;
  virtual std::string version() const = 0;
  // Taxonomy ids of the outputs, in output order.
  virtual const std::vector<std::string>& intents() const = 0;
  // `embeddings`: n rows of embedding_dim() floats; `out`: n rows of intents().size()
  // calibrated probabilities.
  virtual size_t embedding_dim() const = 0;
  virtual void Score(std::span<const float> embeddings, size_t n, std::span<float> out) const = 0;
};

// One visitor x its candidate offers: what the offer model needs.
struct PropensityRequest {
  std::span<const float> embedding;            // the session embedding (may be empty)
  std::span<const float> intents;              // intent scores in the model's taxonomy order
  std::span<const float> profile;              // FeatureBuilder::Profile
  std::span<const float> session;              // FeatureBuilder::Session
  std::span<const std::string* const> offers;  // offer ids to score
  std::span<float> out;                        // calibrated P(accept | shown), one per offer
  int persona = -1;                            // out: the visitor's persona index, -1 if none
};

// Calibrated acceptance probabilities of offers for visitors, batched.
class PropensityModel {
 public:
  virtual ~PropensityModel() = default;
  virtual std::string version() const = 0;
  // Persona names, indexed like PropensityRequest::persona.
  virtual const std::vector<std::string>& personas() const = 0;
  // Offers the model was trained on (others get the cold-start estimate or none).
  virtual bool Knows(const std::string& offer_id) const = 0;
  virtual void Score(std::span<PropensityRequest> batch) const = 0;
};

}  // namespace intentstream::op
