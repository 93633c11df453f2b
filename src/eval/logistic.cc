#include "eval/logistic.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "sim/random.h"

namespace intentstream::eval {

LinearModel::LinearModel(size_t features, size_t classes)
    : features_(features), classes_(classes), w_(classes * (features + 1), 0.0) {}

namespace {
double Sigmoid(double z) {
  return 1.0 / (1.0 + std::exp(-std::clamp(z, -35.0, 35.0)));
}
}  // namespace

void LinearModel::PredictAll(std::span<const float> x, std::vector<double>* probs) const {
  probs->assign(classes_, 0.0);
  const size_t stride = features_ + 1;
  for (size_t c = 0; c < classes_; ++c) {
    const double* w = &w_[c * stride];
    double z = w[features_];
    for (size_t j = 0; j < features_; ++j) z += w[j] * x[j];
    (*probs)[c] = z;
  }
  if (classes_ == 1) {
    (*probs)[0] = Sigmoid((*probs)[0]);
    return;
  }
  const double max = *std::max_element(probs->begin(), probs->end());
  double sum = 0;
  for (double& p : *probs) sum += (p = std::exp(p - max));
  for (double& p : *probs) p /= sum;
}

double LinearModel::Predict(std::span<const float> x) const {
  std::vector<double> probs;
  PredictAll(x, &probs);
  if (classes_ == 1) return probs[0];
  return static_cast<double>(std::max_element(probs.begin(), probs.end()) - probs.begin());
}

void LinearModel::Train(const std::vector<std::span<const float>>& x, const std::vector<int>& y,
                        const TrainOptions& options) {
  std::vector<size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  sim::Rng rng(options.seed);
  const size_t stride = features_ + 1;
  std::vector<double> probs;
  // Averaging the iterates of the last epoch (Polyak averaging) removes most of the
  // noise plain SGD leaves on rare positives, which matters for calibration.
  std::vector<double> average(w_.size(), 0.0);
  double averaged = 0;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.Below(i)]);
    const double lr = options.learning_rate / std::sqrt(1.0 + epoch);
    for (size_t idx : order) {
      const auto& xi = x[idx];
      PredictAll(xi, &probs);
      for (size_t c = 0; c < classes_; ++c) {
        const double target = classes_ == 1 ? y[idx] : (static_cast<int>(c) == y[idx] ? 1.0 : 0.0);
        const double g = probs[c] - target;  // d(log loss)/dz
        double* w = &w_[c * stride];
        for (size_t j = 0; j < features_; ++j) {
          w[j] -= lr * (g * xi[j] + options.l2 * w[j]);
        }
        w[features_] -= lr * g;
      }
      if (epoch == options.epochs - 1) {
        for (size_t k = 0; k < w_.size(); ++k) average[k] += w_[k];
        ++averaged;
      }
    }
  }
  if (averaged > 0) {
    for (size_t k = 0; k < w_.size(); ++k) w_[k] = average[k] / averaged;
  }
}

}  // namespace intentstream::eval
