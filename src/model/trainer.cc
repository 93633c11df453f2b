#include "model/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "common/hash.h"
#include "model/baselines.h"
#include "model/encoder_ranking.h"
#include "model/model_card.h"
#include "model/network.h"
#include "model/training_data.h"

namespace intentstream::model {

namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

Tokenizer BuildTokenizer(TokenizerConfig tc, const std::string& path_rules_file, int64_t min_count,
                         size_t max_vocab, const std::vector<Timeline>& train) {
  if (!path_rules_file.empty()) tc.path_rules = LoadPathRules(path_rules_file);
  const Tokenizer keys_only(tc, {}, {}, {});
  std::map<std::string, int64_t> cats, prods, chans;
  for (const auto& tl : train) {
    for (const auto& e : tl.events) {
      if (!e.category().empty()) ++cats[keys_only.CategoryKey(e.category())];
      if (!e.product().empty()) ++prods[e.product()];
      if (!e.channel().empty()) ++chans[e.channel()];
    }
  }
  return Tokenizer(tc, Vocabulary::Build(cats, min_count, max_vocab),
                   Vocabulary::Build(prods, min_count, max_vocab),
                   Vocabulary::Build(chans, min_count, max_vocab));
}

void Summarize(const std::vector<Timeline>& timelines, DatasetSummary* s) {
  s->visitors = static_cast<int64_t>(timelines.size());
  s->events = 0;
  for (const auto& tl : timelines) s->events += static_cast<int64_t>(tl.events.size());
}

void PrintBadLines(const char* what, const DatasetSummary& s) {
  if (s.bad_lines == 0) return;
  std::fprintf(
      stderr, "%s: %lld bad lines skipped%s\n", what, static_cast<long long>(s.bad_lines),
      s.bad_lines > static_cast<int64_t>(s.bad_line_reports.size()) ? ", the first:" : ":");
  for (const auto& r : s.bad_line_reports) std::fprintf(stderr, "  %s\n", r.c_str());
}

// Cross-entropy over the positions whose target is not -100, mean over them. Only those
// rows go through the head: masked-field targets are a few percent of the positions.
template <typename Head>
torch::Tensor SelectedLoss(const Head& head, const torch::Tensor& h_flat,
                           const torch::Tensor& target) {
  const auto flat = target.reshape({-1});
  const auto rows = (flat != -100).nonzero().squeeze(1);
  if (rows.numel() == 0) return torch::zeros({}, h_flat.options());
  return torch::nn::functional::cross_entropy(head(h_flat.index_select(0, rows)),
                                              flat.index_select(0, rows));
}

struct Objective {
  double mask_probability;
  double next_category_weight;
  int64_t next_gap_ms;  // 0: next-event targets across sessions too
};

Objective ObjectiveOf(const TrainOptions& o) {
  return {o.mask_probability, o.next_category_weight, o.next_within_session ? o.session_gap_ms : 0};
}

torch::Tensor BatchLoss(SessionModel::Impl& m, const Batch& batch, const Objective& obj) {
  const auto h = m.net->forward(batch.tokens);
  const auto flat = h.reshape({-1, h.size(2)});
  auto& heads = m.heads;
  auto& net = *m.net;
  const auto category = [&](const torch::Tensor& x) { return heads->NextCategory(x, net); };
  const auto linear = [](torch::nn::Linear& l) {
    return [&l](const torch::Tensor& x) { return l(x); };
  };
  return obj.next_category_weight * SelectedLoss(category, flat, batch.next_category) +
         SelectedLoss(linear(heads->next_product), flat, batch.next_product) +
         SelectedLoss(linear(heads->next_type), flat, batch.next_type) +
         SelectedLoss(linear(heads->mask_category), flat, batch.mask_category) +
         SelectedLoss(linear(heads->mask_product), flat, batch.mask_product) +
         SelectedLoss(linear(heads->mask_type), flat, batch.mask_type);
}

std::vector<torch::Tensor> Parameters(SessionModel::Impl& m) {
  std::vector<torch::Tensor> params = m.net->parameters();
  for (const auto& p : m.heads->parameters()) params.push_back(p);
  return params;
}

// Learning rate at `progress` (0, 1] of the run: linear warm-up to the peak over the
// first warmup_fraction, then linear decay to final_lr_fraction of it. Progress counts in
// epochs, not steps: a random window cut gives each epoch a slightly different number.
double LearningRate(const TrainOptions& o, double progress) {
  progress = std::min(progress, 1.0);
  if (progress < o.warmup_fraction) return o.learning_rate * progress / o.warmup_fraction;
  const double span = std::max(1e-9, 1.0 - o.warmup_fraction);
  return o.learning_rate *
         (1.0 - (1.0 - o.final_lr_fraction) * (progress - o.warmup_fraction) / span);
}

void ProgressBar(int epoch, int epochs, int64_t step, int64_t steps, double loss, bool tty) {
  const int width = 30;
  // `steps` is an estimate (epochs differ a little in length): clamp.
  const int filled =
      steps ? static_cast<int>(std::min<int64_t>(width, width * step / steps)) : width;
  std::fprintf(stderr, "%sepoch %d/%d [%s%s] %5.1f%% step %lld/%lld loss %.4f%s", tty ? "\r" : "",
               epoch, epochs, std::string(static_cast<size_t>(filled), '#').c_str(),
               std::string(static_cast<size_t>(width - filled), '.').c_str(),
               steps
                   ? std::min(100.0, 100.0 * static_cast<double>(step) / static_cast<double>(steps))
                   : 100.0,
               static_cast<long long>(step), static_cast<long long>(steps), loss, tty ? "" : "\n");
  std::fflush(stderr);
}

// The validation cases: every next item of whole visitors, taken in the order of a hash
// of their ids until there are `max_cases` (0 = all). Whole visitors, not a sample of
// cases: the cases of one window share its forward pass, so the cost of scoring is
// about the number of windows, and a sample of cases would keep nearly all of them.
std::vector<NextItemCase> ValidationCases(const std::vector<Timeline>& valid, const Tokenizer& tok,
                                          int64_t gap_ms, size_t max_cases) {
  std::vector<const Timeline*> order;
  for (const auto& tl : valid) order.push_back(&tl);
  std::stable_sort(order.begin(), order.end(), [](const Timeline* a, const Timeline* b) {
    return Fnv1a64(a->visitor_id) < Fnv1a64(b->visitor_id);
  });
  std::vector<NextItemCase> cases;
  for (const Timeline* tl : order) {
    if (max_cases > 0 && cases.size() >= max_cases) break;
    AppendNextItemCases(*tl, tok, gap_ms, Protocol::kEveryNextItem, &cases);
  }
  return cases;
}

// MRR@k of the every-next-item protocol: the validation score.
double ScoreCases(SessionModel& model, const std::vector<NextItemCase>& cases, size_t k) {
  auto& m = model.impl();
  m.net->eval();
  const auto ranked = EncoderTopK(model, cases, k);
  m.net->train();
  RankMetrics r;
  r.k = k;
  for (size_t i = 0; i < cases.size(); ++i) r.Add(ranked[i], cases[i].target_item);
  return r.Mrr();
}

MethodMetrics EncoderMetrics(const SessionModel& model, const CasesByProtocol& cases, size_t k) {
  MethodMetrics row;
  row.name = "session encoder " + model.version();
  for (Protocol p : kProtocols) {
    const auto& list = cases[static_cast<size_t>(p)];
    const auto ranked = EncoderTopK(model, list, k);
    row[p].k = k;
    for (size_t i = 0; i < list.size(); ++i) row[p].Add(ranked[i], list[i].target_item);
  }
  return row;
}

std::vector<MethodMetrics> EvaluateAll(const SessionModel* model, const Tokenizer& tok,
                                       const std::vector<Timeline>& train,
                                       const std::vector<Timeline>& eval, int64_t gap_ms,
                                       size_t max_cases, size_t k, uint64_t seed) {
  CasesByProtocol cases;
  for (Protocol p : kProtocols) {
    cases[static_cast<size_t>(p)] = BuildNextItemCases(eval, tok, gap_ms, p, max_cases, seed);
  }
  const Baselines baselines(ItemSessions(train, tok, gap_ms));
  auto rows = EvaluateBaselines(baselines, cases, tok, k);
  if (model != nullptr) rows.push_back(EncoderMetrics(*model, cases, k));
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

// Windows per second of `steps` training steps on `threads` threads, on a throwaway copy
// of the model (the real run's weights and random streams are untouched).
double MeasureTrainingSpeed(const ModelConfig& config, const Tokenizer& tok,
                            const std::vector<Timeline>& train, const TrainOptions& o, int threads,
                            int64_t steps) {
  torch::set_num_threads(threads);
  auto model = SessionModel::Create(config, tok);
  auto& m = model->impl();
  m.net->train();
  m.net->set_dropout(o.dropout);
  std::mt19937_64 rng(o.seed + 1);
  const auto batches = PlanBatches(CutWindows(train, o.encoder.window, o.window_cut, rng),
                                   static_cast<size_t>(o.batch_size), o.length_buckets, rng);
  auto params = Parameters(m);
  torch::optim::AdamW optimizer(
      params, torch::optim::AdamWOptions(o.learning_rate).weight_decay(o.weight_decay));
  const Objective obj = ObjectiveOf(o);
  int64_t windows = 0;
  const auto t0 = Clock::now();
  for (int64_t s = 0; s < steps && !batches.empty(); ++s) {
    const auto& b = batches[static_cast<size_t>(s) % batches.size()];
    const auto loss =
        BatchLoss(m, MakeBatch(m.tokenizer, b, o.mask_probability, obj.next_gap_ms, rng), obj);
    if (!loss.requires_grad()) continue;  // no targets in this batch
    optimizer.zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(params, 1.0);
    optimizer.step();
    windows += static_cast<int64_t>(b.size());
  }
  return static_cast<double>(windows) / SecondsSince(t0);
}

}  // namespace

TrainResult TrainAndExport(const TrainOptions& o) {
  if (o.out_dir.empty()) throw std::runtime_error("--out is required");
  if (o.train_paths.empty()) throw std::runtime_error("--train is required");
  if (o.epochs < 1) throw std::runtime_error("--epochs must be at least 1");
  if (o.batch_size < 1) throw std::runtime_error("--batch must be at least 1");
  o.encoder.Validate("options");
  const auto t0 = Clock::now();

  DatasetSummary train_summary, valid_summary, eval_summary;
  std::vector<Timeline> train = LoadTimelines(o.train_paths, o.csv, &train_summary);
  PrintBadLines("train data", train_summary);
  std::vector<Timeline> valid, eval;
  if (!o.valid_paths.empty()) {
    valid = LoadTimelines(o.valid_paths, o.csv, &valid_summary);
    PrintBadLines("validation data", valid_summary);
  }
  if (!o.eval_paths.empty()) {
    eval = LoadTimelines(o.eval_paths, o.csv, &eval_summary);
    PrintBadLines("eval data", eval_summary);
  }
  if (o.valid_paths.empty() || o.eval_paths.empty()) {
    // Hold out visitors by a hash of their id (stable across runs): bucket 0 for the
    // evaluation, bucket 1 for validation.
    std::vector<Timeline> kept;
    for (auto& tl : train) {
      const uint64_t bucket = Fnv1a64(tl.visitor_id) % 10;
      if (bucket == 0 && o.eval_paths.empty()) {
        eval.push_back(std::move(tl));
      } else if (bucket == 1 && o.valid_paths.empty()) {
        valid.push_back(std::move(tl));
      } else {
        kept.push_back(std::move(tl));
      }
    }
    train = std::move(kept);
    Summarize(train, &train_summary);
    if (o.valid_paths.empty()) Summarize(valid, &valid_summary);
    if (o.eval_paths.empty()) Summarize(eval, &eval_summary);
  }
  std::fprintf(stderr, "train data: %s\nvalid data: %s\neval data:  %s\n",
               train_summary.Describe().c_str(), valid_summary.Describe().c_str(),
               eval_summary.Describe().c_str());
  if (train.empty()) throw std::runtime_error("no training events found");

  ModelConfig config;
  config.encoder = o.encoder;
  config.seed = o.seed;
  config.model_version = o.name;
  Tokenizer tok = BuildTokenizer(o.tokenizer, o.path_rules_file, o.min_count, o.max_vocab, train);
  config.tokenizer = tok.config();

  ModelCardInputs card;
  if (o.speed_probe_steps > 0) {
    for (int threads : {1, 2}) {
      card.speed_probe.emplace_back(
          threads, MeasureTrainingSpeed(config, tok, train, o, threads, o.speed_probe_steps));
      std::fprintf(stderr, "training speed, %d thread%s: %.1f windows/s\n", threads,
                   threads > 1 ? "s" : "", card.speed_probe.back().second);
    }
  }

  torch::set_num_threads(o.threads);
  auto model = SessionModel::Create(config, std::move(tok));
  auto& m = model->impl();
  m.net->train();
  m.net->set_dropout(o.dropout);
  const size_t k = static_cast<size_t>(o.top_k);
  const auto valid_cases = ValidationCases(valid, m.tokenizer, o.session_gap_ms, o.max_valid_cases);
  std::mt19937_64 rng(o.seed);
  std::vector<torch::Tensor> params = Parameters(m);
  torch::optim::AdamW optimizer(
      params, torch::optim::AdamWOptions(o.learning_rate).weight_decay(o.weight_decay));
  const auto bs = static_cast<size_t>(o.batch_size);
  // About the windows of every epoch (a random cut adds a few), for the progress bar.
  const size_t windows_per_epoch =
      CutWindows(train, o.encoder.window, WindowCut::kFixed, rng).size();
  const int64_t steps_per_epoch = static_cast<int64_t>((windows_per_epoch + bs - 1) / bs);
  int64_t total_steps = steps_per_epoch * o.epochs;
  if (o.max_steps > 0) total_steps = std::min(total_steps, o.max_steps);
  const bool tty = isatty(STDERR_FILENO) != 0;
  const Objective obj = ObjectiveOf(o);
  const auto steps_wanted = [&](int64_t step) { return o.max_steps <= 0 || step < o.max_steps; };

  TrainResult r;
  std::vector<torch::Tensor> best;
  double best_score = -1;
  int since_best = 0;
  int64_t step = 0;
  for (int epoch = 1; epoch <= o.epochs && steps_wanted(step); ++epoch) {
    const auto batches = PlanBatches(CutWindows(train, o.encoder.window, o.window_cut, rng), bs,
                                     o.length_buckets, rng);
    const auto e0 = Clock::now();
    double loss_sum = 0;
    int64_t loss_n = 0, windows = 0;
    for (size_t i = 0; i < batches.size() && steps_wanted(step); ++i) {
      const auto& b = batches[i];
      const auto loss =
          BatchLoss(m, MakeBatch(m.tokenizer, b, o.mask_probability, obj.next_gap_ms, rng), obj);
      if (!loss.requires_grad()) continue;  // no targets in this batch
      optimizer.zero_grad();
      loss.backward();
      torch::nn::utils::clip_grad_norm_(params, 1.0);
      double progress = (static_cast<double>(epoch - 1) +
                         static_cast<double>(i + 1) / static_cast<double>(batches.size())) /
                        static_cast<double>(o.epochs);
      if (o.max_steps > 0) {
        progress =
            std::max(progress, static_cast<double>(step + 1) / static_cast<double>(o.max_steps));
      }
      const double lr = LearningRate(o, progress);
      for (auto& group : optimizer.param_groups()) {
        static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
      }
      optimizer.step();
      ++step;
      windows += static_cast<int64_t>(b.size());
      loss_sum += loss.item<double>();
      ++loss_n;
      const int64_t every = tty ? 5 : std::max<int64_t>(1, total_steps / 10);
      if (o.progress && (step % every == 0 || step == total_steps)) {
        ProgressBar(epoch, o.epochs, step, total_steps, loss_sum / static_cast<double>(loss_n),
                    tty);
      }
    }
    EpochRecord rec;
    rec.seconds = SecondsSince(e0);
    rec.loss = loss_n ? loss_sum / static_cast<double>(loss_n) : 0.0;
    rec.windows_per_s = static_cast<double>(windows) / std::max(rec.seconds, 1e-9);
    rec.valid_mrr = valid_cases.empty() ? -1 : ScoreCases(*model, valid_cases, k);
    r.epochs.push_back(rec);
    if (o.progress) {
      std::fprintf(stderr, "%sepoch %d: loss %.4f, validation MRR@%zu %.4f, %.0f windows/s\n",
                   tty ? "\n" : "", epoch, rec.loss, k, rec.valid_mrr, rec.windows_per_s);
    }
    // Without validation data, the last epoch is the best.
    if (rec.valid_mrr > best_score || valid_cases.empty()) {
      best_score = rec.valid_mrr;
      r.best_epoch = epoch;
      since_best = 0;
      best.clear();
      for (const auto& p : params) best.push_back(p.detach().clone());
    } else if (o.patience > 0 && ++since_best >= o.patience) {
      if (o.progress)
        std::fprintf(stderr, "early stop: no better validation score in %d epochs\n", o.patience);
      break;
    }
  }
  if (!best.empty()) {  // the best epoch's weights are the ones saved
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(best[i]);
  }
  m.net->eval();
  const double seconds = SecondsSince(t0);

  // The version names the exact weights: prefix plus a digest of the weights file.
  model->Save(o.out_dir);
  r.model_version = o.name + "-" + FileDigest(o.out_dir + "/weights.pt");
  model->set_version(r.model_version);
  model->Save(o.out_dir);
  r.metrics = EvaluateAll(model.get(), model->tokenizer(), train, eval, o.session_gap_ms,
                          o.max_eval_cases, k, o.seed);
  r.table = FormatMetricsTable(r.metrics);
  r.verdict = CompareWithBest(r.metrics.back(),
                              std::vector<MethodMetrics>(r.metrics.begin(), r.metrics.end() - 1));
  r.valid_cases = valid_cases.size();
  r.first_epoch_loss = r.epochs.empty() ? 0 : r.epochs.front().loss;
  r.last_epoch_loss = r.epochs.empty() ? 0 : r.epochs.back().loss;

  card.options = &o;
  card.model = model.get();
  card.train = &train_summary;
  card.valid = &valid_summary;
  card.eval = &eval_summary;
  card.result = &r;
  card.steps = step;
  card.seconds = seconds;
  card.windows_per_epoch = windows_per_epoch;
  card.valid_cases = valid_cases.size();
  WriteModelCard(card);
  return r;
}

EvaluateResult EvaluateSaved(const EvaluateOptions& o) {
  if (o.train_paths.empty() || o.eval_paths.empty()) {
    throw std::runtime_error("evaluate needs --train (for the baselines) and --eval");
  }
  torch::set_num_threads(o.threads);
  EvaluateResult r;
  const auto train = LoadTimelines(o.train_paths, o.csv, &r.train);
  PrintBadLines("train data", r.train);
  const auto eval = LoadTimelines(o.eval_paths, o.csv, &r.eval);
  PrintBadLines("eval data", r.eval);
  std::fprintf(stderr, "train data: %s\neval data:  %s\n", r.train.Describe().c_str(),
               r.eval.Describe().c_str());
  const size_t k = static_cast<size_t>(o.top_k);
  if (o.model_dir.empty()) {
    const Tokenizer tok = BuildTokenizer(o.tokenizer, o.path_rules_file, o.min_count, 5000, train);
    r.metrics =
        EvaluateAll(nullptr, tok, train, eval, o.session_gap_ms, o.max_eval_cases, k, o.seed);
  } else {
    const auto model = SessionModel::Load(o.model_dir);
    r.metrics = EvaluateAll(model.get(), model->tokenizer(), train, eval, o.session_gap_ms,
                            o.max_eval_cases, k, o.seed);
  }
  return r;
}

}  // namespace intentstream::model
