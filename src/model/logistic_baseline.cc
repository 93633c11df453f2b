#include "model/logistic_baseline.h"

#include <torch/torch.h>

#include <cmath>

#include "model/calibration.h"

namespace intentstream::model {

void LogisticRegression::Fit(std::span<const float> x, size_t rows, size_t cols,
                             std::span<const int> y, const LogisticOptions& o) {
  const auto n = static_cast<int64_t>(rows), d = static_cast<int64_t>(cols);
  const auto X = torch::from_blob(const_cast<float*>(x.data()), {n, d}).to(torch::kDouble);
  std::vector<double> yd(y.begin(), y.end());
  const auto Y = torch::from_blob(yd.data(), {n}, torch::kDouble).clone();
  auto w = torch::zeros({d}, torch::TensorOptions().dtype(torch::kDouble).requires_grad(true));
  // Start the bias at the base rate: fewer iterations, same optimum.
  const double rate = std::clamp(Y.mean().item<double>(), 1e-6, 1 - 1e-6);
  auto b = torch::full({1}, std::log(rate / (1 - rate)),
                       torch::TensorOptions().dtype(torch::kDouble).requires_grad(true));
  torch::optim::LBFGS opt({w, b}, torch::optim::LBFGSOptions(1.0)
                                      .max_iter(o.max_iterations)
                                      .tolerance_grad(1e-9)
                                      .tolerance_change(1e-12)
                                      .line_search_fn("strong_wolfe"));
  auto closure = [&]() {
    opt.zero_grad();
    const auto z = X.matmul(w) + b;
    const auto loss = torch::binary_cross_entropy_with_logits(z, Y) + o.l2 * w.pow(2).sum();
    loss.backward();
    return loss;
  };
  opt.step(closure);
  w_.assign(static_cast<size_t>(d), 0.0);
  const auto wd = w.detach().contiguous();
  for (int64_t j = 0; j < d; ++j) w_[static_cast<size_t>(j)] = wd[j].item<double>();
  b_ = b.detach().item<double>();
}

std::vector<double> LogisticRegression::Predict(std::span<const float> x, size_t rows) const {
  std::vector<double> p(rows);
  const size_t d = w_.size();
  for (size_t r = 0; r < rows; ++r) {
    double z = b_;
    for (size_t j = 0; j < d; ++j) z += w_[j] * x[r * d + j];
    p[r] = Sigmoid(z);
  }
  return p;
}

}  // namespace intentstream::model
