#include "model/intent_head.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/config.h"
#include "common/hash.h"
#include "model/intent_head_net.h"
#include "model/tokenizer.h"
#include "model/weights_file.h"

namespace intentstream::model {

namespace {

// The hot loops are compiled for several x86 instruction sets, as the encoder's are.
#if defined(__x86_64__) && defined(__GNUC__)
#define INTENTSTREAM_HEAD_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define INTENTSTREAM_HEAD_MULTIVERSION
#endif

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string JoinFloats(const std::vector<float>& v) {
  std::string out;
  char buf[32];
  for (size_t i = 0; i < v.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v[i]));
    if (i > 0) out += ',';
    out += buf;
  }
  return out;
}

class Keys {
 public:
  Keys(std::string path, std::map<std::string, std::string> kv)
      : path_(std::move(path)), kv_(std::move(kv)) {}
  const std::string& Str(const std::string& key) const {
    const auto it = kv_.find(key);
    if (it == kv_.end()) throw ModelError(path_ + ": missing key '" + key + "'");
    return it->second;
  }
  std::string Optional(const std::string& key) const {
    const auto it = kv_.find(key);
    return it == kv_.end() ? "" : it->second;
  }
  int64_t Int(const std::string& key, int64_t min, int64_t max) const {
    const std::string& v = Str(key);
    char* end = nullptr;
    const long long x = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || end != v.c_str() + v.size() || x < min || x > max) {
      throw ModelError(path_ + ": key '" + key + "': expected an integer in [" +
                       std::to_string(min) + ", " + std::to_string(max) + "], got '" + v + "'");
    }
    return x;
  }
  std::vector<float> Floats(const std::string& key, size_t n) const {
    std::vector<float> out;
    for (const auto& item : SplitList(Str(key))) {
      char* end = nullptr;
      const float x = std::strtof(item.c_str(), &end);
      if (end != item.c_str() + item.size() || !std::isfinite(x)) {
        throw ModelError(path_ + ": key '" + key + "': not a number: '" + item + "'");
      }
      out.push_back(x);
    }
    if (out.size() != n) {
      throw ModelError(path_ + ": key '" + key + "' has " + std::to_string(out.size()) +
                       " values for " + std::to_string(n) + " intents");
    }
    return out;
  }

 private:
  std::string path_;
  std::map<std::string, std::string> kv_;
};

NamedTensors Parameters(IntentHeadNet& net) {
  return NamedParameters(*net);
}

// y[o] = b[o] + sum_i w[o * in + i] * x[i]  (torch's Linear: weight [out, in]).
INTENTSTREAM_HEAD_MULTIVERSION void Affine(const float* w, const float* b, const float* x,
                                           int64_t in, int64_t out, float* y) {
  for (int64_t o = 0; o < out; ++o) {
    const float* row = w + o * in;
    float s = 0.0f;
    for (int64_t i = 0; i < in; ++i) s += row[i] * x[i];
    y[o] = s + b[o];
  }
}

float Gelu(float x) {
  return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
}

void Normalise(IntentHeadConfig& c) {
  const size_t k = c.intents.size();
  if (c.calibration_a.size() != k) c.calibration_a.assign(k, 1.0f);
  if (c.calibration_b.size() != k) c.calibration_b.assign(k, 0.0f);
  if (c.threshold.size() != k) c.threshold.assign(k, 0.5f);
}

}  // namespace

IntentHeadNetImpl::IntentHeadNetImpl(int embedding_dim, int hidden, int intents) {
  fc1 = register_module("fc1", torch::nn::Linear(embedding_dim, hidden));
  fc2 = register_module("fc2", torch::nn::Linear(hidden, intents));
}

torch::Tensor IntentHeadNetImpl::forward(const torch::Tensor& embeddings) {
  return fc2(torch::gelu(fc1(embeddings)));
}

IntentHead::IntentHead(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IntentHead::~IntentHead() = default;

std::shared_ptr<IntentHead> IntentHead::Create(IntentHeadConfig config) {
  if (config.embedding_dim < 1 || config.hidden < 1 || config.intents.empty()) {
    throw ModelError("intent head: embedding_dim, hidden and intents must be set");
  }
  Normalise(config);
  torch::manual_seed(config.seed);
  auto impl = std::make_unique<Impl>();
  impl->net =
      IntentHeadNet(config.embedding_dim, config.hidden, static_cast<int>(config.intents.size()));
  impl->net->eval();
  impl->config = std::move(config);
  return std::shared_ptr<IntentHead>(new IntentHead(std::move(impl)));
}

std::shared_ptr<IntentHead> IntentHead::Load(const std::string& dir) {
  const std::string config_path = dir + "/config.txt";
  std::map<std::string, std::string> kv;
  std::string error;
  if (!ReadKeyValueLines(config_path, &kv, &error)) throw ModelError(error);
  const Keys keys(config_path, kv);
  if (keys.Int("format", 0, 1'000'000) != kIntentHeadFormat) {
    throw ModelError(config_path + ": key 'format': this build reads format " +
                     std::to_string(kIntentHeadFormat));
  }
  if (keys.Str("kind") != "intent_head") {
    throw ModelError(config_path + ": key 'kind': '" + keys.Str("kind") +
                     "' is not an intent head (is this the encoder's directory?)");
  }
  IntentHeadConfig c;
  c.version = keys.Str("version");
  c.encoder_version = keys.Str("encoder_version");
  c.taxonomy_version = keys.Optional("taxonomy_version");
  c.teacher = keys.Optional("teacher");
  c.embedding_dim = static_cast<int>(keys.Int("embedding_dim", 1, 65536));
  c.hidden = static_cast<int>(keys.Int("hidden", 1, 65536));
  c.intents = SplitList(keys.Str("intents"));
  if (c.intents.empty()) throw ModelError(config_path + ": key 'intents' is empty");
  c.default_intent = keys.Optional("default_intent");
  c.calibration_a = keys.Floats("calibration_a", c.intents.size());
  c.calibration_b = keys.Floats("calibration_b", c.intents.size());
  c.threshold = keys.Floats("threshold", c.intents.size());
  c.seed = static_cast<uint64_t>(keys.Int("seed", 0, INT64_MAX));
  auto head = Create(c);
  LoadWeights(dir + "/weights.pt", Parameters(head->impl_->net), "not an intent head's weights",
              config_path + " gives");
  head->impl_->config.version = c.version;
  return head;
}

void IntentHead::Save(const std::string& dir) {
  std::filesystem::create_directories(dir);
  const std::string weights = dir + "/weights.pt";
  SaveWeights(weights, Parameters(impl_->net));
  auto& c = impl_->config;
  const auto body = [&] {
    std::ostringstream o;
    o << "encoder_version = " << c.encoder_version << "\n"
      << "taxonomy_version = " << c.taxonomy_version << "\n"
      << "teacher = " << c.teacher << "\n"
      << "embedding_dim = " << c.embedding_dim << "\n"
      << "hidden = " << c.hidden << "\n"
      << "intents = ";
    for (size_t i = 0; i < c.intents.size(); ++i) o << (i ? "," : "") << c.intents[i];
    o << "\ndefault_intent = " << c.default_intent << "\n"
      << "calibration_a = " << JoinFloats(c.calibration_a) << "\n"
      << "calibration_b = " << JoinFloats(c.calibration_b) << "\n"
      << "threshold = " << JoinFloats(c.threshold) << "\n"
      << "seed = " << c.seed << "\n";
    return o.str();
  }();
  if (c.version == "untrained") {
    std::ifstream w(weights, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(w)), std::istreambuf_iterator<char>());
    char buf[24];
    std::snprintf(buf, sizeof buf, "%08llx",
                  static_cast<unsigned long long>(Fnv1a64(bytes + body) & 0xffffffffull));
    c.version = std::string("intent-head-") + buf;
  }
  std::ofstream out(dir + "/config.txt", std::ios::trunc);
  out << "# intentstream intent head (docs/intents.md)\n"
      << "format = " << kIntentHeadFormat << "\n"
      << "kind = intent_head\n"
      << "version = " << c.version << "\n"
      << body;
  if (!out) throw ModelError(dir + "/config.txt: cannot write");
}

std::string IntentHead::version() const {
  return impl_->config.version;
}
const std::vector<std::string>& IntentHead::intents() const {
  return impl_->config.intents;
}
size_t IntentHead::embedding_dim() const {
  return static_cast<size_t>(impl_->config.embedding_dim);
}
const IntentHeadConfig& IntentHead::config() const {
  return impl_->config;
}

void IntentHead::SetCalibration(std::vector<float> a, std::vector<float> b,
                                std::vector<float> threshold) {
  impl_->config.calibration_a = std::move(a);
  impl_->config.calibration_b = std::move(b);
  impl_->config.threshold = std::move(threshold);
  Normalise(impl_->config);
}

size_t IntentHead::parameter_count() const {
  size_t n = 0;
  for (const auto& p : impl_->net->parameters()) n += static_cast<size_t>(p.numel());
  return n;
}

void IntentHead::Logits(std::span<const float> embeddings, size_t n, std::span<float> out) const {
  auto& net = *impl_->net;
  const int64_t d = impl_->config.embedding_dim;
  const int64_t h = impl_->config.hidden;
  const auto k = static_cast<int64_t>(impl_->config.intents.size());
  const float* w1 = net.fc1->weight.data_ptr<float>();
  const float* b1 = net.fc1->bias.data_ptr<float>();
  const float* w2 = net.fc2->weight.data_ptr<float>();
  const float* b2 = net.fc2->bias.data_ptr<float>();
  std::vector<float> hidden(static_cast<size_t>(h));
  for (size_t r = 0; r < n; ++r) {
    Affine(w1, b1, embeddings.data() + static_cast<int64_t>(r) * d, d, h, hidden.data());
    for (float& x : hidden) x = Gelu(x);
    Affine(w2, b2, hidden.data(), h, k, out.data() + static_cast<int64_t>(r) * k);
  }
}

void IntentHead::Score(std::span<const float> embeddings, size_t n, std::span<float> out) const {
  Logits(embeddings, n, out);
  const auto& c = impl_->config;
  const size_t k = c.intents.size();
  for (size_t r = 0; r < n; ++r) {
    for (size_t j = 0; j < k; ++j) {
      float& z = out[r * k + j];
      z = 1.0f / (1.0f + std::exp(-(c.calibration_a[j] * z + c.calibration_b[j])));
    }
  }
}

std::vector<int> IntentHead::Labels(std::span<const float> p) const {
  const auto& c = impl_->config;
  std::vector<std::pair<float, int>> over;
  int fallback = -1;
  for (size_t j = 0; j < c.intents.size() && j < p.size(); ++j) {
    if (c.intents[j] == c.default_intent) {
      fallback = static_cast<int>(j);
      continue;
    }
    const float margin = p[j] - c.threshold[j];
    if (margin >= 0) over.emplace_back(margin, static_cast<int>(j));
  }
  std::sort(over.begin(), over.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<int> out;
  for (const auto& [m, j] : over) out.push_back(j);
  if (out.empty() && fallback >= 0) out.push_back(fallback);
  return out;
}

}  // namespace intentstream::model
