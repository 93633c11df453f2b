// A model's weights.pt: named tensors in a LibTorch archive. One reader and writer for
// the session encoder, the intent head and the offer model, so every artifact fails the
// same way (file, tensor, shape) when it does not fit its configuration.
// Internal to src/model (includes LibTorch).
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace intentstream::model {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// A module's parameters by name, each name after `prefix`.
NamedTensors NamedParameters(const torch::nn::Module& module, const std::string& prefix = "");

// "[128, 64]".
std::string ShapeString(const torch::Tensor& t);

// Copies every tensor of `params` from the archive at `path` (no gradient). Throws
// ModelError: the file is missing or unreadable, a tensor is missing ("... missing
// (`missing_hint`)"), or its shape differs from what `shapes_from` gives.
void LoadWeights(const std::string& path, const NamedTensors& params,
                 const std::string& missing_hint, const std::string& shapes_from);

void SaveWeights(const std::string& path, const NamedTensors& params);

}  // namespace intentstream::model
