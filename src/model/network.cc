#include "model/network.h"

#include <cmath>
#include <filesystem>

#include "model/weights_file.h"

namespace intentstream::model {

int TableOfField(int field) {
  if (field < kFieldQuery0) return field;
  if (field < kFieldQuery0 + kNumQuerySlots) return kFieldQuery0;
  return field - kNumQuerySlots + 1;
}

BlockImpl::BlockImpl(int d_model, int heads_, int ffn) : heads(heads_) {
  ln1 = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d_model})));
  qkv = register_module("qkv", torch::nn::Linear(d_model, 3 * d_model));
  proj = register_module("proj", torch::nn::Linear(d_model, d_model));
  ln2 = register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d_model})));
  fc1 = register_module("fc1", torch::nn::Linear(d_model, ffn));
  fc2 = register_module("fc2", torch::nn::Linear(ffn, d_model));
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x) {
  const int64_t b = x.size(0);
  const int64_t t = x.size(1);
  const int64_t d = x.size(2);
  const int64_t dh = d / heads;
  // [B, T, 3, H, dh] -> [3, B, H, T, dh]
  const auto packed = qkv(ln1(x)).view({b, t, 3, heads, dh}).permute({2, 0, 3, 1, 4});
  const auto q = packed[0];
  const auto k = packed[1];
  const auto v = packed[2];
  auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(dh));
  const auto future =
      torch::ones({t, t}, torch::TensorOptions().dtype(torch::kBool)).triu(/*diagonal=*/1);
  scores = scores.masked_fill(future, -std::numeric_limits<float>::infinity());
  const auto attended = torch::matmul(torch::softmax(scores, -1), v)  // [B, H, T, dh]
                            .permute({0, 2, 1, 3})
                            .reshape({b, t, d});
  const bool drop = is_training() && dropout > 0;
  auto y = x + (drop ? torch::dropout(proj(attended), dropout, true) : proj(attended));
  const auto f = fc2(torch::gelu(fc1(ln2(y))));
  return y + (drop ? torch::dropout(f, dropout, true) : f);
}

EncoderNetImpl::EncoderNetImpl(const EncoderConfig& c, const FieldSizes& sizes) {
  for (int table = 0; table < kNumTables; ++table) {
    int field = table;
    if (table > kFieldQuery0) field = table + kNumQuerySlots - 1;
    auto opts = torch::nn::EmbeddingOptions(sizes.size[field], c.d_model);
    // Empty query slots must add nothing, so that term order and count don't leak.
    if (table == kFieldQuery0) opts.padding_idx(0);
    auto e = register_module("field" + std::to_string(table), torch::nn::Embedding(opts));
    {
      torch::NoGradGuard no_grad;
      e->weight.normal_(0.0, 0.1);
      if (table == kFieldQuery0) e->weight[0].zero_();
    }
    tables.push_back(e);
  }
  position = register_module("position", torch::nn::Embedding(c.window, c.d_model));
  {
    torch::NoGradGuard no_grad;
    position->weight.normal_(0.0, 0.1);
  }
  for (int l = 0; l < c.layers; ++l) {
    blocks.push_back(
        register_module("block" + std::to_string(l), Block(c.d_model, c.heads, c.ffn)));
  }
  ln_f = register_module("ln_f", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.d_model})));
}

torch::Tensor EncoderNetImpl::Embed(const torch::Tensor& tokens) {
  const int64_t t = tokens.size(1);
  auto x = position(torch::arange(t, torch::kLong)).unsqueeze(0);
  for (int f = 0; f < kNumFields; ++f) x = x + tables[TableOfField(f)](tokens.select(2, f));
  return x;
}

void EncoderNetImpl::set_dropout(double p) {
  dropout = p;
  for (auto& block : blocks) block->dropout = p;
}

torch::Tensor EncoderNetImpl::forward(const torch::Tensor& tokens) {
  auto x = Embed(tokens);
  if (is_training() && dropout > 0) x = torch::dropout(x, dropout, true);
  for (auto& block : blocks) x = block(x);
  return ln_f(x);
}

HeadsImpl::HeadsImpl(int d, const FieldSizes& s, bool tied_category) {
  if (tied_category) {
    next_category_bias =
        register_parameter("next_category_bias", torch::zeros({s.size[kFieldCategory]}));
  } else {
    next_category = register_module("next_category", torch::nn::Linear(d, s.size[kFieldCategory]));
  }
  next_product = register_module("next_product", torch::nn::Linear(d, s.size[kFieldProduct]));
  next_type = register_module("next_type", torch::nn::Linear(d, s.size[kFieldEventType]));
  mask_category = register_module("mask_category", torch::nn::Linear(d, s.size[kFieldCategory]));
  mask_product = register_module("mask_product", torch::nn::Linear(d, s.size[kFieldProduct]));
  mask_type = register_module("mask_type", torch::nn::Linear(d, s.size[kFieldEventType]));
}

torch::Tensor HeadsImpl::NextCategory(const torch::Tensor& h, const EncoderNetImpl& net) {
  if (next_category) return next_category(h);
  return torch::matmul(h, net.tables[kFieldCategory]->weight.t()) + next_category_bias;
}

torch::Tensor TokensToTensor(const std::vector<Token>& tokens) {
  auto t = torch::empty({static_cast<int64_t>(tokens.size()), kNumFields}, torch::kLong);
  auto a = t.accessor<int64_t, 2>();
  for (size_t i = 0; i < tokens.size(); ++i) {
    for (int f = 0; f < kNumFields; ++f) a[static_cast<int64_t>(i)][f] = tokens[i][f];
  }
  return t;
}

namespace {

NamedTensors AllParameters(const SessionModel::Impl& m) {
  NamedTensors out = NamedParameters(*m.net, "net.");
  for (auto& p : NamedParameters(*m.heads, "heads.")) out.push_back(std::move(p));
  return out;
}

}  // namespace

SessionModel::SessionModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SessionModel::~SessionModel() = default;

std::shared_ptr<SessionModel> SessionModel::Create(ModelConfig config, Tokenizer tokenizer) {
  config.encoder.Validate("model config");
  torch::manual_seed(config.seed);
  auto impl =
      std::make_unique<Impl>(Impl{std::move(config), std::move(tokenizer), nullptr, nullptr});
  impl->net = EncoderNet(impl->config.encoder, impl->tokenizer.sizes());
  impl->heads = Heads(impl->config.encoder.d_model, impl->tokenizer.sizes(),
                      impl->config.encoder.tied_category_head);
  return std::shared_ptr<SessionModel>(new SessionModel(std::move(impl)));
}

std::shared_ptr<SessionModel> SessionModel::Load(const std::string& dir) {
  LoadedArtifact art = LoadArtifactText(dir);
  auto model = Create(std::move(art.config), std::move(art.tokenizer));
  LoadWeights(dir + "/weights.pt", AllParameters(*model->impl_), "weights belong to another model",
              dir + "/config.txt and the vocabularies give");
  model->impl_->net->eval();
  return model;
}

void SessionModel::Save(const std::string& dir) const {
  SaveArtifactText(dir, impl_->config, impl_->tokenizer);
  SaveWeights(dir + "/weights.pt", AllParameters(*impl_));
}

const ModelConfig& SessionModel::config() const {
  return impl_->config;
}
const Tokenizer& SessionModel::tokenizer() const {
  return impl_->tokenizer;
}
const std::string& SessionModel::version() const {
  return impl_->config.model_version;
}
void SessionModel::set_version(std::string version) {
  impl_->config.model_version = std::move(version);
}
int SessionModel::embedding_dim() const {
  return impl_->config.encoder.d_model;
}

std::vector<float> SessionModel::EncodeFull(EventPtrs events) const {
  const auto& c = impl_->config.encoder;
  const size_t start = WindowStart(events, c.window, c.window_stride);
  const auto window = events.subspan(start);
  if (window.empty()) return {};
  std::vector<Token> tokens;
  impl_->tokenizer.TokenizeWindow(window, &tokens);
  torch::NoGradGuard no_grad;
  const auto out = impl_->net->forward(TokensToTensor(tokens).unsqueeze(0));
  auto last = out[0][static_cast<int64_t>(tokens.size()) - 1].contiguous();
  last = last / last.norm().clamp_min(1e-12);
  return std::vector<float>(last.data_ptr<float>(), last.data_ptr<float>() + last.numel());
}

std::vector<std::vector<float>> SessionModel::EncodeFullBatch(
    std::span<const EventPtrs> visitors) const {
  const auto& c = impl_->config.encoder;
  std::vector<std::vector<Token>> seqs(visitors.size());
  int64_t t = 1;
  for (size_t i = 0; i < visitors.size(); ++i) {
    const auto window = visitors[i].subspan(WindowStart(visitors[i], c.window, c.window_stride));
    impl_->tokenizer.TokenizeWindow(window, &seqs[i]);
    t = std::max<int64_t>(t, static_cast<int64_t>(seqs[i].size()));
  }
  const auto b = static_cast<int64_t>(visitors.size());
  auto x = torch::zeros({b, t, kNumFields}, torch::kLong);
  auto xa = x.accessor<int64_t, 3>();
  std::vector<int64_t> last(visitors.size(), 0);
  for (size_t i = 0; i < seqs.size(); ++i) {
    for (size_t p = 0; p < seqs[i].size(); ++p) {
      for (int f = 0; f < kNumFields; ++f) {
        xa[static_cast<int64_t>(i)][static_cast<int64_t>(p)][f] = seqs[i][p][f];
      }
    }
    last[i] = std::max<int64_t>(0, static_cast<int64_t>(seqs[i].size()) - 1);
  }
  torch::NoGradGuard no_grad;
  // Right padding is harmless: the encoder is causal, so real positions never see it.
  const auto h = impl_->net->forward(x);
  const auto idx = torch::tensor(last, torch::kLong).view({-1, 1, 1}).expand({-1, 1, h.size(2)});
  auto y = h.gather(1, idx).squeeze(1);
  y = (y / y.norm(2, {1}, true).clamp_min(1e-12)).contiguous();
  std::vector<std::vector<float>> out(visitors.size());
  const float* yp = y.data_ptr<float>();
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (seqs[i].empty()) continue;
    out[i].assign(yp + static_cast<int64_t>(i) * h.size(2),
                  yp + static_cast<int64_t>(i + 1) * h.size(2));
  }
  return out;
}

}  // namespace intentstream::model
