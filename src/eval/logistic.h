// Logistic and softmax regression trained by plain SGD: the baselines' models.
// Deterministic (own shuffling), dense float features, no dependencies.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace intentstream::eval {

struct TrainOptions {
  int epochs = 8;
  double learning_rate = 0.05;  // decays as 1 / sqrt(1 + epoch)
  double l2 = 1e-5;
  uint64_t seed = 1;
};

// classes == 1: binary (sigmoid); classes > 1: softmax over classes.
class LinearModel {
 public:
  LinearModel(size_t features, size_t classes);
  // x[i] has `features` values (only the first `features` are read); y[i] is the
  // class (binary: 0 or 1).
  void Train(const std::vector<std::span<const float>>& x, const std::vector<int>& y,
             const TrainOptions& options);
  // Binary: P(y = 1). Softmax: fills `probs` (size classes) and returns the top one.
  double Predict(std::span<const float> x) const;
  void PredictAll(std::span<const float> x, std::vector<double>* probs) const;

 private:
  size_t features_;
  size_t classes_;
  std::vector<double> w_;  // classes x (features + 1 bias)
};

}  // namespace intentstream::eval
