// The LibTorch modules of the session model. Internal to src/model: the only header
// that includes torch. One set of parameters serves the full causal forward (training,
// reference) and the incremental serving path (incremental_encoder.cc reads the same
// tensors).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "model/model.h"

namespace intentstream::model {

// Embedding tables: one per field, except that the four query slots share one table.
constexpr int kNumTables = kNumFields - kNumQuerySlots + 1;
int TableOfField(int field);

// Pre-norm causal self-attention block. The attention is written out from Linear layers
// (qkv packed as [q | k | v], heads contiguous within each) so the serving path can
// compute one position at a time against cached keys and values.
struct BlockImpl : torch::nn::Module {
  BlockImpl(int d_model, int heads, int ffn);
  torch::Tensor forward(const torch::Tensor& x);  // [B, T, d] -> [B, T, d]

  int heads;
  double dropout = 0;  // on each residual branch, in training mode only
  torch::nn::LayerNorm ln1{nullptr};
  torch::nn::Linear qkv{nullptr};
  torch::nn::Linear proj{nullptr};
  torch::nn::LayerNorm ln2{nullptr};
  torch::nn::Linear fc1{nullptr};
  torch::nn::Linear fc2{nullptr};
};
TORCH_MODULE(Block);

struct EncoderNetImpl : torch::nn::Module {
  EncoderNetImpl(const EncoderConfig& config, const FieldSizes& sizes);
  // tokens: int64 [B, T, kNumFields] -> token + position embeddings [B, T, d].
  torch::Tensor Embed(const torch::Tensor& tokens);
  // Causal encoder output after the final LayerNorm, [B, T, d].
  torch::Tensor forward(const torch::Tensor& tokens);
  // Dropout on the token embeddings and each block's residual branches while training
  // (train() mode); serving and evaluation (eval() mode) never drop.
  void set_dropout(double p);
  double dropout = 0;

  std::vector<torch::nn::Embedding> tables;
  torch::nn::Embedding position{nullptr};
  std::vector<Block> blocks;
  torch::nn::LayerNorm ln_f{nullptr};
};
TORCH_MODULE(EncoderNet);

// Self-supervised heads: next-event fields and masked fields. The next-category head is
// either its own Linear layer or tied to the category embedding table (logits = h E^T +
// a bias per category; EncoderConfig::tied_category_head), so that the items the encoder
// reads and the items it predicts live in one space.
struct HeadsImpl : torch::nn::Module {
  HeadsImpl(int d_model, const FieldSizes& sizes, bool tied_category);
  // Next-category logits of encoder outputs h [..., d] -> [..., categories].
  torch::Tensor NextCategory(const torch::Tensor& h, const EncoderNetImpl& net);

  torch::nn::Linear next_category{nullptr};  // null when tied
  torch::Tensor next_category_bias;          // defined when tied
  torch::nn::Linear next_product{nullptr}, next_type{nullptr};
  torch::nn::Linear mask_category{nullptr}, mask_product{nullptr}, mask_type{nullptr};
};
TORCH_MODULE(Heads);

struct SessionModel::Impl {
  ModelConfig config;
  Tokenizer tokenizer;
  EncoderNet net{nullptr};
  Heads heads{nullptr};
};

// [T, kNumFields] int64 tensor of a token sequence.
torch::Tensor TokensToTensor(const std::vector<Token>& tokens);

}  // namespace intentstream::model
