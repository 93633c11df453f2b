#include "model/offer_model.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "model/model_config.h"
#include "model/offer_network.h"
#include "model/weights_file.h"

namespace intentstream::model {

namespace {

constexpr const char* kConfigFile = "offer_model.txt";
constexpr const char* kInputsFile = "inputs.tsv";
constexpr const char* kOffersFile = "offers.tsv";
constexpr const char* kPersonasFile = "personas.txt";
constexpr const char* kWeightsFile = "offer_weights.pt";

std::vector<std::string> SplitOn(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, sep);) out.push_back(item);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

std::string Join(const std::vector<std::string>& v, char sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? std::string(1, sep) : "") + v[i];
  return out;
}

// Where a model input comes from in a request.
struct Source {
  enum Kind : uint8_t { kFill, kEmbedding, kIntent, kProfile, kSession } kind = kFill;
  int32_t index = 0;
  float fill = 0;  // the block mean: a missing input standardises to zero
};

// One catalogue version, as the model sees it.
struct OfferLayout final : op::PreparedLayout {
  std::vector<Source> semantic, structured, persona;
  std::vector<float> embeddings;  // offers x D (task-independent)
  std::vector<float> bias;        // offers x T
  std::vector<bool> known, informed;
  torch::Tensor e, c;  // the same as tensors (offline Predict)
};

int64_t Width(const InputBlock& b) {
  return std::max<int64_t>(1, static_cast<int64_t>(b.size()));
}

void CheckSpec(const OfferModelSpec& s, const std::string& where) {
  s.net.Validate(where);
  if (s.tasks.empty()) throw ModelError(where + ": key 'tasks' must name at least one task");
  for (const InputBlock* b : {&s.semantic, &s.structured}) {
    if (b->mean.size() != b->size() || b->sd.size() != b->size()) {
      throw ModelError(where + ": input standardisation does not match the input names");
    }
  }
  if (s.embedding_dim > s.semantic.size()) {
    throw ModelError(where + ": key 'embedding_dim' exceeds the semantic inputs");
  }
}

}  // namespace

void OfferNetConfig::Validate(const std::string& where) const {
  auto bad = [&](const std::string& key, const std::string& why) {
    throw ModelError(where + ": key '" + key + "' " + why);
  };
  if (hidden < 2 || hidden > 4096) bad("hidden", "must be in [2, 4096]");
  if (branches < 1 || branches > 32) bad("branches", "must be in [1, 32]");
  if (branch_hidden < 1 || branch_hidden > 4096) bad("branch_hidden", "must be in [1, 4096]");
  if (offer_dim < 1 || offer_dim > 1024) bad("offer_dim", "must be in [1, 1024]");
}

OfferModel::OfferModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OfferModel::~OfferModel() = default;

std::shared_ptr<OfferModel> OfferModel::Create(OfferModelSpec spec) {
  CheckSpec(spec, "offer model spec");
  torch::manual_seed(spec.seed);
  auto impl = std::make_unique<Impl>();
  impl->spec = std::move(spec);
  auto& s = impl->spec;
  s.calibration.resize(s.tasks.size());
  impl->atom_offers = static_cast<int64_t>(s.offers.size());
  impl->atom_intents = static_cast<int64_t>(s.intents.size());
  impl->atom_kinds = static_cast<int64_t>(s.kinds.size());
  impl->atom_products = static_cast<int64_t>(s.products.size());
  impl->net = OfferNet(static_cast<int>(Width(s.semantic)), static_cast<int>(Width(s.structured)),
                       static_cast<int>(s.tasks.size()),
                       static_cast<int>(std::max<int64_t>(1, impl->atom_count())), s.net);
  {
    // An offer's own residual starts at zero: what it shares with others comes first.
    torch::NoGradGuard no_grad;
    impl->net->atoms.narrow(0, 0, impl->atom_offers).zero_();
  }
  impl->FoldStandardisation();
  return std::shared_ptr<OfferModel>(new OfferModel(std::move(impl)));
}

const OfferModelSpec& OfferModel::spec() const {
  return impl_->spec;
}
OfferModelSpec& OfferModel::mutable_spec() {
  return impl_->spec;
}
std::string OfferModel::version() const {
  return impl_->spec.model_version;
}
const std::vector<std::string>& OfferModel::personas() const {
  return impl_->spec.personas.names;
}
bool OfferModel::Knows(const std::string& offer_id) const {
  for (const auto& o : impl_->spec.offers) {
    if (o.id == offer_id) return true;
  }
  return false;
}

int64_t OfferModel::VisitorMacs() const {
  const auto& s = impl_->spec;
  const int64_t h = s.net.hidden, bh = s.net.branch_hidden;
  const int64_t t = static_cast<int64_t>(s.tasks.size());
  return Width(s.semantic) * h + Width(s.structured) * h + 2 * h * h +
         s.net.branches * (h * bh + bh * h + h * t * (s.net.offer_dim + 1));
}
int64_t OfferModel::OfferMacs() const {
  return impl_->spec.net.offer_dim;
}

// ---------------------------------------------------------------------------------------
// Artifact.

void OfferModel::Save(const std::string& dir) const {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  const auto& s = impl_->spec;
  {
    std::ofstream out(fs::path(dir) / kConfigFile);
    out << "# intentstream offer propensity model (docs/offer-model.md)\n"
        << "format = " << kOfferArtifactFormat << "\nmode = " << s.mode
        << "\nmodel_version = " << s.model_version << "\nencoder_version = " << s.encoder_version
        << "\nembedding_dim = " << s.embedding_dim << "\nhidden = " << s.net.hidden
        << "\nbranches = " << s.net.branches << "\nbranch_hidden = " << s.net.branch_hidden
        << "\noffer_dim = " << s.net.offer_dim << "\nseed = " << s.seed
        << "\ntasks = " << Join(s.tasks, ',') << "\nsemantic_inputs = " << s.semantic.size()
        << "\nstructured_inputs = " << s.structured.size() << "\noffers = " << s.offers.size()
        << "\npersonas = " << s.personas.k << "\n";
    out.precision(17);  // doubles round-trip exactly
    for (size_t t = 0; t < s.tasks.size(); ++t) {
      out << "calibration." << s.tasks[t] << " = " << s.calibration[t].a << " "
          << s.calibration[t].b << "\n";
    }
    if (!out) throw ModelError(dir + "/" + kConfigFile + ": cannot write");
  }
  {
    std::ofstream out(fs::path(dir) / kInputsFile);
    out.precision(9);
    out << "# block\tname\tmean\tsd\n";
    for (const auto& [block, b] :
         {std::pair{"semantic", &s.semantic}, {"structured", &s.structured}}) {
      for (size_t j = 0; j < b->size(); ++j) {
        out << block << '\t' << b->names[j] << '\t' << b->mean[j] << '\t' << b->sd[j] << '\n';
      }
    }
    if (!out) throw ModelError(dir + "/" + kInputsFile + ": cannot write");
  }
  {
    std::ofstream out(fs::path(dir) / kOffersFile);
    out << "# offer\tid\tintents\tproduct\tkind | intent\tid | kind\tid | product\tcode\n";
    for (const auto& o : s.offers) {
      out << "offer\t" << o.id << '\t' << Join(o.intents, ',') << '\t' << o.product << '\t'
          << o.product_kind << '\n';
    }
    for (const auto& i : s.intents) out << "intent\t" << i << '\n';
    for (const auto& k : s.kinds) out << "kind\t" << k << '\n';
    for (const auto& p : s.products) out << "product\t" << p << '\n';
    if (!out) throw ModelError(dir + "/" + kOffersFile + ": cannot write");
  }
  if (!s.personas.empty()) {
    s.personas.Save((fs::path(dir) / kPersonasFile).string());
  } else {
    fs::remove(fs::path(dir) / kPersonasFile);
  }
  SaveWeights((fs::path(dir) / kWeightsFile).string(), NamedParameters(*impl_->net));
}

std::shared_ptr<OfferModel> OfferModel::Load(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) throw ModelError(dir + ": offer model directory not found");
  const std::string config_path = (fs::path(dir) / kConfigFile).string();
  const auto kv = ReadKeyValueFile(config_path);
  auto str = [&](const std::string& key) -> const std::string& {
    const auto it = kv.find(key);
    if (it == kv.end()) throw ModelError(config_path + ": missing key '" + key + "'");
    return it->second;
  };
  auto num = [&](const std::string& key) -> int64_t {
    const std::string& v = str(key);
    try {
      size_t used = 0;
      const int64_t x = std::stoll(v, &used);
      if (used != v.size()) throw std::invalid_argument(v);
      return x;
    } catch (const std::exception&) {
      throw ModelError(config_path + ": key '" + key + "' is not an integer: '" + v + "'");
    }
  };
  if (num("format") != kOfferArtifactFormat) {
    throw ModelError(config_path + ": key 'format' is " + str("format") +
                     ", this build reads format " + std::to_string(kOfferArtifactFormat));
  }
  OfferModelSpec s;
  s.mode = str("mode");
  s.model_version = str("model_version");
  s.encoder_version = kv.count("encoder_version") ? kv.at("encoder_version") : "";
  s.embedding_dim = static_cast<size_t>(num("embedding_dim"));
  s.net.hidden = static_cast<int>(num("hidden"));
  s.net.branches = static_cast<int>(num("branches"));
  s.net.branch_hidden = static_cast<int>(num("branch_hidden"));
  s.net.offer_dim = static_cast<int>(num("offer_dim"));
  s.seed = static_cast<uint64_t>(num("seed"));
  s.tasks = SplitOn(str("tasks"), ',');
  s.net.Validate(config_path);
  for (const auto& t : s.tasks) {
    const std::string key = "calibration." + t;
    std::istringstream in(str(key));
    PlattScaling p;
    if (!(in >> p.a >> p.b)) throw ModelError(config_path + ": key '" + key + "' needs 'a b'");
    s.calibration.push_back(p);
  }
  {
    const std::string path = (fs::path(dir) / kInputsFile).string();
    std::ifstream in(path);
    if (!in) throw ModelError(path + ": cannot read");
    std::string line;
    for (size_t line_no = 1; std::getline(in, line); ++line_no) {
      if (line.empty() || line[0] == '#') continue;
      const auto f = SplitOn(line, '\t');
      InputBlock* b = f.size() == 4 && f[0] == "semantic"     ? &s.semantic
                      : f.size() == 4 && f[0] == "structured" ? &s.structured
                                                              : nullptr;
      if (b == nullptr) {
        throw ModelError(path + ":" + std::to_string(line_no) +
                         ": expected 'semantic|structured<TAB>name<TAB>mean<TAB>sd'");
      }
      try {
        b->names.push_back(f[1]);
        b->mean.push_back(std::stof(f[2]));
        b->sd.push_back(std::stof(f[3]));
      } catch (const std::exception&) {
        throw ModelError(path + ":" + std::to_string(line_no) + ": mean and sd must be numbers");
      }
    }
    if (static_cast<int64_t>(s.semantic.size()) != num("semantic_inputs") ||
        static_cast<int64_t>(s.structured.size()) != num("structured_inputs")) {
      throw ModelError(path + " has " + std::to_string(s.semantic.size()) + " semantic and " +
                       std::to_string(s.structured.size()) + " structured inputs but " +
                       config_path + " says " + str("semantic_inputs") + " and " +
                       str("structured_inputs"));
    }
  }
  {
    const std::string path = (fs::path(dir) / kOffersFile).string();
    std::ifstream in(path);
    if (!in) throw ModelError(path + ": cannot read");
    std::string line;
    for (size_t line_no = 1; std::getline(in, line); ++line_no) {
      if (line.empty() || line[0] == '#') continue;
      const auto f = SplitOn(line, '\t');
      if (f[0] == "offer" && f.size() == 5) {
        op::OfferDescription o;
        o.id = f[1];
        if (!f[2].empty()) o.intents = SplitOn(f[2], ',');
        o.product = f[3];
        o.product_kind = f[4];
        s.offers.push_back(std::move(o));
      } else if (f[0] == "intent" && f.size() == 2) {
        s.intents.push_back(f[1]);
      } else if (f[0] == "kind" && f.size() == 2) {
        s.kinds.push_back(f[1]);
      } else if (f[0] == "product" && f.size() == 2) {
        s.products.push_back(f[1]);
      } else {
        throw ModelError(path + ":" + std::to_string(line_no) +
                         ": expected an offer, intent, kind or product line");
      }
    }
    if (static_cast<int64_t>(s.offers.size()) != num("offers")) {
      throw ModelError(path + " has " + std::to_string(s.offers.size()) + " offers but " +
                       config_path + " key 'offers' says " + str("offers"));
    }
  }
  if (num("personas") > 0) {
    s.personas = PersonaSet::Load((fs::path(dir) / kPersonasFile).string());
    if (static_cast<int64_t>(s.personas.k) != num("personas")) {
      throw ModelError(dir + "/" + kPersonasFile + " has " + std::to_string(s.personas.k) +
                       " personas but " + config_path + " key 'personas' says " + str("personas"));
    }
  }
  auto model = Create(std::move(s));
  LoadWeights((fs::path(dir) / kWeightsFile).string(), NamedParameters(*model->impl_->net),
              "weights belong to another model",
              config_path + " and the input, offer and vocabulary files give");
  model->impl_->net->eval();
  model->impl_->FoldStandardisation();
  return model;
}

// ---------------------------------------------------------------------------------------
// Scoring.

namespace {

constexpr std::string_view kEmbeddingPrefix = "embedding[";
constexpr std::string_view kIntentPrefix = "intent=";

Source Resolve(const std::string& name, float fill, const op::ScoringLayout& layout,
               size_t embedding_dim) {
  Source s;
  s.fill = fill;
  auto find = [](const std::vector<std::string>& list, std::string_view n) -> int32_t {
    const auto it = std::find(list.begin(), list.end(), n);
    return it == list.end() ? -1 : static_cast<int32_t>(it - list.begin());
  };
  if (name.rfind(kEmbeddingPrefix, 0) == 0) {
    const int i = std::atoi(name.c_str() + kEmbeddingPrefix.size());
    if (i >= 0 && static_cast<size_t>(i) < embedding_dim) {
      s.kind = Source::kEmbedding;
      s.index = i;
    }
    return s;
  }
  if (name.rfind(kIntentPrefix, 0) == 0) {
    if (const int32_t i = find(layout.intents, std::string_view(name).substr(kIntentPrefix.size()));
        i >= 0) {
      s.kind = Source::kIntent;
      s.index = i;
    }
    return s;
  }
  if (const int32_t i = find(layout.profile_features, name); i >= 0) {
    s.kind = Source::kProfile;
    s.index = i;
  } else if (const int32_t j = find(layout.session_features, name); j >= 0) {
    s.kind = Source::kSession;
    s.index = j;
  }
  return s;
}

float Read(const Source& s, const op::PropensityRequest& r, size_t embedding_dim) {
  auto at = [&](std::span<const float> v) {
    return static_cast<size_t>(s.index) < v.size() ? v[static_cast<size_t>(s.index)] : s.fill;
  };
  switch (s.kind) {
    case Source::kEmbedding:
      return r.embedding.size() == embedding_dim ? r.embedding[static_cast<size_t>(s.index)]
                                                 : s.fill;
    case Source::kIntent:
      return at(r.intents);
    case Source::kProfile:
      return at(r.profile);
    case Source::kSession:
      return at(r.session);
    case Source::kFill:
      break;
  }
  return s.fill;
}

const OfferLayout& AsLayout(const op::PreparedLayout& l) {
  const auto* p = dynamic_cast<const OfferLayout*>(&l);
  if (p == nullptr) throw ModelError("offer model: a layout prepared by another model");
  return *p;
}

}  // namespace

op::ScoringLayout LayoutOf(const OfferModelSpec& spec, std::vector<op::OfferDescription> offers) {
  op::ScoringLayout l;
  l.offers = std::move(offers);
  for (const auto& n : spec.semantic.names) {
    if (n.rfind(kIntentPrefix, 0) == 0) l.intents.push_back(n.substr(kIntentPrefix.size()));
  }
  // Everything structured travels as "profile" here; the order is the spec's.
  l.profile_features = spec.structured.names;
  for (const auto& n : spec.semantic.names) {
    if (n.rfind(kIntentPrefix, 0) != 0 && n.rfind(kEmbeddingPrefix, 0) != 0) {
      l.profile_features.push_back(n);
    }
  }
  return l;
}

std::shared_ptr<const op::PreparedLayout> OfferModel::Prepare(
    const op::ScoringLayout& layout) const {
  const auto& s = impl_->spec;
  auto out = std::make_shared<OfferLayout>();
  for (size_t j = 0; j < s.semantic.size(); ++j) {
    out->semantic.push_back(
        Resolve(s.semantic.names[j], s.semantic.mean[j], layout, s.embedding_dim));
  }
  for (size_t j = 0; j < s.structured.size(); ++j) {
    out->structured.push_back(
        Resolve(s.structured.names[j], s.structured.mean[j], layout, s.embedding_dim));
  }
  for (size_t j = 0; j < s.personas.features.size(); ++j) {
    out->persona.push_back(
        Resolve(s.personas.features[j], s.personas.mean[j], layout, s.embedding_dim));
  }
  torch::NoGradGuard no_grad;
  const auto comp = impl_->Composition(layout.offers, &out->known);
  out->informed.resize(layout.offers.size());
  auto ca = comp.accessor<float, 2>();
  for (int64_t o = 0; o < comp.size(0); ++o) {
    bool any = false;
    for (int64_t a = 0; a < comp.size(1); ++a) any = any || ca[o][a] != 0;
    out->informed[static_cast<size_t>(o)] = any;
  }
  auto [e, c] = impl_->net->Offers(comp);
  out->e = e.contiguous();
  out->c = c.contiguous();
  out->embeddings.assign(out->e.data_ptr<float>(), out->e.data_ptr<float>() + out->e.numel());
  out->bias.assign(out->c.data_ptr<float>(), out->c.data_ptr<float>() + out->c.numel());
  return out;
}

std::shared_ptr<const op::PreparedLayout> OfferModel::PrepareTrained() const {
  const auto& s = impl_->spec;
  op::ScoringLayout l = LayoutOf(s, s.offers);
  return Prepare(l);
}

void OfferModel::Score(const op::PreparedLayout& prepared,
                       std::span<op::PropensityRequest> batch) const {
  if (batch.empty()) return;
  const auto& layout = AsLayout(prepared);
  const auto& s = impl_->spec;
  const auto b = static_cast<int64_t>(batch.size());
  const int64_t sw = Width(s.semantic), xw = Width(s.structured);
  std::vector<float> sem(static_cast<size_t>(b * sw), 0.0f), str(static_cast<size_t>(b * xw), 0.0f);
  for (int64_t r = 0; r < b; ++r) {
    const auto& req = batch[static_cast<size_t>(r)];
    for (size_t j = 0; j < layout.semantic.size(); ++j) {
      sem[static_cast<size_t>(r * sw) + j] = Read(layout.semantic[j], req, s.embedding_dim);
    }
    for (size_t j = 0; j < layout.structured.size(); ++j) {
      str[static_cast<size_t>(r * xw) + j] = Read(layout.structured[j], req, s.embedding_dim);
    }
  }
  c10::InferenceMode guard;
  const auto ts = torch::from_blob(sem.data(), {b, sw});
  const auto tx = torch::from_blob(str.data(), {b, xw});
  const auto out =
      impl_->net->FromInputLayers(torch::addmm(impl_->semantic_b, ts, impl_->semantic_w.t()),
                                  torch::addmm(impl_->structured_b, tx, impl_->structured_w.t()),
                                  /*branches=*/false);
  // Task 0 is the served one.
  const auto v = out.v.select(1, 0).contiguous();  // [B, D]
  const auto u = out.u.select(1, 0).contiguous();  // [B]
  const float* vp = v.data_ptr<float>();
  const float* up = u.data_ptr<float>();
  const auto d = static_cast<size_t>(s.net.offer_dim);
  const size_t tasks = s.tasks.size();
  const PlattScaling& cal = s.calibration[0];
  std::vector<float> z(s.personas.features.size());
  for (int64_t r = 0; r < b; ++r) {
    auto& req = batch[static_cast<size_t>(r)];
    const float* vr = vp + r * static_cast<int64_t>(d);
    for (size_t k = 0; k < req.offers.size() && k < req.out.size(); ++k) {
      const auto o = static_cast<size_t>(req.offers[k]);
      if (o >= layout.known.size() || !layout.informed[o]) {
        req.out[k] = -1.0f;
        continue;
      }
      const float* e = &layout.embeddings[o * d];
      float logit = up[r] + layout.bias[o * tasks];
      for (size_t i = 0; i < d; ++i) logit += vr[i] * e[i];
      req.out[k] = static_cast<float>(cal.Apply(logit));
    }
    if (!s.personas.empty()) {
      for (size_t j = 0; j < z.size(); ++j) {
        z[j] = (Read(layout.persona[j], req, s.embedding_dim) - s.personas.mean[j]) *
               s.personas.scale[j];
      }
      req.persona = s.personas.Assign(z);
    }
  }
}

std::vector<float> OfferModel::Predict(const OfferInputs& in, const op::PreparedLayout& prepared,
                                       std::vector<float>* raw_logits) const {
  const auto& layout = AsLayout(prepared);
  const auto& s = impl_->spec;
  const int64_t sw = Width(s.semantic), xw = Width(s.structured);
  const auto rows = static_cast<int64_t>(in.rows);
  const int64_t t = static_cast<int64_t>(s.tasks.size());
  const int64_t o = layout.e.size(0);
  std::vector<float> probs(static_cast<size_t>(rows * t * o));
  if (raw_logits != nullptr) raw_logits->assign(probs.size(), 0.0f);
  c10::InferenceMode guard;
  const bool was_training = impl_->net->is_training();
  impl_->net->eval();
  constexpr int64_t kChunk = 4096;
  std::vector<float> sem, str;
  for (int64_t r0 = 0; r0 < rows; r0 += kChunk) {
    const int64_t n = std::min(kChunk, rows - r0);
    sem.assign(static_cast<size_t>(n * sw), 0.0f);
    str.assign(static_cast<size_t>(n * xw), 0.0f);
    for (int64_t r = 0; r < n; ++r) {
      std::copy_n(in.semantic.begin() + (r0 + r) * static_cast<int64_t>(s.semantic.size()),
                  s.semantic.size(), sem.begin() + r * sw);
      std::copy_n(in.structured.begin() + (r0 + r) * static_cast<int64_t>(s.structured.size()),
                  s.structured.size(), str.begin() + r * xw);
    }
    const auto ts = torch::from_blob(sem.data(), {n, sw});
    const auto tx = torch::from_blob(str.data(), {n, xw});
    const auto out = impl_->net->FromInputLayers(
        torch::addmm(impl_->semantic_b, ts, impl_->semantic_w.t()),
        torch::addmm(impl_->structured_b, tx, impl_->structured_w.t()), false);
    const auto logits = OfferLogits(out.v, out.u, layout.e, layout.c).contiguous();  // [n, T, O]
    const float* lp = logits.data_ptr<float>();
    for (int64_t i = 0; i < n * t * o; ++i) {
      const int64_t task = (i / o) % t;
      const size_t at = static_cast<size_t>(r0 * t * o + i);
      probs[at] = static_cast<float>(s.calibration[static_cast<size_t>(task)].Apply(lp[i]));
      if (raw_logits != nullptr) (*raw_logits)[at] = lp[i];
    }
  }
  if (was_training) impl_->net->train();
  return probs;
}

int OfferModel::PersonaOf(std::span<const float> semantic,
                          std::span<const float> structured) const {
  const auto& s = impl_->spec;
  if (s.personas.empty()) return -1;
  std::vector<float> z(s.personas.features.size());
  for (size_t j = 0; j < z.size(); ++j) {
    const std::string& name = s.personas.features[j];
    float x = s.personas.mean[j];
    if (auto it = std::find(s.semantic.names.begin(), s.semantic.names.end(), name);
        it != s.semantic.names.end()) {
      x = semantic[static_cast<size_t>(it - s.semantic.names.begin())];
    } else if (auto jt = std::find(s.structured.names.begin(), s.structured.names.end(), name);
               jt != s.structured.names.end()) {
      x = structured[static_cast<size_t>(jt - s.structured.names.begin())];
    }
    z[j] = (x - s.personas.mean[j]) * s.personas.scale[j];
  }
  return s.personas.Assign(z);
}

}  // namespace intentstream::model
