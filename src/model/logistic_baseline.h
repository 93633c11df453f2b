// L2-regularised logistic regression fitted to convergence (full-batch L-BFGS): the
// linear baseline of the tabular mode. Inputs are the tabular encodings (standardised
// numerics, one-hot categoricals). No torch includes.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace intentstream::model {

struct LogisticOptions {
  double l2 = 1e-3;  // on the mean log loss, weights only
  int max_iterations = 500;
};

class LogisticRegression {
 public:
  // x: rows x cols, y: 0/1.
  void Fit(std::span<const float> x, size_t rows, size_t cols, std::span<const int> y,
           const LogisticOptions& options);
  std::vector<double> Predict(std::span<const float> x, size_t rows) const;
  const std::vector<double>& weights() const { return w_; }
  double bias() const { return b_; }

 private:
  std::vector<double> w_;
  double b_ = 0;
};

}  // namespace intentstream::model
