// The model's hyper-parameters and the artifact directory layout.
//
// An artifact is a directory:
//   config.txt       key = value: format, sizes, window policy, vocabulary sizes and digests
//   category.vocab   product.vocab   channel.vocab   (value<TAB>count, id order)
//   path_rules.txt   category rules used by the tokenizer
//   weights.pt       LibTorch archive of the encoder and its training heads
//   model_card.md    training data summary and evaluation figures
// No torch includes.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "model/tokenizer.h"

namespace intentstream::model {

// 2: config.txt gained next_category_head (the training head's layout in weights.pt).
constexpr int kArtifactFormat = 2;

struct EncoderConfig {
  int d_model = 64;       // embedding width
  int layers = 2;         // Transformer blocks
  int heads = 4;          // attention heads; d_model must divide evenly
  int ffn = 128;          // feed-forward width
  int window = 64;        // events encoded per visitor (positions)
  int window_stride = 8;  // anchor spacing of the window policy (tokenizer.h)
  // Training head only (serving reads the encoder): the next-category logits are the
  // encoder output times the category embedding table (true) or a Linear layer (false).
  bool tied_category_head = true;

  // Throws ModelError naming the key when a value is out of range.
  void Validate(const std::string& where) const;
};

struct ModelConfig {
  EncoderConfig encoder;
  TokenizerConfig tokenizer;
  std::string model_version = "untrained";
  uint64_t seed = 0;
};

// Reads config.txt, vocabularies and path rules of `dir` and checks that they agree
// (vocabulary sizes and digests). Throws ModelError naming the file and key.
struct LoadedArtifact {
  ModelConfig config;
  Tokenizer tokenizer;
};
LoadedArtifact LoadArtifactText(const std::string& dir);
// Writes config.txt, vocabularies and path rules.
void SaveArtifactText(const std::string& dir, const ModelConfig& config,
                      const Tokenizer& tokenizer);

// key = value file helpers (shared with the model card writer).
std::map<std::string, std::string> ReadKeyValueFile(const std::string& path);

}  // namespace intentstream::model
