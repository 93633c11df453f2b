// The intent head's LibTorch module. Internal to src/model: included by the head's
// implementation and its trainer only.
#pragma once

#include <torch/torch.h>

#include "model/intent_head.h"

namespace intentstream::model {

struct IntentHeadNetImpl : torch::nn::Module {
  IntentHeadNetImpl(int embedding_dim, int hidden, int intents);
  torch::Tensor forward(const torch::Tensor& embeddings);  // [N, d] -> logits [N, K]

  torch::nn::Linear fc1{nullptr};
  torch::nn::Linear fc2{nullptr};
};
TORCH_MODULE(IntentHeadNet);

struct IntentHead::Impl {
  IntentHeadConfig config;
  IntentHeadNet net{nullptr};
};

}  // namespace intentstream::model
