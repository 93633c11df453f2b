#include "model/incremental_encoder.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <list>
#include <memory>
#include <unordered_map>

#include "model/network.h"

namespace intentstream::model {

namespace {

// Hot loops are compiled for several x86 instruction sets; the loader picks the best the
// CPU has (the rest of the build targets the distribution's baseline).
#if defined(__x86_64__) && defined(__GNUC__)
#define INTENTSTREAM_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define INTENTSTREAM_MULTIVERSION
#endif

struct CacheEntry {
  std::string visitor_id;
  std::vector<uint64_t> keys;  // event keys of the cached positions
  // Per layer: [window x d_model], rows [0, keys.size()) valid. Allocated whole on
  // insert: growing row by row would copy and fault on the per-event path.
  std::vector<std::unique_ptr<float[]>> k, v;
  std::vector<float> embedding;  // output of the last position
  bool in_batch = false;         // has a pending job in the current batch
};

// LayerNorm over each row, as torch::nn::LayerNorm computes it.
INTENTSTREAM_MULTIVERSION void LayerNormRowsKernel(const float* in, float* out, int64_t rows,
                                                   int64_t d, const float* g, const float* b,
                                                   float eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = in + r * d;
    float* y = out + r * d;
    float mean = 0;
    for (int64_t i = 0; i < d; ++i) mean += x[i];
    mean /= static_cast<float>(d);
    float var = 0;
    for (int64_t i = 0; i < d; ++i) var += (x[i] - mean) * (x[i] - mean);
    var /= static_cast<float>(d);
    const float inv = 1.0f / std::sqrt(var + eps);
    for (int64_t i = 0; i < d; ++i) y[i] = (x[i] - mean) * inv * g[i] + b[i];
  }
}

void LayerNormRows(const float* in, float* out, int64_t rows, int64_t d,
                   torch::nn::LayerNormImpl& ln) {
  LayerNormRowsKernel(in, out, rows, d, ln.weight.data_ptr<float>(), ln.bias.data_ptr<float>(),
                      static_cast<float>(ln.options.eps()));
}

// One query row against `n` cached key/value rows, all heads. Keys and values are read
// row by row (contiguous, prefetch-friendly): the cache of a visitor is usually cold.
INTENTSTREAM_MULTIVERSION void AttendOne(const float* q, const float* k, const float* v, size_t n,
                                         int64_t d, int heads, float scale, float* scores,
                                         float* out) {
  const int64_t dh = d / heads;
  for (size_t j = 0; j < n; ++j) {
    const float* kr = k + j * d;
    for (int h = 0; h < heads; ++h) {
      float s = 0.0f;
      for (int64_t i = 0; i < dh; ++i) s += q[h * dh + i] * kr[h * dh + i];
      scores[static_cast<size_t>(h) * n + j] = s * scale;
    }
  }
  float inv_sum[64];  // EncoderConfig::Validate caps heads at 64
  for (int h = 0; h < heads; ++h) {
    float* sc = scores + static_cast<size_t>(h) * n;
    float m = sc[0];
    for (size_t j = 1; j < n; ++j) m = std::max(m, sc[j]);
    float sum = 0.0f;
    for (size_t j = 0; j < n; ++j) {
      sc[j] = std::exp(sc[j] - m);
      sum += sc[j];
    }
    inv_sum[h] = 1.0f / sum;
  }
  std::fill(out, out + d, 0.0f);
  for (size_t j = 0; j < n; ++j) {
    const float* vr = v + j * d;
    for (int h = 0; h < heads; ++h) {
      const float w = scores[static_cast<size_t>(h) * n + j];
      for (int64_t i = 0; i < dh; ++i) out[h * dh + i] += w * vr[h * dh + i];
    }
  }
  for (int h = 0; h < heads; ++h) {
    for (int64_t i = 0; i < dh; ++i) out[h * dh + i] *= inv_sum[h];
  }
}

// Work buffers reused across Encode() calls (allocation churn costs more than the
// arithmetic at these sizes).
struct Buffers {
  torch::Tensor x, h, qkv, attended, f1, f2;
  std::vector<float> scores;
  int64_t capacity = 0;
  void Ensure(int64_t rows, int64_t d, int64_t ffn) {
    if (rows <= capacity) return;
    capacity = std::max<int64_t>({rows, 2 * capacity, 256});
    x = torch::empty({capacity, d});
    h = torch::empty({capacity, d});
    attended = torch::empty({capacity, d});
    qkv = torch::empty({capacity, 3 * d});
    f1 = torch::empty({capacity, ffn});
    f2 = torch::empty({capacity, ffn});
  }
};

struct Job {
  CacheEntry* entry;
  v1::VisitorState* state;
  size_t from;  // first position to compute
  size_t to;    // one past the last
  int64_t first_row;
};

void WriteEmbedding(const std::vector<float>& e, v1::VisitorState* state) {
  std::string bytes(e.size() * sizeof(float), '\0');
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(bytes.data(), e.data(), bytes.size());
  } else {
    for (size_t i = 0; i < e.size(); ++i) {
      const auto u = std::bit_cast<uint32_t>(e[i]);
      for (int b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<char>((u >> (8 * b)) & 0xff);
    }
  }
  state->set_embedding(std::move(bytes));
}

}  // namespace

std::vector<float> DecodeEmbedding(const std::string& bytes) {
  std::vector<float> out(bytes.size() / sizeof(float));
  for (size_t i = 0; i < out.size(); ++i) {
    uint32_t u = 0;
    for (int b = 0; b < 4; ++b) {
      u |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i * 4 + b])) << (8 * b);
    }
    out[i] = std::bit_cast<float>(u);
  }
  return out;
}

struct IncrementalEncoder::Impl {
  std::shared_ptr<const SessionModel> model;
  IncrementalEncoderOptions options;
  IncrementalEncoderStats stats;
  std::list<CacheEntry> lru;  // front = most recently used
  std::unordered_map<std::string_view, std::list<CacheEntry>::iterator> index;
  std::vector<Job> jobs;
  Buffers buffers;
  std::vector<Token> row_tokens;  // tokens of the pending rows, in row order
  int64_t rows = 0;

  CacheEntry* Lookup(std::string_view id) {
    const auto it = index.find(id);
    if (it == index.end()) return nullptr;
    lru.splice(lru.begin(), lru, it->second);
    return &*it->second;
  }

  CacheEntry* Insert(std::string_view id) {
    lru.emplace_front();
    CacheEntry& e = lru.front();
    e.visitor_id = std::string(id);
    const int layers = model->config().encoder.layers;
    const auto full = static_cast<size_t>(model->config().encoder.window) *
                      static_cast<size_t>(model->config().encoder.d_model);
    for (int l = 0; l < layers; ++l) {
      // Zeroed here, on the miss path (which rebuilds the window anyway), so the pages
      // are touched once now rather than faulted in one by one on the per-event path.
      e.k.emplace_back(new float[full]());
      e.v.emplace_back(new float[full]());
    }
    index.emplace(e.visitor_id, lru.begin());
    return &e;
  }

  // Entries of the current batch may push the cache past capacity; trim afterwards.
  void Trim() {
    while (index.size() > options.cache_capacity) {
      index.erase(lru.back().visitor_id);
      lru.pop_back();
      ++stats.evictions;
    }
  }

  void Forget(std::string_view id) {
    const auto it = index.find(id);
    if (it == index.end()) return;
    if (it->second->in_batch) Run();
    const auto node = it->second;
    index.erase(it);  // first: the key views the entry's string
    lru.erase(node);
  }

  void Plan(op::VisitorUpdate& u);
  void Run();
};

void IncrementalEncoder::Impl::Plan(op::VisitorUpdate& u) {
  ++stats.updates;
  const auto& cfg = model->config().encoder;
  v1::VisitorState* state = u.state;
  state->set_model_version(model->version());
  const EventPtrs events(state->events().data(), static_cast<size_t>(state->events_size()));
  const auto window = events.subspan(WindowStart(events, cfg.window, cfg.window_stride));
  if (window.empty()) {
    state->clear_embedding();
    Forget(u.visitor_id);
    return;
  }
  CacheEntry* entry = Lookup(u.visitor_id);
  if (entry != nullptr && entry->in_batch) {
    Run();  // the same visitor twice in one call: finish the first before planning on it
  }
  if (entry == nullptr) {
    ++stats.cache_misses;
    entry = Insert(u.visitor_id);
  } else {
    bool prefix = entry->keys.size() <= window.size();
    for (size_t i = 0; prefix && i < entry->keys.size(); ++i) {
      prefix = entry->keys[i] == window[i]->event_key();
    }
    if (prefix) {
      ++stats.cache_hits;
    } else {
      ++stats.prefix_mismatches;
      entry->keys.clear();
    }
  }
  const size_t from = entry->keys.size();
  if (from == window.size()) {
    WriteEmbedding(entry->embedding, state);
    return;
  }
  const auto& tok = model->tokenizer();
  for (size_t p = from; p < window.size(); ++p) {
    entry->keys.push_back(window[p]->event_key());
    row_tokens.push_back(tok.Tokenize(*window[p], p == 0 ? nullptr : window[p - 1]));
  }
  entry->in_batch = true;
  jobs.push_back(Job{entry, state, from, window.size(), rows});
  rows += static_cast<int64_t>(window.size() - from);
  stats.positions += window.size() - from;
  // Position p attends to p + 1 keys: sum over p in [from, to).
  stats.attended_keys += (window.size() * (window.size() + 1) - from * (from + 1)) / 2;
}

void IncrementalEncoder::Impl::Run() {
  if (jobs.empty()) return;
  auto& net = model->impl().net;
  const auto& cfg = model->config().encoder;
  const int64_t d = cfg.d_model;
  const int64_t ffn = cfg.ffn;
  const int heads = cfg.heads;
  const int64_t dh = d / heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  torch::NoGradGuard no_grad;
  buffers.Ensure(rows, d, ffn);
  // Views of the first `rows` rows of the reusable buffers: no allocation per batch.
  auto x = buffers.x.narrow(0, 0, rows);
  auto h = buffers.h.narrow(0, 0, rows);
  auto qkv = buffers.qkv.narrow(0, 0, rows);
  auto attended = buffers.attended.narrow(0, 0, rows);
  auto f1 = buffers.f1.narrow(0, 0, rows);
  auto f2 = buffers.f2.narrow(0, 0, rows);
  float* xp = x.data_ptr<float>();

  // Token embeddings: the same tables the full forward sums.
  {
    const float* pos = net->position->weight.data_ptr<float>();
    std::array<const float*, kNumTables> tables{};
    for (int t = 0; t < kNumTables; ++t) tables[t] = net->tables[t]->weight.data_ptr<float>();
    for (const Job& job : jobs) {
      for (size_t p = job.from; p < job.to; ++p) {
        const int64_t r = job.first_row + static_cast<int64_t>(p - job.from);
        float* row = xp + r * d;
        const float* pe = pos + static_cast<int64_t>(p) * d;
        std::copy(pe, pe + d, row);
        const Token& tk = row_tokens[static_cast<size_t>(r)];
        for (int f = 0; f < kNumFields; ++f) {
          const float* e = tables[TableOfField(f)] + static_cast<int64_t>(tk[f]) * d;
          for (int64_t i = 0; i < d; ++i) row[i] += e[i];
        }
      }
    }
  }

  std::vector<float>& scores = buffers.scores;
  scores.resize(static_cast<size_t>(cfg.window * heads));
  for (size_t l = 0; l < net->blocks.size(); ++l) {
    auto& block = net->blocks[l];
    LayerNormRows(xp, h.data_ptr<float>(), rows, d, *block->ln1);
    at::addmm_out(qkv, block->qkv->bias, h, block->qkv->weight.t());
    const float* qp = qkv.data_ptr<float>();
    // Append the new positions' keys and values to each visitor's cache.
    for (const Job& job : jobs) {
      float* kc = job.entry->k[l].get();
      float* vc = job.entry->v[l].get();
      for (size_t p = job.from; p < job.to; ++p) {
        const float* src = qp + (job.first_row + static_cast<int64_t>(p - job.from)) * 3 * d;
        std::copy(src + d, src + 2 * d, kc + p * d);
        std::copy(src + 2 * d, src + 3 * d, vc + p * d);
      }
    }
    // Causal attention of each new position over its visitor's cached positions.
    float* ap = attended.data_ptr<float>();
    for (const Job& job : jobs) {
      for (size_t p = job.from; p < job.to; ++p) {
        const int64_t r = job.first_row + static_cast<int64_t>(p - job.from);
        AttendOne(qp + r * 3 * d, job.entry->k[l].get(), job.entry->v[l].get(), p + 1, d, heads,
                  scale, scores.data(), ap + r * d);
      }
    }
    at::addmm_out(h, block->proj->bias, attended, block->proj->weight.t());
    x.add_(h);
    LayerNormRows(xp, h.data_ptr<float>(), rows, d, *block->ln2);
    at::addmm_out(f1, block->fc1->bias, h, block->fc1->weight.t());
    at::gelu_out(f2, f1);
    at::addmm_out(h, block->fc2->bias, f2, block->fc2->weight.t());
    x.add_(h);
  }

  // The session embedding is the last position's output after the final LayerNorm,
  // L2-normalised.
  std::vector<float> y(static_cast<size_t>(d));
  for (const Job& job : jobs) {
    const int64_t r = job.first_row + static_cast<int64_t>(job.to - job.from) - 1;
    LayerNormRows(xp + r * d, y.data(), 1, d, *net->ln_f);
    double norm = 0;
    for (float v : y) norm += static_cast<double>(v) * v;
    const float inv = 1.0f / static_cast<float>(std::max(std::sqrt(norm), 1e-12));
    CacheEntry* e = job.entry;
    e->embedding.resize(static_cast<size_t>(d));
    for (int64_t i = 0; i < d; ++i)
      e->embedding[static_cast<size_t>(i)] = y[static_cast<size_t>(i)] * inv;
    e->in_batch = false;
    WriteEmbedding(e->embedding, job.state);
  }
  jobs.clear();
  row_tokens.clear();
  rows = 0;
}

IncrementalEncoder::IncrementalEncoder(std::shared_ptr<const SessionModel> model,
                                       IncrementalEncoderOptions options)
    : impl_(std::make_unique<Impl>()) {
  if (model == nullptr) throw ModelError("IncrementalEncoder: no model");
  impl_->model = std::move(model);
  impl_->options = options;
}

IncrementalEncoder::~IncrementalEncoder() = default;

std::string IncrementalEncoder::model_version() const {
  return impl_->model->version();
}

void IncrementalEncoder::Encode(std::span<op::VisitorUpdate> updates) {
  for (auto& u : updates) impl_->Plan(u);
  impl_->Run();
  impl_->Trim();
}

void IncrementalEncoder::Forget(std::string_view visitor_id) {
  impl_->Forget(visitor_id);
}

op::SessionEncoder::CacheStats IncrementalEncoder::cache_stats() const {
  return {impl_->stats.cache_hits, impl_->stats.cache_misses + impl_->stats.prefix_mismatches};
}

const IncrementalEncoderStats& IncrementalEncoder::stats() const {
  return impl_->stats;
}
size_t IncrementalEncoder::cached_visitors() const {
  return impl_->index.size();
}

}  // namespace intentstream::model
