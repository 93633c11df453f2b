#include "model/weights_file.h"

#include <filesystem>

#include "model/tokenizer.h"

namespace intentstream::model {

NamedTensors NamedParameters(const torch::nn::Module& module, const std::string& prefix) {
  NamedTensors out;
  for (const auto& p : module.named_parameters()) out.emplace_back(prefix + p.key(), p.value());
  return out;
}

std::string ShapeString(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

void LoadWeights(const std::string& path, const NamedTensors& params,
                 const std::string& missing_hint, const std::string& shapes_from) {
  if (!std::filesystem::exists(path)) throw ModelError(path + ": weights file not found");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error& e) {
    throw ModelError(path + ": cannot read weights: " + e.what_without_backtrace());
  }
  torch::NoGradGuard no_grad;
  for (const auto& [name, param] : params) {
    torch::Tensor stored;
    if (!archive.try_read(name, stored)) {
      throw ModelError(path + ": tensor '" + name + "' missing (" + missing_hint + ")");
    }
    if (!stored.sizes().equals(param.sizes())) {
      throw ModelError(path + ": tensor '" + name + "' has shape " + ShapeString(stored) + " but " +
                       shapes_from + " " + ShapeString(param));
    }
    // `param` shares storage with the module's parameter.
    torch::Tensor target = param;
    target.copy_(stored);
  }
}

void SaveWeights(const std::string& path, const NamedTensors& params) {
  torch::serialize::OutputArchive archive;
  for (const auto& [name, param] : params) archive.write(name, param.detach());
  archive.save_to(path);
}

}  // namespace intentstream::model
