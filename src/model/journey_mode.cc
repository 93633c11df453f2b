#include "model/journey_mode.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "catalog/catalog.h"
#include "common/hash.h"
#include "decide/features.h"
#include "eval/login_features.h"
#include "model/binary_metrics.h"
#include "model/calibration.h"
#include "model/model.h"
#include "sim/catalog.h"

namespace intentstream::model {

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kTiles = sim::kIntentCount;
constexpr size_t kClick = 0, kConvert = 1;

std::string Fixed(double v, int digits = 4) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// Per decision point: the session embedding of the processor's state and the rule
// intent scores, in rows keyed by the LOGIN's event id. Embeddings are computed in
// batches with the encoder's full pass, which the processor's incremental encoder equals.
class SemanticCollector {
 public:
  SemanticCollector(const SessionModel& encoder, const eval::LoginFeatureBuilder& features)
      : encoder_(encoder), features_(features) {
    dim_ = static_cast<size_t>(encoder.embedding_dim()) + features.catalog().intents().size();
  }
  void Add(const eval::DecisionPoint& p) {
    const size_t row = row_of_.size();
    row_of_.emplace(p.login->event_id(), row);
    rows_.resize((row + 1) * dim_, 0.0f);
    features_.IntentScores(p, &scratch_);
    std::copy(scratch_.begin(), scratch_.end(),
              rows_.begin() + static_cast<std::ptrdiff_t>(row * dim_ + encoder_dim()));
    pending_.emplace_back(p.state->events().begin(), p.state->events().end());
    pending_rows_.push_back(row);
    if (pending_.size() >= 256) Flush();
  }
  void Flush() {
    if (pending_.empty()) return;
    std::vector<std::vector<const v1::SessionEvent*>> ptrs;
    std::vector<EventPtrs> spans;
    ptrs.reserve(pending_.size());
    for (const auto& events : pending_) ptrs.push_back(PointersTo(events));
    for (const auto& p : ptrs) spans.emplace_back(p);
    const auto embeddings = encoder_.EncodeFullBatch(spans);
    for (size_t i = 0; i < embeddings.size(); ++i) {
      if (embeddings[i].size() != encoder_dim()) continue;  // no events: stays zero
      std::copy(embeddings[i].begin(), embeddings[i].end(),
                rows_.begin() + static_cast<std::ptrdiff_t>(pending_rows_[i] * dim_));
    }
    pending_.clear();
    pending_rows_.clear();
  }
  size_t dim() const { return dim_; }
  size_t encoder_dim() const { return static_cast<size_t>(encoder_.embedding_dim()); }
  const float* Row(const std::string& login_id) const {
    const auto it = row_of_.find(login_id);
    return it == row_of_.end() ? nullptr : &rows_[it->second * dim_];
  }

 private:
  const SessionModel& encoder_;
  const eval::LoginFeatureBuilder& features_;
  size_t dim_ = 0;
  std::unordered_map<std::string, size_t> row_of_;
  std::vector<float> rows_;
  std::vector<float> scratch_;
  std::vector<std::vector<v1::SessionEvent>> pending_;
  std::vector<size_t> pending_rows_;
};

// What the replay yields: every decision point with its labels (eval::Example) and the
// model's inputs, aligned. Cached on disk (JourneyRunOptions::cache_path) so training
// runs need not replay the world again; the cache names the world, the encoder and the
// feature layout it was made with and is rebuilt when any of them differs.
struct JourneyData {
  std::string key;  // world.properties + encoder version + input names
  size_t semantic_dim = 0;
  std::vector<eval::Example> examples;
  std::vector<eval::LoginFeatures> features;  // examples point into these
  std::vector<float> semantic;                // examples x semantic_dim
};

constexpr uint32_t kCacheMagic = 0x4f464631;  // "OFF1"

class Writer {
 public:
  explicit Writer(const std::string& path) : out_(path, std::ios::binary | std::ios::trunc) {}
  template <typename T>
  void Pod(const T& v) {
    out_.write(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void Str(const std::string& s) {
    Pod(static_cast<uint64_t>(s.size()));
    out_.write(s.data(), static_cast<std::streamsize>(s.size()));
  }
  void Floats(const std::vector<float>& v) {
    Pod(static_cast<uint64_t>(v.size()));
    out_.write(reinterpret_cast<const char*>(v.data()),
               static_cast<std::streamsize>(v.size() * sizeof(float)));
  }
  bool ok() const { return static_cast<bool>(out_); }

 private:
  std::ofstream out_;
};

class Reader {
 public:
  explicit Reader(const std::string& path) : in_(path, std::ios::binary) {}
  template <typename T>
  T Pod() {
    T v{};
    in_.read(reinterpret_cast<char*>(&v), sizeof v);
    return v;
  }
  std::string Str() {
    const auto n = Pod<uint64_t>();
    if (!in_ || n > (uint64_t{1} << 32)) throw std::runtime_error("bad cache");
    std::string s(n, '\0');
    in_.read(s.data(), static_cast<std::streamsize>(n));
    return s;
  }
  std::vector<float> Floats() {
    const auto n = Pod<uint64_t>();
    if (!in_ || n > (uint64_t{1} << 34)) throw std::runtime_error("bad cache");
    std::vector<float> v(n);
    in_.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(float)));
    return v;
  }
  bool ok() const { return static_cast<bool>(in_); }

 private:
  std::ifstream in_;
};

void SaveCache(const std::string& path, const JourneyData& d) {
  Writer w(path);
  w.Pod(kCacheMagic);
  w.Str(d.key);
  w.Pod(static_cast<uint64_t>(d.semantic_dim));
  w.Pod(static_cast<uint64_t>(d.examples.size()));
  for (size_t i = 0; i < d.examples.size(); ++i) {
    const auto& e = d.examples[i];
    w.Str(e.id);
    w.Str(e.customer_id);
    w.Pod(e.time_ms);
    w.Pod(static_cast<int32_t>(e.split));
    w.Pod(static_cast<uint8_t>(e.intent));
    w.Pod(static_cast<uint8_t>(e.teacher));
    w.Pod(static_cast<int32_t>(e.segment));
    w.Pod(static_cast<int32_t>(e.clicked_tile));
    w.Pod(static_cast<int32_t>(e.converted_tile));
    w.Pod(static_cast<uint8_t>(e.conversion_observed));
    w.Pod(static_cast<uint32_t>(e.impressions.size()));
    for (const auto& [tile, clicked] : e.impressions) {
      w.Pod(static_cast<int32_t>(tile));
      w.Pod(static_cast<uint8_t>(clicked));
    }
    w.Floats(d.features[i].app);
    w.Floats(d.features[i].web);
  }
  w.Floats(d.semantic);
  if (!w.ok()) throw std::runtime_error(path + ": cannot write the replay cache");
}

// Returns false (and leaves `d` empty) when the file is missing or made for other inputs.
bool LoadCache(const std::string& path, const std::string& key, JourneyData* d) {
  if (!std::filesystem::exists(path)) return false;
  Reader r(path);
  if (r.Pod<uint32_t>() != kCacheMagic || r.Str() != key) return false;
  d->key = key;
  d->semantic_dim = r.Pod<uint64_t>();
  const auto n = r.Pod<uint64_t>();
  d->examples.resize(n);
  d->features.resize(n);
  for (size_t i = 0; i < n; ++i) {
    auto& e = d->examples[i];
    e.id = r.Str();
    e.customer_id = r.Str();
    e.time_ms = r.Pod<int64_t>();
    e.split = r.Pod<int32_t>();
    e.intent = static_cast<sim::Intent>(r.Pod<uint8_t>());
    e.teacher = static_cast<sim::Intent>(r.Pod<uint8_t>());
    e.segment = r.Pod<int32_t>();
    e.clicked_tile = r.Pod<int32_t>();
    e.converted_tile = r.Pod<int32_t>();
    e.conversion_observed = r.Pod<uint8_t>() != 0;
    const auto imps = r.Pod<uint32_t>();
    for (uint32_t k = 0; k < imps; ++k) {
      const int32_t tile = r.Pod<int32_t>();
      const bool clicked = r.Pod<uint8_t>() != 0;
      e.impressions.emplace_back(tile, clicked);
    }
    d->features[i].app = r.Floats();
    d->features[i].web = r.Floats();
    e.app_features = &d->features[i].app;
    e.web_features = &d->features[i].web;
  }
  d->semantic = r.Floats();
  if (!r.ok() || d->semantic.size() != n * d->semantic_dim) {
    *d = JourneyData{};
    return false;
  }
  return true;
}

std::string CacheKey(const std::string& world_dir, const std::string& encoder_version,
                     const eval::LoginFeatureBuilder& features, const eval::ExampleOptions& ex) {
  std::ifstream in(std::filesystem::path(world_dir) / "world.properties");
  std::stringstream ss;
  ss << in.rdbuf() << "|encoder=" << encoder_version << "|window=" << ex.window_ms
     << "|horizon=" << ex.horizon_ms;
  for (const auto& n : features.names()) ss << "|" << n;
  for (const auto& i : features.catalog().intents()) ss << "|intent=" << i.id;
  return ss.str();
}

JourneyData Replay(const JourneyRunOptions& o, const SessionModel& encoder,
                   const eval::LoginFeatureBuilder& features, const std::string& key) {
  const auto t0 = Clock::now();
  SemanticCollector semantic(encoder, features);
  eval::Dataset data;
  std::fprintf(stderr, "replaying %s through the processor's state code...\n", o.world_dir.c_str());
  if (const std::string error =
          data.Load(o.world_dir, [&](const eval::DecisionPoint& p) { semantic.Add(p); });
      !error.empty()) {
    throw std::runtime_error(error);
  }
  semantic.Flush();
  JourneyData d;
  d.key = key;
  d.semantic_dim = semantic.dim();
  std::vector<eval::Example> examples = eval::BuildExamples(data, o.examples);
  for (auto& ex : examples) {
    const float* row = semantic.Row(ex.id);
    if (row == nullptr || ex.web_features == nullptr) continue;
    d.features.push_back({*ex.app_features, *ex.web_features});
    d.semantic.insert(d.semantic.end(), row, row + d.semantic_dim);
    d.examples.push_back(std::move(ex));
  }
  for (size_t i = 0; i < d.examples.size(); ++i) {
    d.examples[i].app_features = &d.features[i].app;
    d.examples[i].web_features = &d.features[i].web;
  }
  std::fprintf(stderr, "%zu decision points, %.0f s\n", d.examples.size(),
               std::chrono::duration<double>(Clock::now() - t0).count());
  return d;
}

// Decision points of one split with the model's full inputs and targets.
struct SplitRows {
  std::vector<const eval::Example*> examples;
  OfferTrainData data;
};

SplitRows BuildSplit(const JourneyData& data, int split, size_t structured_dim,
                     bool labelled_only) {
  SplitRows s;
  auto& d = s.data;
  d.tasks = 2;
  d.offers = kTiles;
  for (size_t i = 0; i < data.examples.size(); ++i) {
    const auto& ex = data.examples[i];
    if (ex.split != split) continue;
    const bool labelled = !ex.impressions.empty() || ex.conversion_observed;
    if (labelled_only && !labelled) continue;
    const float* sem = &data.semantic[i * data.semantic_dim];
    s.examples.push_back(&ex);
    d.inputs.semantic.insert(d.inputs.semantic.end(), sem, sem + data.semantic_dim);
    d.inputs.structured.insert(
        d.inputs.structured.end(), ex.web_features->begin(),
        ex.web_features->begin() + static_cast<std::ptrdiff_t>(structured_dim));
    const size_t base = d.target.size();
    d.target.resize(base + 2 * kTiles, 0.0f);
    d.mask.resize(base + 2 * kTiles, 0.0f);
    for (const auto& [tile, clicked] : ex.impressions) {
      const size_t at = base + kClick * kTiles + static_cast<size_t>(tile);
      d.mask[at] = 1;
      if (clicked) d.target[at] = 1;
    }
    if (ex.conversion_observed) {
      for (size_t t = 0; t < kTiles; ++t) d.mask[base + kConvert * kTiles + t] = 1;
      if (ex.converted_tile >= 0) {
        d.target[base + kConvert * kTiles + static_cast<size_t>(ex.converted_tile)] = 1;
      }
    }
    ++d.inputs.rows;
  }
  return s;
}

// A model variant: which columns of the full semantic / structured blocks it reads.
struct Variant {
  std::string name;
  std::vector<size_t> semantic, structured;
};

OfferTrainData Slice(const OfferTrainData& full, size_t sem_w, size_t str_w, const Variant& v) {
  OfferTrainData d;
  d.tasks = full.tasks;
  d.offers = full.offers;
  d.target = full.target;
  d.mask = full.mask;
  d.inputs.rows = full.inputs.rows;
  d.inputs.semantic.reserve(d.inputs.rows * v.semantic.size());
  d.inputs.structured.reserve(d.inputs.rows * v.structured.size());
  for (size_t r = 0; r < d.inputs.rows; ++r) {
    for (size_t c : v.semantic) d.inputs.semantic.push_back(full.inputs.semantic[r * sem_w + c]);
    for (size_t c : v.structured) {
      d.inputs.structured.push_back(full.inputs.structured[r * str_w + c]);
    }
  }
  return d;
}

OfferModelSpec SliceSpec(const OfferModelSpec& full, const Variant& v) {
  OfferModelSpec s = full;
  s.semantic = {};
  s.structured = {};
  s.embedding_dim = 0;
  for (size_t c : v.semantic) {
    s.semantic.names.push_back(full.semantic.names[c]);
    if (full.semantic.names[c].rfind("embedding[", 0) == 0) ++s.embedding_dim;
  }
  for (size_t c : v.structured) s.structured.names.push_back(full.structured.names[c]);
  return s;
}

// The evaluation's predictions from the model's probabilities [rows x 2 x tiles].
struct Predicted {
  std::vector<eval::Prediction> predictions;
  std::vector<double> any_logit;  // logit of P(any conversion) before its calibration
};

Predicted ToPredictions(const std::vector<float>& p, size_t rows) {
  Predicted out;
  for (size_t r = 0; r < rows; ++r) {
    eval::Prediction pr;
    double none = 1;
    for (size_t t = 0; t < kTiles; ++t) {
      pr.tile[t] = p[(r * 2 + kClick) * kTiles + t];
      none *= 1 - static_cast<double>(p[(r * 2 + kConvert) * kTiles + t]);
    }
    out.any_logit.push_back(Logit(1 - none));
    pr.p_convert = 1 - none;
    pr.intent = static_cast<sim::Intent>(eval::TopTile(pr));
    out.predictions.push_back(pr);
  }
  return out;
}

// P(any conversion) of the product of per-offer probabilities is not calibrated (the
// per-offer events are not independent): Platt-scale it on the validation rows.
void CalibrateAny(Predicted* validation, Predicted* test, const SplitRows& val_rows) {
  std::vector<double> z;
  std::vector<int> y;
  for (size_t i = 0; i < val_rows.examples.size(); ++i) {
    if (!val_rows.examples[i]->conversion_observed) continue;
    z.push_back(validation->any_logit[i]);
    y.push_back(val_rows.examples[i]->converted_tile >= 0 ? 1 : 0);
  }
  const PlattScaling s = PlattScaling::Fit(z, y);
  for (Predicted* p : {validation, test}) {
    for (size_t i = 0; i < p->predictions.size(); ++i) {
      p->predictions[i].p_convert = s.Apply(p->any_logit[i]);
    }
  }
}

// The conversion threshold with the best micro-F1 on the validation decision points.
double BestThreshold(const std::vector<const eval::Example*>& examples,
                     const std::vector<eval::Prediction>& predictions) {
  double best = 0.5, best_f1 = -1;
  for (int k = 2; k <= 90; ++k) {
    const double t = k / 100.0;
    const double f1 = eval::Score("", examples, predictions, t).convert_micro_f1;
    if (f1 > best_f1) {
      best_f1 = f1;
      best = t;
    }
  }
  return best;
}

struct Trained {
  std::string name;
  std::shared_ptr<OfferModel> model;
  OfferTrainReport report;
  Predicted validation, test;
  double threshold = 0.5;
};

std::string FileDigest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  char buf[20];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(Fnv1a64(ss.str()) & 0xffffffffu));
  return buf;
}

}  // namespace

JourneyResult RunJourneys(const JourneyRunOptions& o) {
  auto encoder = SessionModel::Load(o.encoder_dir);
  const auto catalog = catalog::DefaultCatalog();
  const eval::LoginFeatureBuilder features(catalog);
  const std::string key = CacheKey(o.world_dir, encoder->version(), features, o.examples);
  JourneyData data;
  if (o.cache_path.empty() || !LoadCache(o.cache_path, key, &data)) {
    data = Replay(o, *encoder, features, key);
    if (!o.cache_path.empty()) SaveCache(o.cache_path, data);
  } else {
    std::fprintf(stderr, "replay cache %s: %zu decision points\n", o.cache_path.c_str(),
                 data.examples.size());
  }
  const std::vector<eval::Example>& examples = data.examples;

  // The full model's spec.
  const op::ScoringLayout layout = decide::ScoringLayoutOf(*catalog, features.features());
  OfferModelSpec full;
  full.mode = "journeys";
  full.encoder_version = encoder->version();
  full.embedding_dim = static_cast<size_t>(encoder->embedding_dim());
  for (size_t i = 0; i < full.embedding_dim; ++i) {
    full.semantic.names.push_back("embedding[" + std::to_string(i) + "]");
  }
  for (const auto& id : layout.intents) full.semantic.names.push_back("intent=" + id);
  full.structured.names = features.names();
  full.tasks = {"click", "convert"};
  full.net = o.net;
  full.seed = o.train.seed;
  full.intents = layout.intents;
  for (size_t t = 0; t < kTiles; ++t) {
    const int idx = catalog->FindOfferByTile(sim::Intents()[t].tile_id);
    if (idx < 0) {
      throw std::runtime_error("the catalogue has no offer for tile " +
                               std::string(sim::Intents()[t].tile_id));
    }
    const auto& d = layout.offers[static_cast<size_t>(idx)];
    full.offers.push_back(d);
    if (!d.product.empty() &&
        std::find(full.products.begin(), full.products.end(), d.product) == full.products.end()) {
      full.products.push_back(d.product);
    }
    if (!d.product_kind.empty() &&
        std::find(full.kinds.begin(), full.kinds.end(), d.product_kind) == full.kinds.end()) {
      full.kinds.push_back(d.product_kind);
    }
  }
  const size_t sem_w = full.semantic.size(), str_w = full.structured.size();
  if (data.semantic_dim != full.semantic.size()) {
    throw std::runtime_error("replayed inputs do not match the model's semantic inputs");
  }
  const SplitRows train = BuildSplit(data, 0, str_w, true);
  const SplitRows validation = BuildSplit(data, 1, str_w, true);
  const SplitRows validation_all = BuildSplit(data, 1, str_w, false);
  const SplitRows test = BuildSplit(data, 2, str_w, false);
  if (train.data.inputs.rows == 0 || validation.data.inputs.rows == 0 || test.examples.empty()) {
    throw std::runtime_error(o.world_dir +
                             ": the train, validation and test splits need decision "
                             "points (app logins)");
  }

  std::vector<Variant> variants;
  {
    Variant v{"fused model", {}, {}};
    for (size_t c = 0; c < sem_w; ++c) v.semantic.push_back(c);
    for (size_t c = 0; c < str_w; ++c) v.structured.push_back(c);
    variants.push_back(v);
    if (!o.skip_ablations) {
      Variant emb{"ablation: embedding only", {}, {}};
      for (size_t c = 0; c < full.embedding_dim; ++c) emb.semantic.push_back(c);
      variants.push_back(emb);
      Variant labels{"ablation: intent scores only", {}, {}};
      for (size_t c = full.embedding_dim; c < sem_w; ++c) labels.semantic.push_back(c);
      variants.push_back(labels);
      Variant structured{"ablation: profile+session only", {}, v.structured};
      variants.push_back(structured);
    }
  }
  std::vector<Trained> trained;
  for (const auto& v : variants) {
    Trained t;
    t.name = v.name;
    OfferModelSpec spec = SliceSpec(full, v);
    const auto tr = Slice(train.data, sem_w, str_w, v);
    const auto va = Slice(validation.data, sem_w, str_w, v);
    FitStandardisation(tr.inputs, &spec);
    std::fprintf(stderr, "training %s on %zu decision points...\n", v.name.c_str(), tr.inputs.rows);
    t.model = TrainOfferModel(spec, tr, va, o.train, &t.report);
    const auto va_all = Slice(validation_all.data, sem_w, str_w, v);
    const auto te = Slice(test.data, sem_w, str_w, v);
    const auto prepared = t.model->PrepareTrained();
    t.validation = ToPredictions(t.model->Predict(va_all.inputs, *prepared), va_all.inputs.rows);
    t.test = ToPredictions(t.model->Predict(te.inputs, *prepared), te.inputs.rows);
    CalibrateAny(&t.validation, &t.test, validation_all);
    t.threshold = BestThreshold(validation_all.examples, t.validation.predictions);
    std::fprintf(stderr, "  %s: best epoch %d, %.0f s\n", v.name.c_str(), t.report.best_epoch,
                 t.report.seconds);
    trained.push_back(std::move(t));
  }
  Trained& main = trained.front();
  if (o.quick) {
    // Model rows only (experiments): no baselines, personas or artifact.
    std::vector<eval::Metrics> rows;
    std::string f1;
    for (const auto& t : trained) {
      rows.push_back(eval::Score(t.name, test.examples, t.test.predictions, 0.5));
      const auto m = eval::Score(t.name, test.examples, t.test.predictions, t.threshold);
      f1 += t.name + ": conversion micro-F1 " + Fixed(m.convert_micro_f1) + " at threshold " +
            Fixed(t.threshold, 2) + " (chosen on validation); best epoch " +
            std::to_string(t.report.best_epoch) + "\n";
    }
    JourneyResult quick;
    quick.rows = rows;
    quick.report = eval::FormatTable(rows) + f1;
    return quick;
  }

  // Personas of the full model: k-means over embedding + profile.
  std::string persona_report;
  {
    const size_t n = train.data.inputs.rows;
    const size_t p = features.features().profile_size();
    const size_t e = full.embedding_dim;
    std::vector<float> emb(n * e), prof(n * p), intents(n * (sem_w - e));
    for (size_t r = 0; r < n; ++r) {
      const float* s = &train.data.inputs.semantic[r * sem_w];
      std::copy(s, s + e, &emb[r * e]);
      std::copy(s + e, s + sem_w, &intents[r * (sem_w - e)]);
      std::copy_n(&train.data.inputs.structured[r * str_w], p, &prof[r * p]);
    }
    std::vector<PersonaBlock> blocks;
    blocks.push_back(
        {std::vector<std::string>(full.semantic.names.begin(),
                                  full.semantic.names.begin() + static_cast<std::ptrdiff_t>(e)),
         emb, false});
    blocks.push_back(
        {std::vector<std::string>(full.structured.names.begin(),
                                  full.structured.names.begin() + static_cast<std::ptrdiff_t>(p)),
         prof, true});
    PersonaDescriptors extra{
        std::vector<std::string>(full.semantic.names.begin() + static_cast<std::ptrdiff_t>(e),
                                 full.semantic.names.end()),
        intents};
    main.model->mutable_spec().personas =
        FitPersonas(blocks, extra, n, o.personas, &persona_report);
  }

  // The main table: the evaluation tool's protocol (threshold 0.5), baselines fitted in
  // the same run.
  std::fprintf(stderr, "fitting the evaluation's baselines...\n");
  const eval::Baselines baselines(examples, o.baseline_train);
  eval::EvaluationOptions eo;
  eo.out_dir = o.report_dir;
  eo.examples = o.examples;
  eo.train = o.baseline_train;
  eo.model_name = main.name;
  std::vector<eval::ModelPredictions> models;
  for (const auto& t : trained) models.push_back({t.name, t.test.predictions, &t == &trained[0]});
  eval::EvaluationResult table;
  if (const std::string error =
          eval::EvaluateWithBaselines(examples, test.examples, models, eo, &table, &baselines);
      !error.empty()) {
    throw std::runtime_error(error);
  }

  // Conversion micro-F1 at each model's validation-chosen threshold.
  struct F1Row {
    std::string name;
    double threshold, f1, auc;
  };
  std::vector<F1Row> f1_rows;
  for (const auto& t : trained) {
    const auto m = eval::Score(t.name, test.examples, t.test.predictions, t.threshold);
    f1_rows.push_back({t.name, t.threshold, m.convert_micro_f1, m.convert_auc});
  }
  for (const auto& [name, web] :
       {std::pair{"baseline: in-app only (LR)", false}, {"reference: web+app (LR)", true}}) {
    std::vector<eval::Prediction> va, te;
    for (const auto* ex : validation_all.examples) {
      va.push_back(web ? baselines.WebAndApp(*ex) : baselines.AppOnly(*ex));
    }
    for (const auto* ex : test.examples) {
      te.push_back(web ? baselines.WebAndApp(*ex) : baselines.AppOnly(*ex));
    }
    const double thr = BestThreshold(validation_all.examples, va);
    const auto m = eval::Score(name, test.examples, te, thr);
    f1_rows.push_back({name, thr, m.convert_micro_f1, m.convert_auc});
  }

  // Calibration of the served propensity (click) and of the conversion probability.
  std::vector<double> pc, pv;
  std::vector<int> yc, yv;
  for (size_t i = 0; i < test.examples.size(); ++i) {
    const auto& ex = *test.examples[i];
    for (const auto& [tile, clicked] : ex.impressions) {
      pc.push_back(main.test.predictions[i].tile[static_cast<size_t>(tile)]);
      yc.push_back(clicked ? 1 : 0);
    }
    if (ex.conversion_observed) {
      pv.push_back(main.test.predictions[i].p_convert);
      yv.push_back(ex.converted_tile >= 0 ? 1 : 0);
    }
  }
  const auto click_bins = Reliability(pc, yc);
  const auto conv_bins = Reliability(pv, yv);

  // Personas in the metrics: test decision points per persona.
  std::string persona_table;
  {
    const auto& ps = main.model->spec().personas;
    struct Acc {
      double n = 0, imps = 0, clicks = 0, predicted = 0, observed = 0, conversions = 0;
    };
    std::vector<Acc> acc(ps.k);
    for (size_t i = 0; i < test.examples.size(); ++i) {
      const auto& ex = *test.examples[i];
      const int k = main.model->PersonaOf(
          std::span<const float>(&test.data.inputs.semantic[i * sem_w], sem_w),
          std::span<const float>(&test.data.inputs.structured[i * str_w], str_w));
      if (k < 0) continue;
      Acc& a = acc[static_cast<size_t>(k)];
      a.n += 1;
      for (const auto& [tile, clicked] : ex.impressions) {
        a.imps += 1;
        a.clicks += clicked;
        a.predicted += main.test.predictions[i].tile[static_cast<size_t>(tile)];
      }
      if (ex.conversion_observed) {
        a.observed += 1;
        a.conversions += ex.converted_tile >= 0;
      }
    }
    persona_table =
        "| persona | test decisions | impressions | click rate | mean predicted | "
        "conversion rate | description |\n|---|---:|---:|---:|---:|---:|---|\n";
    for (size_t k = 0; k < ps.k; ++k) {
      const Acc& a = acc[k];
      persona_table += "| " + ps.names[k] + " | " + std::to_string(static_cast<long>(a.n)) + " | " +
                       std::to_string(static_cast<long>(a.imps)) + " | " +
                       Fixed(a.imps > 0 ? a.clicks / a.imps : 0) + " | " +
                       Fixed(a.imps > 0 ? a.predicted / a.imps : 0) + " | " +
                       Fixed(a.observed > 0 ? a.conversions / a.observed : 0) + " | " +
                       ps.descriptions[k] + " |\n";
    }
  }

  // The report.
  std::ostringstream r;
  r << "## Offline evaluation on the test split\n\n"
    << "World `" << o.world_dir << "`: " << examples.size() << " decision points (app logins), "
    << train.data.inputs.rows << " train / " << validation.data.inputs.rows
    << " validation rows with labels, " << test.examples.size()
    << " test decision points. Inputs replayed through the processor's state code; session "
       "encoder `"
    << encoder->version() << "`. Baselines fitted in the same run on the train split. "
    << "Conversion threshold 0.5 (the evaluation tool's default).\n\n"
    << eval::FormatMarkdown(table.rows) << "\n"
    << "## Conversion micro-F1 at a threshold chosen on the validation split\n\n"
    << "| model | threshold | conversion micro-F1 | conversion AUC |\n|---|---:|---:|---:|\n";
  for (const auto& f : f1_rows) {
    r << "| " << f.name << " | " << Fixed(f.threshold, 2) << " | " << Fixed(f.f1) << " | "
      << Fixed(f.auc) << " |\n";
  }
  r << "\n## Calibration (test split)\n\n"
    << "Served propensity P(click | shown), " << pc.size() << " impressions, ECE "
    << Fixed(ExpectedCalibrationError(click_bins)) << ":\n\n"
    << FormatReliability(click_bins) << "\nP(conversion within the horizon), " << pv.size()
    << " decision points, ECE " << Fixed(ExpectedCalibrationError(conv_bins)) << ":\n\n"
    << FormatReliability(conv_bins) << "\n## Personas\n\n"
    << "k-means over the session embedding and the profile features (each block centred and "
       "scaled to a total variance of one), k by silhouette in ["
    << o.personas.k_min << ", " << o.personas.k_max << "], seed " << o.personas.seed
    << "; chosen k = " << main.model->spec().personas.k << ".\n\n```\n"
    << persona_report << "```\n\n"
    << persona_table << "\n## Training\n\n"
    << "| model | parameters | best epoch | gate mean (semantic share) | branch weights | "
       "seconds |\n|---|---:|---:|---:|---|---:|\n";
  for (const auto& t : trained) {
    std::string mix;
    for (double m : t.report.mix) mix += (mix.empty() ? "" : " ") + Fixed(m, 3);
    r << "| " << t.name << " | " << t.report.parameters << " | " << t.report.best_epoch << " | "
      << Fixed(t.report.mean_gate, 3) << " | " << mix << " | " << Fixed(t.report.seconds, 1)
      << " |\n";
  }
  r << "\nValidation loss per epoch (full model):";
  for (double l : main.report.validation_loss) r << " " << Fixed(l, 5);
  r << "\n";

  JourneyResult result;
  result.rows = table.rows;
  if (!o.out_dir.empty()) {
    main.model->mutable_spec().model_version = o.name;
    main.model->Save(o.out_dir);
    result.model_version = o.name + "-" + FileDigest(o.out_dir + "/offer_weights.pt");
    main.model->mutable_spec().model_version = result.model_version;
    main.model->Save(o.out_dir);
    std::ofstream card(o.out_dir + "/model_card.md");
    card << "# Offer propensity model " << result.model_version << "\n\n"
         << "Session embedding (+ rule intent scores) fused with decide::FeatureBuilder's "
            "profile and session features by a learned gate, then "
         << o.net.branches
         << " residual branches combined by learned weights that sum to one "
            "(docs/offer-model.md). Serves P(click | shown) per offer, Platt-calibrated; "
            "offers it was not trained on get a cold-start estimate from the intents and the "
            "product they serve.\n\n"
         << "## Reproduce\n\n```\n"
         << o.command_line
         << "\n```\n\n(`tools/train/train-offer-model.sh` runs the whole "
            "chain.)\n\n"
         << "## Inputs\n\n- session encoder: `" << encoder->version() << "` (" << full.embedding_dim
         << " dims), from `" << o.encoder_dir
         << "`\n- intent scores: the processor's rule "
            "scorer, "
         << layout.intents.size()
         << " intents\n- structured: " << features.features().profile_size() << " profile + "
         << features.features().session_size()
         << " session features (decide::FeatureBuilder; no protected attribute: the builder "
            "never reads CustomerProfile.monitoring)\n- trained offers: ";
    for (const auto& d : full.offers) card << "`" << d.id << "` ";
    card << "\n- network: hidden " << o.net.hidden << ", branches " << o.net.branches
         << ", branch hidden " << o.net.branch_hidden << ", offer dim " << o.net.offer_dim << "; "
         << main.report.parameters << " parameters\n- training: Adam lr " << o.train.learning_rate
         << ", batch " << o.train.batch << ", dropout " << o.train.dropout << ", L2 "
         << o.train.weight_decay << " (offer residuals " << o.train.residual_l2
         << "), consistency weight " << o.train.aux_weight << ", seed " << o.train.seed
         << ", threads " << o.train.threads << "; best epoch " << main.report.best_epoch << "\n\n"
         << r.str()
         << "\n## Limits\n\n- Trained and evaluated on the journey generator's synthetic world; "
            "figures on real traffic will differ.\n- The homepage policy that logged the "
            "impressions ignores intent: no counterfactual correction.\n- Retrain after the "
            "session encoder changes: the embedding's meaning is the encoder's.\n";
  }
  result.report = r.str();
  if (!o.report_dir.empty()) {
    std::filesystem::create_directories(o.report_dir);
    std::ofstream(std::filesystem::path(o.report_dir) / "offer-report.md") << result.report;
  }
  return result;
}

}  // namespace intentstream::model
