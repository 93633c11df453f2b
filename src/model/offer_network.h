// The LibTorch modules of the offer model (offer_model.h describes the network). Internal
// to src/model: includes torch. One set of parameters serves training (all branches,
// for the consistency term) and serving (the ensemble only).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "model/offer_model.h"

namespace intentstream::model {

struct BranchesOut {
  // Ensemble visitor vectors per task: [B, T, D] and visitor offsets [B, T].
  torch::Tensor v, u;
  // Per branch (training only): [M, B, T, D] and [M, B, T].
  torch::Tensor branch_v, branch_u;
};

struct OfferNetImpl : torch::nn::Module {
  // `atoms`: rows of the offer-composition table (offer residuals, intents, kinds,
  // products); each row is [D embedding | T biases].
  OfferNetImpl(int semantic_dim, int structured_dim, int tasks, int atoms,
               const OfferNetConfig& config);

  // Standardised inputs [B, S], [B, X] -> ensemble (and, with `branches`, each branch).
  BranchesOut Visitor(const torch::Tensor& semantic, const torch::Tensor& structured,
                      bool branches);
  // The same from the pre-activations of the two input layers (serving folds the
  // standardisation into them).
  BranchesOut FromInputLayers(const torch::Tensor& semantic_pre,
                              const torch::Tensor& structured_pre, bool branches);
  // The gate's value g for inputs (diagnostics: how much the semantic part is used).
  torch::Tensor Gate(const torch::Tensor& semantic, const torch::Tensor& structured);
  // Offer embeddings [O, D] and biases [O, T] from a composition matrix [O, atoms].
  std::pair<torch::Tensor, torch::Tensor> Offers(const torch::Tensor& composition);
  // Branch mixing weights (softmax, sum to one) [M].
  torch::Tensor Mix();

  int tasks, offer_dim, branches;
  torch::nn::Linear semantic{nullptr}, structured{nullptr}, gate{nullptr};
  torch::nn::Dropout dropout{nullptr};
  std::vector<torch::nn::Linear> fc1, fc2, out;
  torch::Tensor mix_logits;  // [M]
  torch::Tensor atoms;       // [A, D + T]
};
TORCH_MODULE(OfferNet);

// Logits [B, T, O] from visitor vectors and offer embeddings.
torch::Tensor OfferLogits(const torch::Tensor& v, const torch::Tensor& u,
                          const torch::Tensor& offer_embeddings, const torch::Tensor& offer_bias);

// What the model keeps beside its spec.
struct OfferModel::Impl {
  OfferModelSpec spec;
  OfferNet net{nullptr};
  // Composition-table layout: [offers | intents | kinds | products].
  int64_t atom_offers = 0, atom_intents = 0, atom_kinds = 0, atom_products = 0;
  int64_t atom_count() const { return atom_offers + atom_intents + atom_kinds + atom_products; }
  // Composition matrix of a list of offers: known offers by id, the rest cold.
  torch::Tensor Composition(const std::vector<op::OfferDescription>& offers,
                            std::vector<bool>* known) const;
  // The first layers with the input standardisation folded in (serving).
  torch::Tensor semantic_w, semantic_b, structured_w, structured_b;
  void FoldStandardisation();
};

}  // namespace intentstream::model
