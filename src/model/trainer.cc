#include "model/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <random>
#include <sstream>

#include "common/hash.h"
#include "model/network.h"

namespace intentstream::model {

namespace {

using Clock = std::chrono::steady_clock;

// A training example: one window of a visitor's timeline.
struct Window {
  const Timeline* timeline;
  size_t begin;
  size_t end;
};

Tokenizer BuildTokenizer(const TrainOptions& o, const std::vector<Timeline>& train) {
  TokenizerConfig tc = o.tokenizer;
  if (!o.path_rules_file.empty()) tc.path_rules = LoadPathRules(o.path_rules_file);
  const Tokenizer keys_only(tc, {}, {}, {});
  std::map<std::string, int64_t> cats, prods, chans;
  for (const auto& tl : train) {
    for (const auto& e : tl.events) {
      if (!e.category().empty()) ++cats[keys_only.CategoryKey(e.category())];
      if (!e.product().empty()) ++prods[e.product()];
      if (!e.channel().empty()) ++chans[e.channel()];
    }
  }
  return Tokenizer(tc, Vocabulary::Build(cats, o.min_count, o.max_vocab),
                   Vocabulary::Build(prods, o.min_count, o.max_vocab),
                   Vocabulary::Build(chans, o.min_count, o.max_vocab));
}

std::vector<Window> MakeWindows(const std::vector<Timeline>& timelines, int window) {
  std::vector<Window> out;
  const auto w = static_cast<size_t>(window);
  for (const auto& tl : timelines) {
    const size_t n = tl.events.size();
    // Cut from the end so the most recent events get full context.
    for (size_t end = n; end >= 2; end = end > w ? end - w : 0) {
      const size_t begin = end > w ? end - w : 0;
      out.push_back({&tl, begin, end});
      if (begin == 0) break;
    }
  }
  return out;
}

struct Batch {
  torch::Tensor tokens;                                  // [B, T, F] with masked fields
  torch::Tensor next_category, next_product, next_type;  // [B, T], -100 = ignore
  torch::Tensor mask_category, mask_product, mask_type;
};

Batch MakeBatch(const Tokenizer& tok, std::span<const Window> windows, double mask_probability,
                std::mt19937_64& rng) {
  const int64_t b = static_cast<int64_t>(windows.size());
  int64_t t = 0;
  for (const auto& w : windows) t = std::max<int64_t>(t, static_cast<int64_t>(w.end - w.begin));
  Batch batch;
  batch.tokens = torch::zeros({b, t, kNumFields}, torch::kLong);
  auto fill = [&] { return torch::full({b, t}, -100, torch::kLong); };
  batch.next_category = fill();
  batch.next_product = fill();
  batch.next_type = fill();
  batch.mask_category = fill();
  batch.mask_product = fill();
  batch.mask_type = fill();
  auto tk = batch.tokens.accessor<int64_t, 3>();
  auto nc = batch.next_category.accessor<int64_t, 2>();
  auto np = batch.next_product.accessor<int64_t, 2>();
  auto nt = batch.next_type.accessor<int64_t, 2>();
  auto mc = batch.mask_category.accessor<int64_t, 2>();
  auto mp = batch.mask_product.accessor<int64_t, 2>();
  auto mt = batch.mask_type.accessor<int64_t, 2>();
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<Token> tokens;
  for (int64_t i = 0; i < b; ++i) {
    const auto& w = windows[static_cast<size_t>(i)];
    const auto ptrs = PointersTo(std::span(w.timeline->events).subspan(w.begin, w.end - w.begin));
    tok.TokenizeWindow(ptrs, &tokens);
    const auto len = static_cast<int64_t>(tokens.size());
    for (int64_t p = 0; p < len; ++p) {
      const Token& x = tokens[static_cast<size_t>(p)];
      for (int f = 0; f < kNumFields; ++f) tk[i][p][f] = x[f];
      if (p + 1 < len) {
        const Token& y = tokens[static_cast<size_t>(p + 1)];
        // "No value" is not a target: it would teach the heads to predict absence.
        if (y[kFieldCategory] != kIdNone) nc[i][p] = y[kFieldCategory];
        if (y[kFieldProduct] != kIdNone) np[i][p] = y[kFieldProduct];
        if (y[kFieldEventType] != kIdNone) nt[i][p] = y[kFieldEventType];
      }
      if (uniform(rng) < mask_probability) {
        const int which = static_cast<int>(rng() % 3);
        const int field = which == 0   ? kFieldCategory
                          : which == 1 ? kFieldProduct
                                       : kFieldEventType;
        if (x[field] != kIdNone) {
          (which == 0 ? mc : which == 1 ? mp : mt)[i][p] = x[field];
          tk[i][p][field] = kIdMask;
        }
      }
    }
  }
  return batch;
}

torch::Tensor Loss(const torch::Tensor& logits, const torch::Tensor& target) {
  const auto flat = target.reshape({-1});
  const auto n = (flat != -100).sum().clamp_min(1).to(torch::kFloat);
  return torch::nn::functional::cross_entropy(
             logits.reshape({flat.size(0), -1}), flat,
             torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100).reduction(
                 torch::kSum)) /
         n;
}

void ProgressBar(int epoch, int epochs, int64_t step, int64_t steps, double loss, bool tty) {
  const int width = 30;
  const int filled = steps ? static_cast<int>(width * step / steps) : width;
  std::fprintf(stderr, "%sepoch %d/%d [%s%s] %5.1f%% step %lld/%lld loss %.4f%s", tty ? "\r" : "",
               epoch, epochs, std::string(static_cast<size_t>(filled), '#').c_str(),
               std::string(static_cast<size_t>(width - filled), '.').c_str(),
               steps ? 100.0 * static_cast<double>(step) / static_cast<double>(steps) : 100.0,
               static_cast<long long>(step), static_cast<long long>(steps), loss, tty ? "" : "\n");
  std::fflush(stderr);
}

// Top-k next categories predicted by the model for every case.
std::vector<std::vector<int32_t>> ModelTopK(const SessionModel& model,
                                            const std::vector<NextItemCase>& cases, int k) {
  auto& m = model.impl();
  const auto& c = m.config.encoder;
  std::vector<std::vector<int32_t>> out;
  out.reserve(cases.size());
  torch::NoGradGuard no_grad;
  const size_t batch = 128;
  std::vector<Token> tokens;
  for (size_t b0 = 0; b0 < cases.size(); b0 += batch) {
    const size_t b1 = std::min(cases.size(), b0 + batch);
    std::vector<std::vector<Token>> seqs;
    int64_t t = 0;
    for (size_t i = b0; i < b1; ++i) {
      const auto& cs = cases[i];
      const auto ptrs = PointersTo(std::span(cs.timeline->events).first(cs.target));
      const size_t start = WindowStart(ptrs, c.window, c.window_stride);
      m.tokenizer.TokenizeWindow(EventPtrs(ptrs).subspan(start), &tokens);
      t = std::max<int64_t>(t, static_cast<int64_t>(tokens.size()));
      seqs.push_back(tokens);
    }
    auto x = torch::zeros({static_cast<int64_t>(seqs.size()), t, kNumFields}, torch::kLong);
    auto xa = x.accessor<int64_t, 3>();
    std::vector<int64_t> last;
    for (size_t i = 0; i < seqs.size(); ++i) {
      for (size_t p = 0; p < seqs[i].size(); ++p) {
        for (int f = 0; f < kNumFields; ++f) {
          xa[static_cast<int64_t>(i)][static_cast<int64_t>(p)][f] = seqs[i][p][f];
        }
      }
      last.push_back(static_cast<int64_t>(seqs[i].size()) - 1);
    }
    const auto h = m.net->forward(x);  // [B, T, d]
    const auto idx = torch::tensor(last, torch::kLong).view({-1, 1, 1}).expand({-1, 1, h.size(2)});
    auto logits = m.heads->next_category(h.gather(1, idx).squeeze(1));  // [B, V]
    logits.slice(1, 0, kFirstVocabId).fill_(-std::numeric_limits<float>::infinity());
    const auto top = std::get<1>(logits.topk(std::min<int64_t>(k, logits.size(1)), 1));
    auto ta = top.accessor<int64_t, 2>();
    for (int64_t i = 0; i < top.size(0); ++i) {
      std::vector<int32_t> ranked;
      for (int64_t j = 0; j < top.size(1); ++j) ranked.push_back(static_cast<int32_t>(ta[i][j]));
      out.push_back(std::move(ranked));
    }
  }
  return out;
}

std::vector<RankMetrics> EvaluateAll(const SessionModel& model, const std::vector<Timeline>& train,
                                     const std::vector<Timeline>& eval, int64_t gap_ms,
                                     size_t max_cases, int k, uint64_t seed) {
  const auto& tok = model.tokenizer();
  const auto cases = BuildNextItemCases(eval, tok, gap_ms, max_cases, seed);
  PopularityBaseline popular;
  popular.Fit(train, tok);
  popular.Limit(static_cast<size_t>(k));
  TransitionBaseline transitions;
  transitions.Fit(train, tok, gap_ms);
  std::vector<RankMetrics> rows(3);
  rows[0].name = "most-popular";
  rows[1].name = "item-to-item transitions";
  rows[2].name = "session encoder " + model.version();
  for (auto& r : rows) r.k = static_cast<size_t>(k);
  const auto predicted = ModelTopK(model, cases, k);
  for (size_t i = 0; i < cases.size(); ++i) {
    rows[0].Add(popular.TopK(), cases[i].target_item);
    rows[1].Add(transitions.TopK(cases[i].last_item, static_cast<size_t>(k), popular.TopK()),
                cases[i].target_item);
    rows[2].Add(predicted[i], cases[i].target_item);
  }
  return rows;
}

std::string FileDigest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  char buf[20];
  std::snprintf(buf, sizeof(buf), "%08x", static_cast<unsigned>(Fnv1a64(ss.str()) & 0xffffffffu));
  return buf;
}

void WriteModelCard(const TrainOptions& o, const SessionModel& model, const DatasetSummary& train,
                    const DatasetSummary& eval, const TrainResult& r,
                    const std::vector<double>& epoch_losses, int64_t steps, double seconds,
                    size_t windows) {
  std::ofstream out(o.out_dir + "/model_card.md");
  const auto& c = model.config();
  const auto& tok = model.tokenizer();
  out << "# Session encoder " << r.model_version << "\n\n"
      << "Self-supervised causal Transformer session encoder (docs/model.md). It turns a "
         "visitor's recent web and app events into a "
      << c.encoder.d_model << "-dimensional, L2-normalised session embedding.\n\n"
      << "## Reproduce\n\n```\n"
      << o.command_line << "\n```\n\n"
      << "## Architecture\n\n"
      << "| setting | value |\n|---|---|\n"
      << "| d_model | " << c.encoder.d_model << " |\n| layers | " << c.encoder.layers
      << " |\n| heads | " << c.encoder.heads << " |\n| ffn | " << c.encoder.ffn << " |\n| window | "
      << c.encoder.window << " |\n| window_stride | " << c.encoder.window_stride
      << " |\n| category vocabulary | " << tok.categories().size() << " (+"
      << c.tokenizer.category_hash_buckets << " hashed buckets) |\n"
      << "| product vocabulary | " << tok.products().size() << " |\n"
      << "| channel vocabulary | " << tok.channels().size() << " |\n"
      << "| query buckets | " << c.tokenizer.query_buckets << " |\n"
      << "| path rules | " << c.tokenizer.path_rules.size() << " |\n\n"
      << "## Training data\n\n"
      << "- inputs: ";
  for (const auto& p : o.train_paths) out << "`" << p << "` ";
  out << "\n- " << train.Describe() << "\n- training windows: " << windows
      << "\n- vocabulary cut-off: " << o.min_count << " occurrences\n\n"
      << "## Training\n\n"
      << "- objectives: next category / product / event type; masked category / product / "
         "event type (p="
      << o.mask_probability << ")\n"
      << "- epochs " << o.epochs << ", steps " << steps << ", batch " << o.batch_size
      << ", learning rate " << o.learning_rate << ", seed " << o.seed << ", threads " << o.threads
      << ", " << std::fixed << std::setprecision(1) << seconds << " s\n"
      << "- mean loss per epoch:" << std::setprecision(4);
  for (double l : epoch_losses) out << " " << l;
  out << "\n\n## Evaluation: next item on held-out sessions\n\n"
      << "Each held-out session's last page/screen category is predicted from what came "
         "before it (the model sees the visitor's window before the target, as serving "
         "does; the baselines see the previous item). Baselines are fitted on the training "
         "data in the same run.\n\n- inputs: ";
  for (const auto& p : o.eval_paths) out << "`" << p << "` ";
  if (o.eval_paths.empty()) out << "10% of training visitors, held out";
  out << "\n- " << eval.Describe() << "\n\n"
      << r.table << "\n"
      << "## Limits\n\n"
      << "- Trained on synthetic journeys unless stated otherwise above; figures on real "
         "traffic will differ.\n"
      << "- Protected attributes are not inputs (the SessionEvent carries none).\n";
}

}  // namespace

TrainResult TrainAndExport(const TrainOptions& o) {
  if (o.out_dir.empty()) throw std::runtime_error("--out is required");
  if (o.train_paths.empty()) throw std::runtime_error("--train is required");
  o.encoder.Validate("options");
  torch::set_num_threads(o.threads);
  torch::manual_seed(o.seed);
  const auto t0 = Clock::now();

  DatasetSummary train_summary, eval_summary;
  std::vector<Timeline> train = LoadTimelines(o.train_paths, o.csv, &train_summary);
  std::vector<Timeline> eval;
  if (!o.eval_paths.empty()) {
    eval = LoadTimelines(o.eval_paths, o.csv, &eval_summary);
  } else {
    // Hold out 10% of visitors by a hash of their id: stable across runs.
    std::vector<Timeline> kept;
    for (auto& tl : train) {
      (Fnv1a64(tl.visitor_id) % 10 == 0 ? eval : kept).push_back(std::move(tl));
    }
    train = std::move(kept);
    eval_summary.visitors = static_cast<int64_t>(eval.size());
    for (const auto& tl : eval) eval_summary.events += static_cast<int64_t>(tl.events.size());
  }
  std::fprintf(stderr, "train data: %s\neval data:  %s\n", train_summary.Describe().c_str(),
               eval_summary.Describe().c_str());
  if (train.empty()) throw std::runtime_error("no training events found");

  ModelConfig config;
  config.encoder = o.encoder;
  config.seed = o.seed;
  config.model_version = o.name;
  Tokenizer tok = BuildTokenizer(o, train);
  config.tokenizer = tok.config();
  if (!o.path_rules_file.empty()) config.tokenizer.path_rules = LoadPathRules(o.path_rules_file);
  auto model = SessionModel::Create(config, std::move(tok));
  auto& m = model->impl();

  std::vector<Window> windows = MakeWindows(train, o.encoder.window);
  std::mt19937_64 rng(o.seed);
  std::vector<torch::Tensor> params = m.net->parameters();
  for (const auto& p : m.heads->parameters()) params.push_back(p);
  torch::optim::AdamW optimizer(params,
                                torch::optim::AdamWOptions(o.learning_rate).weight_decay(0.01));
  const auto bs = static_cast<size_t>(o.batch_size);
  const int64_t steps_per_epoch = static_cast<int64_t>((windows.size() + bs - 1) / bs);
  int64_t total_steps = steps_per_epoch * o.epochs;
  if (o.max_steps > 0) total_steps = std::min(total_steps, o.max_steps);
  const bool tty = isatty(STDERR_FILENO) != 0;
  std::vector<double> epoch_losses;
  int64_t step = 0;
  for (int epoch = 1; epoch <= o.epochs && step < total_steps; ++epoch) {
    std::shuffle(windows.begin(), windows.end(), rng);
    double loss_sum = 0;
    int64_t loss_n = 0;
    for (size_t b0 = 0; b0 < windows.size() && step < total_steps; b0 += bs) {
      const size_t b1 = std::min(windows.size(), b0 + bs);
      const Batch batch =
          MakeBatch(m.tokenizer, std::span(windows).subspan(b0, b1 - b0), o.mask_probability, rng);
      const auto h = m.net->forward(batch.tokens);
      const auto loss = Loss(m.heads->next_category(h), batch.next_category) +
                        Loss(m.heads->next_product(h), batch.next_product) +
                        Loss(m.heads->next_type(h), batch.next_type) +
                        Loss(m.heads->mask_category(h), batch.mask_category) +
                        Loss(m.heads->mask_product(h), batch.mask_product) +
                        Loss(m.heads->mask_type(h), batch.mask_type);
      optimizer.zero_grad();
      loss.backward();
      torch::nn::utils::clip_grad_norm_(params, 1.0);
      // Linear decay to 10% of the initial rate: steadier final weights.
      const double lr = o.learning_rate *
                        (1.0 - 0.9 * static_cast<double>(step) / static_cast<double>(total_steps));
      for (auto& group : optimizer.param_groups()) {
        static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
      }
      optimizer.step();
      ++step;
      loss_sum += loss.item<double>();
      ++loss_n;
      const int64_t every = tty ? 5 : std::max<int64_t>(1, total_steps / 10);
      if (o.progress && (step % every == 0 || step == total_steps)) {
        ProgressBar(epoch, o.epochs, step, total_steps, loss_sum / static_cast<double>(loss_n),
                    tty);
      }
    }
    epoch_losses.push_back(loss_n ? loss_sum / static_cast<double>(loss_n) : 0.0);
  }
  if (o.progress && tty) std::fprintf(stderr, "\n");
  m.net->eval();
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();

  TrainResult r;
  // The version names the exact weights: prefix plus a digest of the weights file.
  model->Save(o.out_dir);
  r.model_version = o.name + "-" + FileDigest(o.out_dir + "/weights.pt");
  model->set_version(r.model_version);
  model->Save(o.out_dir);
  r.metrics = EvaluateAll(*model, train, eval, o.session_gap_ms, o.max_eval_cases, o.top_k, o.seed);
  r.table = FormatMetricsTable(r.metrics);
  r.first_epoch_loss = epoch_losses.empty() ? 0 : epoch_losses.front();
  r.last_epoch_loss = epoch_losses.empty() ? 0 : epoch_losses.back();
  WriteModelCard(o, *model, train_summary, eval_summary, r, epoch_losses, step, seconds,
                 windows.size());
  return r;
}

std::vector<RankMetrics> EvaluateSaved(const EvaluateOptions& o) {
  torch::set_num_threads(o.threads);
  const auto model = SessionModel::Load(o.model_dir);
  DatasetSummary train_summary, eval_summary;
  const auto train = LoadTimelines(o.train_paths, o.csv, &train_summary);
  const auto eval = LoadTimelines(o.eval_paths, o.csv, &eval_summary);
  std::fprintf(stderr, "train data: %s\neval data:  %s\n", train_summary.Describe().c_str(),
               eval_summary.Describe().c_str());
  return EvaluateAll(*model, train, eval, o.session_gap_ms, o.max_eval_cases, o.top_k, o.seed);
}

}  // namespace intentstream::model
