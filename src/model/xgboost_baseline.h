// Gradient-boosted trees through xgboost's C API (libxgboost-dev): the tree baseline of
// the tabular mode. Trained with early stopping on a validation split (log loss,
// patience in rounds); predictions use the best round. No torch includes.
//
// Thread-safety: one instance per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace intentstream::model {

// An xgboost call failed; what() carries xgboost's own message.
class XGBoostError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct XGBoostOptions {
  int max_rounds = 2000;
  int patience = 50;  // rounds without a better validation log loss
  double eta = 0.05;
  int max_depth = 4;
  double subsample = 0.8;
  double colsample_bytree = 0.8;
  double min_child_weight = 1;
  double lambda = 1;
  uint64_t seed = 7;
  int threads = 1;
};

class XGBoostModel {
 public:
  XGBoostModel();
  ~XGBoostModel();
  XGBoostModel(const XGBoostModel&) = delete;
  XGBoostModel& operator=(const XGBoostModel&) = delete;

  // x: rows x cols floats (NaN = missing); y: 0/1.
  void Fit(std::span<const float> x, size_t rows, size_t cols, std::span<const int> y,
           std::span<const float> validation_x, size_t validation_rows,
           std::span<const int> validation_y, const XGBoostOptions& options);
  std::vector<double> Predict(std::span<const float> x, size_t rows) const;
  int best_rounds() const { return best_rounds_; }

 private:
  struct Handles;
  std::unique_ptr<Handles> h_;
  size_t cols_ = 0;
  int best_rounds_ = 0;
};

// The library's version, e.g. "1.7.4".
std::string XGBoostVersion();

}  // namespace intentstream::model
