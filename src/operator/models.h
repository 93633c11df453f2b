// Seams for the learned models the decision stage can use, so it depends on no model
// library: the distilled intent head and the offer propensity model are implemented in
// src/model (LibTorch) and handed to the decision operator by the program's main.
// Without them the operator falls back to rule-based intent scores and online Beta
// posteriors (decide/).
#pragma once

#include <cstdint>
#include <memory>
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

// What a catalogue says about one offer: enough for a model to place an offer it was
// never trained on (cold start) by the intents and the product it serves.
struct OfferDescription {
  std::string id;
  std::vector<std::string> intents;  // taxonomy ids
  std::string product;               // product code, "" for a service offer
  std::string product_kind;          // the product's kind ("mortgage", ...), "" if none
};

// What one catalogue version feeds the model: the offers (rows of
// PropensityRequest::offers) and the order of the feature vectors it will pass.
struct ScoringLayout {
  std::vector<OfferDescription> offers;
  std::vector<std::string> intents;           // order of PropensityRequest::intents
  std::vector<std::string> profile_features;  // decide::FeatureBuilder::profile_names()
  std::vector<std::string> session_features;  // decide::FeatureBuilder::session_names()
};

// A model's view of one ScoringLayout (offer representations, feature mappings),
// made once per catalogue version. Opaque; immutable; shareable across threads.
class PreparedLayout {
 public:
  virtual ~PreparedLayout() = default;
};

// One visitor x its candidate offers: what the offer model needs.
struct PropensityRequest {
  std::span<const float> embedding;  // the session embedding (may be empty)
  std::span<const float> intents;    // intent scores in ScoringLayout::intents order
  std::span<const float> profile;    // FeatureBuilder::Profile
  std::span<const float> session;    // FeatureBuilder::Session
  std::span<const int> offers;       // rows of ScoringLayout::offers to score
  std::span<float> out;              // calibrated P(accept | shown) per offer; -1 where none
  int persona = -1;                  // out: the visitor's persona index, -1 if none
};

// Calibrated acceptance probabilities of offers for visitors, batched: the visitor-side
// part of the model runs once per request, each offer adds only its own small part.
// Thread-safety: const methods may be called from several threads.
class PropensityModel {
 public:
  virtual ~PropensityModel() = default;
  virtual std::string version() const = 0;
  // Persona names, indexed like PropensityRequest::persona.
  virtual const std::vector<std::string>& personas() const = 0;
  // Offers the model was trained on (others get the cold-start estimate).
  virtual bool Knows(const std::string& offer_id) const = 0;
  // Called when a catalogue version is installed, before requests name its offers.
  virtual std::shared_ptr<const PreparedLayout> Prepare(const ScoringLayout& layout) const = 0;
  // `layout` must come from this model's Prepare.
  virtual void Score(const PreparedLayout& layout, std::span<PropensityRequest> batch) const = 0;
};

}  // namespace intentstream::op
