#include "model/intent_head_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "model/intent_head_net.h"

namespace intentstream::model {

namespace {

double Sigmoid(double z) {
  return 1.0 / (1.0 + std::exp(-z));
}

// Platt scaling: a, b minimising the log loss of sigmoid(a z + b) (Newton's method with
// a little ridge so that a separable intent does not run away).
std::pair<double, double> FitPlatt(const std::vector<float>& z, const std::vector<uint8_t>& y) {
  double a = 1, b = 0;
  constexpr double kRidge = 1e-3;
  for (int iter = 0; iter < 50; ++iter) {
    double ga = kRidge * (a - 1), gb = 0, haa = kRidge, hab = 0, hbb = 1e-9;
    for (size_t i = 0; i < z.size(); ++i) {
      const double p = Sigmoid(a * z[i] + b);
      const double r = p - y[i];
      const double w = p * (1 - p);
      ga += r * z[i];
      gb += r;
      haa += w * z[i] * z[i];
      hab += w * z[i];
      hbb += w;
    }
    const double det = haa * hbb - hab * hab;
    if (!(det > 1e-12)) break;
    const double da = (hbb * ga - hab * gb) / det;
    const double db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (std::abs(da) + std::abs(db) < 1e-9) break;
  }
  if (!std::isfinite(a) || !std::isfinite(b)) return {1, 0};
  return {a, b};
}

// The probability threshold with the best F1 against the targets (0.5 without positives).
float BestThreshold(const std::vector<float>& p, const std::vector<uint8_t>& y) {
  size_t positives = 0;
  for (uint8_t v : y) positives += v;
  if (positives == 0) return 0.5f;
  float best_t = 0.5f;
  double best_f1 = -1;
  for (int step = 1; step < 40; ++step) {
    const float t = static_cast<float>(step) * 0.025f;
    double tp = 0, fp = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] >= t) (y[i] ? tp : fp) += 1;
    }
    const double f1 = 2 * tp / (2 * tp + fp + (static_cast<double>(positives) - tp));
    if (f1 > best_f1 + 1e-12) {
      best_f1 = f1;
      best_t = t;
    }
  }
  return best_t;
}

// The top label under `threshold`, as IntentHead::Labels picks it: the intent furthest
// over its threshold (the lower index on a tie), else the default label.
int TopLabel(const float* p, const std::vector<float>& threshold, int fallback) {
  int best = -1;
  float best_margin = 0;
  for (size_t j = 0; j < threshold.size(); ++j) {
    if (static_cast<int>(j) == fallback) continue;
    const float margin = p[j] - threshold[j];
    if (margin >= 0 && (best < 0 || margin > best_margin)) {
      best = static_cast<int>(j);
      best_margin = margin;
    }
  }
  return best >= 0 ? best : fallback;
}

// Coordinate ascent on the macro-F1 of the top label: each intent's threshold in turn
// over the same grid as BestThreshold, the others fixed, until a pass gains nothing.
// `p` holds the calibrated probabilities, row-major.
double TuneTopLabelThresholds(const std::vector<float>& p, const std::vector<int>& top,
                              int fallback, std::vector<float>& threshold) {
  const size_t k = threshold.size();
  std::vector<int> predicted(top.size());
  const auto score = [&] {
    for (size_t i = 0; i < top.size(); ++i) predicted[i] = TopLabel(&p[i * k], threshold, fallback);
    return TopLabelMacroF1(top, predicted, k);
  };
  double best = score();
  for (int pass = 0; pass < 4; ++pass) {
    const double at_start = best;
    for (size_t j = 0; j < k; ++j) {
      if (static_cast<int>(j) == fallback) continue;
      float best_t = threshold[j];
      for (int step = 1; step < 40; ++step) {
        threshold[j] = static_cast<float>(step) * 0.025f;
        const double f1 = score();
        if (f1 > best + 1e-9) {
          best = f1;
          best_t = threshold[j];
        }
      }
      threshold[j] = best_t;
    }
    if (best <= at_start + 1e-9) break;
  }
  return best;
}

void Check(const IntentHeadConfig& c, std::span<const HeadExample> examples, const char* what) {
  for (const auto& e : examples) {
    if (e.embedding.size() != static_cast<size_t>(c.embedding_dim) ||
        e.targets.size() != c.intents.size()) {
      throw std::invalid_argument(std::string("intent head training: a ") + what +
                                  " example does not match the head's sizes");
    }
  }
}

}  // namespace

double TopLabelMacroF1(std::span<const int> truth, std::span<const int> predicted, size_t k) {
  std::vector<double> tp(k), fp(k), fn(k);
  for (size_t i = 0; i < truth.size() && i < predicted.size(); ++i) {
    if (truth[i] < 0 || predicted[i] < 0) continue;
    if (truth[i] == predicted[i]) {
      ++tp[static_cast<size_t>(truth[i])];
    } else {
      ++fp[static_cast<size_t>(predicted[i])];
      ++fn[static_cast<size_t>(truth[i])];
    }
  }
  double sum = 0;
  int n = 0;
  for (size_t j = 0; j < k; ++j) {
    if (tp[j] + fp[j] + fn[j] == 0) continue;
    sum += 2 * tp[j] / (2 * tp[j] + fp[j] + fn[j]);
    ++n;
  }
  return n > 0 ? sum / n : 0;
}

std::vector<double> ExpectedCalibrationError(const IntentHead& head,
                                             std::span<const HeadExample> examples,
                                             bool calibrated) {
  const size_t k = head.intents().size();
  const size_t d = head.embedding_dim();
  std::vector<double> sum_p(k * 10), sum_y(k * 10), n(k * 10);
  std::vector<float> out(k);
  for (const auto& e : examples) {
    if (calibrated) {
      head.Score(std::span<const float>(e.embedding.data(), d), 1, out);
    } else {
      head.Logits(std::span<const float>(e.embedding.data(), d), 1, out);
      for (float& z : out) z = static_cast<float>(Sigmoid(z));
    }
    for (size_t j = 0; j < k; ++j) {
      const size_t bin = std::min<size_t>(9, static_cast<size_t>(out[j] * 10));
      sum_p[j * 10 + bin] += out[j];
      sum_y[j * 10 + bin] += e.targets[j];
      n[j * 10 + bin] += 1;
    }
  }
  std::vector<double> ece(k, 0.0);
  const double total = static_cast<double>(examples.size());
  for (size_t j = 0; j < k && total > 0; ++j) {
    for (size_t b = 0; b < 10; ++b) {
      const double m = n[j * 10 + b];
      if (m > 0) ece[j] += std::abs(sum_y[j * 10 + b] - sum_p[j * 10 + b]) / total;
    }
  }
  return ece;
}

std::shared_ptr<IntentHead> TrainIntentHead(IntentHeadConfig config,
                                            std::span<const HeadExample> train,
                                            std::span<const HeadExample> calibration,
                                            const HeadTrainOptions& options,
                                            HeadTrainReport* report) {
  const auto started = std::chrono::steady_clock::now();
  config.hidden = options.hidden;
  config.seed = options.seed;
  Check(config, train, "training");
  Check(config, calibration, "calibration");
  if (train.empty()) throw std::invalid_argument("intent head training: no training examples");
  for (const auto& e : train) {
    if (!e.soft.empty() && e.soft.size() != config.intents.size()) {
      throw std::invalid_argument("intent head training: soft labels do not match the intents");
    }
  }
  auto head = IntentHead::Create(config);
  auto& net = head->impl().net;
  const auto n = static_cast<int64_t>(train.size());
  const int64_t d = config.embedding_dim;
  const auto k = static_cast<int64_t>(config.intents.size());
  auto x = torch::empty({n, d});
  auto y = torch::empty({n, k});
  {
    float* xp = x.data_ptr<float>();
    float* yp = y.data_ptr<float>();
    for (int64_t i = 0; i < n; ++i) {
      const auto& e = train[static_cast<size_t>(i)];
      std::copy(e.embedding.begin(), e.embedding.end(), xp + i * d);
      const double w = e.soft.size() == static_cast<size_t>(k) ? options.soft_label_weight : 0.0;
      for (int64_t j = 0; j < k; ++j) {
        const auto jj = static_cast<size_t>(j);
        yp[i * k + j] = static_cast<float>((1 - w) * e.targets[jj] + (w > 0 ? w * e.soft[jj] : 0));
      }
    }
  }
  // Rare intents' positives count more (bounded), so the default label does not win by
  // sheer numbers; calibration afterwards undoes the shift in the probabilities.
  auto positive_weight = torch::ones({k});
  if (options.positive_weight_power > 0) {
    auto hard = torch::empty({n, k});
    float* hp = hard.data_ptr<float>();
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < k; ++j) {
        hp[i * k + j] = train[static_cast<size_t>(i)].targets[static_cast<size_t>(j)];
      }
    }
    const auto positives = hard.sum(0);
    for (int64_t j = 0; j < k; ++j) {
      const double pos = positives[j].item<double>();
      if (pos > 0) {
        const double ratio = (static_cast<double>(n) - pos) / pos;
        positive_weight[j] = std::clamp(std::pow(ratio, options.positive_weight_power), 1.0, 50.0);
      }
    }
  }
  const auto loss_options =
      torch::nn::functional::BinaryCrossEntropyWithLogitsFuncOptions().pos_weight(positive_weight);
  torch::manual_seed(options.seed);
  torch::optim::AdamW opt(
      net->parameters(),
      torch::optim::AdamWOptions(options.learning_rate).weight_decay(options.weight_decay));
  net->train();
  const int64_t batch = std::max(1, options.batch_size);
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    // Cosine decay of the learning rate: a steadier end point than a constant rate.
    const double lr =
        options.learning_rate * 0.5 * (1 + std::cos(M_PI * epoch / std::max(1, options.epochs)));
    for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    const auto perm = torch::randperm(n, torch::kLong);
    double total = 0;
    int64_t steps = 0;
    for (int64_t b = 0; b < n; b += batch) {
      const auto idx = perm.slice(0, b, std::min(n, b + batch));
      const auto loss = torch::nn::functional::binary_cross_entropy_with_logits(
          net->forward(x.index_select(0, idx)), y.index_select(0, idx), loss_options);
      opt.zero_grad();
      loss.backward();
      opt.step();
      total += loss.item<double>();
      ++steps;
    }
    if (report != nullptr) report->epoch_loss.push_back(total / static_cast<double>(steps));
  }
  net->eval();
  // Calibration and thresholds on held-out sessions, through the serving path.
  std::vector<std::vector<float>> logits(static_cast<size_t>(k));
  std::vector<std::vector<uint8_t>> targets(static_cast<size_t>(k));
  std::vector<float> out(static_cast<size_t>(k));
  for (const auto& e : calibration) {
    head->Logits(std::span<const float>(e.embedding.data(), static_cast<size_t>(d)), 1, out);
    for (size_t j = 0; j < static_cast<size_t>(k); ++j) {
      logits[j].push_back(out[j]);
      targets[j].push_back(e.targets[j]);
    }
  }
  if (report != nullptr) report->ece_raw = ExpectedCalibrationError(*head, calibration, false);
  std::vector<float> a(static_cast<size_t>(k), 1.0f), bias(static_cast<size_t>(k), 0.0f),
      threshold(static_cast<size_t>(k), 0.5f);
  for (size_t j = 0; j < static_cast<size_t>(k) && !calibration.empty(); ++j) {
    const auto [pa, pb] = FitPlatt(logits[j], targets[j]);
    a[j] = static_cast<float>(pa);
    bias[j] = static_cast<float>(pb);
    std::vector<float> p(logits[j].size());
    for (size_t i = 0; i < p.size(); ++i) {
      p[i] = static_cast<float>(Sigmoid(pa * logits[j][i] + pb));
    }
    threshold[j] = BestThreshold(p, targets[j]);
  }
  // Thresholds together, for the top label the decisions and the evaluation use.
  int fallback = -1;
  for (size_t j = 0; j < config.intents.size(); ++j) {
    if (config.intents[j] == config.default_intent) fallback = static_cast<int>(j);
  }
  std::vector<int> top;
  std::vector<float> p;
  for (size_t i = 0; i < calibration.size(); ++i) {
    if (calibration[i].top < 0) continue;
    top.push_back(calibration[i].top);
    for (size_t j = 0; j < static_cast<size_t>(k); ++j) {
      p.push_back(static_cast<float>(Sigmoid(a[j] * logits[j][i] + bias[j])));
    }
  }
  if (!top.empty() && fallback >= 0) {
    std::vector<int> predicted(top.size());
    for (size_t i = 0; i < top.size(); ++i) {
      predicted[i] = TopLabel(&p[i * static_cast<size_t>(k)], threshold, fallback);
    }
    const double per_intent = TopLabelMacroF1(top, predicted, static_cast<size_t>(k));
    double tuned = per_intent;
    if (options.tune_top_label) tuned = TuneTopLabelThresholds(p, top, fallback, threshold);
    if (report != nullptr) {
      report->top_macro_f1_per_intent = per_intent;
      report->top_macro_f1_tuned = tuned;
    }
  }
  head->SetCalibration(std::move(a), std::move(bias), std::move(threshold));
  if (report != nullptr) {
    report->ece_calibrated = ExpectedCalibrationError(*head, calibration, true);
    report->seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }
  return head;
}

}  // namespace intentstream::model
