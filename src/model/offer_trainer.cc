#include "model/offer_trainer.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

#include "model/offer_network.h"
#include "model/tokenizer.h"  // ModelError

namespace intentstream::model {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::array<int64_t, 2> kDims02 = {0, 2};  // sums over rows and offers, per task

torch::Tensor Standardised(const std::vector<float>& raw, size_t rows, const InputBlock& b) {
  const auto n = static_cast<int64_t>(rows);
  const auto w = static_cast<int64_t>(b.size());
  if (w == 0) return torch::zeros({n, 1});
  auto x = torch::from_blob(const_cast<float*>(raw.data()), {n, w}).clone();
  auto mean = torch::from_blob(const_cast<float*>(b.mean.data()), {1, w}).clone();
  auto sd = torch::from_blob(const_cast<float*>(b.sd.data()), {1, w}).clone().clamp_min(1e-6);
  return (x - mean) / sd;
}

struct Tensors {
  torch::Tensor sem, str, target, mask;  // target/mask [N, T, O]
  int64_t rows = 0;
};

Tensors ToTensors(const OfferTrainData& d, const OfferModelSpec& spec) {
  Tensors t;
  t.rows = static_cast<int64_t>(d.inputs.rows);
  t.sem = Standardised(d.inputs.semantic, d.inputs.rows, spec.semantic);
  t.str = Standardised(d.inputs.structured, d.inputs.rows, spec.structured);
  const auto tasks = static_cast<int64_t>(d.tasks), offers = static_cast<int64_t>(d.offers);
  t.target = torch::from_blob(const_cast<float*>(d.target.data()), {t.rows, tasks, offers}).clone();
  t.mask = torch::from_blob(const_cast<float*>(d.mask.data()), {t.rows, tasks, offers}).clone();
  return t;
}

void CheckShapes(const OfferTrainData& d, const OfferModelSpec& s, const char* which) {
  const size_t cells = d.inputs.rows * d.tasks * d.offers;
  if (d.inputs.semantic.size() != d.inputs.rows * s.semantic.size() ||
      d.inputs.structured.size() != d.inputs.rows * s.structured.size() ||
      d.target.size() != cells || d.mask.size() != cells || d.tasks != s.tasks.size() ||
      d.offers != s.offers.size()) {
    throw ModelError(std::string("offer trainer: ") + which +
                     " data does not match the model's inputs, tasks and offers");
  }
}

struct LossParts {
  torch::Tensor bce;  // weighted sum over tasks of the masked mean
  torch::Tensor aux;
};

LossParts Losses(OfferNetImpl& net, const torch::Tensor& comp, const torch::Tensor& sem,
                 const torch::Tensor& str, const torch::Tensor& target, const torch::Tensor& mask,
                 const torch::Tensor& task_weights, bool with_aux) {
  const auto out = net.Visitor(sem, str, with_aux);
  auto [e, c] = net.Offers(comp);
  const auto logits = OfferLogits(out.v, out.u, e, c);  // [B, T, O]
  const auto per = torch::binary_cross_entropy_with_logits(logits, target, {}, {},
                                                           at::Reduction::None);       // [B, T, O]
  const auto per_task = (per * mask).sum(kDims02) / mask.sum(kDims02).clamp_min(1.0);  // [T]
  LossParts parts;
  parts.bce = (per_task * task_weights).sum();
  if (with_aux) {
    // Branch logits [M, B, T, O] against the ensemble's probabilities, held fixed.
    const auto branch_logits = torch::matmul(out.branch_v, e.t()) + out.branch_u.unsqueeze(3) +
                               c.t().unsqueeze(0).unsqueeze(0);
    const auto p_ens = torch::sigmoid(logits).detach().unsqueeze(0);
    const auto diff = (torch::sigmoid(branch_logits) - p_ens).pow(2) * mask.unsqueeze(0);
    parts.aux =
        diff.sum() / (mask.sum() * static_cast<double>(out.branch_v.size(0))).clamp_min(1.0);
  }
  return parts;
}

}  // namespace

void SetTrainingThreads(int threads) {
  torch::set_num_threads(std::max(1, threads));
}

void FitStandardisation(const OfferInputs& in, OfferModelSpec* spec) {
  auto fit = [&](const std::vector<float>& raw, InputBlock* b) {
    const size_t w = b->size();
    b->mean.assign(w, 0.0f);
    b->sd.assign(w, 1.0f);
    if (in.rows == 0) return;
    for (size_t j = 0; j < w; ++j) {
      double s = 0, sq = 0;
      for (size_t r = 0; r < in.rows; ++r) {
        const double x = raw[r * w + j];
        s += x;
        sq += x * x;
      }
      const double n = static_cast<double>(in.rows);
      const double mean = s / n;
      const double var = std::max(0.0, sq / n - mean * mean);
      b->mean[j] = static_cast<float>(mean);
      b->sd[j] = var > 1e-10 ? static_cast<float>(std::sqrt(var)) : 1.0f;
    }
  };
  fit(in.semantic, &spec->semantic);
  fit(in.structured, &spec->structured);
}

std::shared_ptr<OfferModel> TrainOfferModel(OfferModelSpec spec, const OfferTrainData& train,
                                            const OfferTrainData& validation,
                                            const OfferTrainOptions& o, OfferTrainReport* report) {
  const auto t0 = Clock::now();
  CheckShapes(train, spec, "training");
  CheckShapes(validation, spec, "validation");
  if (train.inputs.rows == 0) throw ModelError("offer trainer: no training rows");
  torch::manual_seed(o.seed);
  auto model = OfferModel::Create(std::move(spec));
  auto& impl = model->impl();
  auto& net = *impl.net;
  const auto& s = impl.spec;
  const auto tasks = static_cast<int64_t>(s.tasks.size());
  net.dropout->options.p(o.dropout);

  const Tensors tr = ToTensors(train, s);
  const Tensors va = ToTensors(validation, s);
  const auto comp = impl.Composition(s.offers, nullptr);
  std::vector<float> tw(static_cast<size_t>(tasks), 1.0f);
  for (size_t t = 0; t < tw.size() && t < o.task_weights.size(); ++t) {
    tw[t] = static_cast<float>(o.task_weights[t]);
  }
  const auto task_weights = torch::tensor(tw);
  {
    // Start every branch's visitor offset at the training base rate of its task.
    torch::NoGradGuard no_grad;
    const auto rate = ((tr.target * tr.mask).sum(kDims02) / tr.mask.sum(kDims02).clamp_min(1.0))
                          .clamp(1e-4, 1 - 1e-4);
    const auto base = torch::log(rate / (1 - rate));
    for (auto& layer : net.out) {
      for (int64_t t = 0; t < tasks; ++t) {
        layer->bias[t * (s.net.offer_dim + 1) + s.net.offer_dim] = base[t];
      }
    }
  }
  std::vector<torch::Tensor> weights, biases;
  for (const auto& p : net.named_parameters()) {
    if (p.key() == "atoms" || p.key() == "mix_logits") continue;
    (p.key().find("weight") != std::string::npos ? weights : biases).push_back(p.value());
  }
  torch::optim::Adam optimizer(net.parameters(), torch::optim::AdamOptions(o.learning_rate));
  const int64_t atom_offers = impl.atom_offers;
  auto l2 = [&]() {
    auto sum = torch::zeros({});
    for (const auto& w : weights) sum = sum + o.weight_decay * w.pow(2).sum();
    if (atom_offers > 0) {
      sum = sum + o.residual_l2 * net.atoms.narrow(0, 0, atom_offers).pow(2).sum();
    }
    const int64_t rest = net.atoms.size(0) - atom_offers;
    if (rest > 0) sum = sum + o.atom_l2 * net.atoms.narrow(0, atom_offers, rest).pow(2).sum();
    return sum;
  };
  auto validation_loss = [&]() {
    torch::NoGradGuard no_grad;
    net.eval();
    double total = 0;
    const int64_t chunk = 8192;
    std::vector<double> num(static_cast<size_t>(tasks), 0.0), den(static_cast<size_t>(tasks), 0.0);
    for (int64_t r0 = 0; r0 < va.rows; r0 += chunk) {
      const int64_t n = std::min(chunk, va.rows - r0);
      const auto out = net.Visitor(va.sem.narrow(0, r0, n), va.str.narrow(0, r0, n), false);
      auto [e, c] = net.Offers(comp);
      const auto logits = OfferLogits(out.v, out.u, e, c);
      const auto mask = va.mask.narrow(0, r0, n);
      const auto per = torch::binary_cross_entropy_with_logits(logits, va.target.narrow(0, r0, n),
                                                               {}, {}, at::Reduction::None);
      const auto a = (per * mask).sum(kDims02);
      const auto b = mask.sum(kDims02);
      for (int64_t t = 0; t < tasks; ++t) {
        num[static_cast<size_t>(t)] += a[t].item<double>();
        den[static_cast<size_t>(t)] += b[t].item<double>();
      }
    }
    for (int64_t t = 0; t < tasks; ++t) {
      const auto i = static_cast<size_t>(t);
      total += tw[i] * (den[i] > 0 ? num[i] / den[i] : 0.0);
    }
    net.train();
    return total;
  };

  std::mt19937_64 rng(o.seed);
  std::vector<int64_t> order(static_cast<size_t>(tr.rows));
  std::iota(order.begin(), order.end(), 0);
  OfferTrainReport rep;
  double best = std::numeric_limits<double>::infinity();
  std::vector<torch::Tensor> best_params;
  int since_best = 0;
  net.train();
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
    double sum = 0;
    int64_t batches = 0;
    for (size_t b0 = 0; b0 < order.size(); b0 += static_cast<size_t>(o.batch)) {
      const size_t b1 = std::min(order.size(), b0 + static_cast<size_t>(o.batch));
      const auto idx =
          torch::from_blob(order.data() + b0, {static_cast<int64_t>(b1 - b0)}, torch::kLong);
      const auto parts = Losses(net, comp, tr.sem.index_select(0, idx), tr.str.index_select(0, idx),
                                tr.target.index_select(0, idx), tr.mask.index_select(0, idx),
                                task_weights, o.aux_weight > 0);
      auto loss = parts.bce + l2();
      if (o.aux_weight > 0) loss = loss + o.aux_weight * parts.aux;
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      sum += parts.bce.item<double>();
      ++batches;
    }
    const double vl = validation_loss();
    rep.train_loss.push_back(batches ? sum / static_cast<double>(batches) : 0);
    rep.validation_loss.push_back(vl);
    if (o.progress) {
      std::fprintf(stderr, "epoch %d/%d train %.5f validation %.5f\n", epoch, o.epochs,
                   rep.train_loss.back(), vl);
    }
    if (vl < best - 1e-6) {
      best = vl;
      rep.best_epoch = epoch;
      since_best = 0;
      best_params.clear();
      for (const auto& p : net.parameters()) best_params.push_back(p.detach().clone());
    } else if (++since_best >= o.patience) {
      break;
    }
  }
  {
    torch::NoGradGuard no_grad;
    auto params = net.parameters();
    for (size_t i = 0; i < params.size() && i < best_params.size(); ++i)
      params[i].copy_(best_params[i]);
  }
  net.eval();
  impl.FoldStandardisation();
  // Platt scaling per task on the validation rows' raw ensemble logits.
  if (validation.inputs.rows > 0) {
    std::vector<float> raw;
    model->Predict(validation.inputs, *model->PrepareTrained(), &raw);
    for (int64_t t = 0; t < tasks; ++t) {
      std::vector<double> z;
      std::vector<int> y;
      for (size_t r = 0; r < validation.inputs.rows; ++r) {
        for (size_t k = 0; k < validation.offers; ++k) {
          const size_t at = (r * validation.tasks + static_cast<size_t>(t)) * validation.offers + k;
          if (validation.mask[at] == 0) continue;
          z.push_back(raw[at]);
          y.push_back(validation.target[at] > 0.5f ? 1 : 0);
        }
      }
      impl.spec.calibration[static_cast<size_t>(t)] = PlattScaling::Fit(z, y);
    }
    torch::NoGradGuard no_grad;
    rep.mean_gate = net.Gate(va.sem, va.str).mean().item<double>();
  }
  {
    torch::NoGradGuard no_grad;
    const auto mix = net.Mix();
    for (int64_t m = 0; m < mix.size(0); ++m) rep.mix.push_back(mix[m].item<double>());
  }
  for (const auto& p : net.parameters()) rep.parameters += p.numel();
  rep.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (report != nullptr) *report = std::move(rep);
  return model;
}

std::vector<double> MaskedLogLoss(const OfferModel& model, const OfferTrainData& d) {
  const auto p = model.Predict(d.inputs, *model.PrepareTrained());
  std::vector<double> num(d.tasks, 0.0), den(d.tasks, 0.0);
  for (size_t i = 0; i < p.size(); ++i) {
    if (d.mask[i] == 0) continue;
    const size_t t = (i / d.offers) % d.tasks;
    const double q = std::clamp(static_cast<double>(p[i]), 1e-7, 1 - 1e-7);
    num[t] -= d.target[i] > 0.5f ? std::log(q) : std::log(1 - q);
    den[t] += 1;
  }
  for (size_t t = 0; t < d.tasks; ++t) num[t] = den[t] > 0 ? num[t] / den[t] : 0;
  return num;
}

}  // namespace intentstream::model
