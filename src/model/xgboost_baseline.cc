#include "model/xgboost_baseline.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <limits>

#include "model/binary_metrics.h"

namespace intentstream::model {

namespace {

void Check(int rc, const char* what) {
  if (rc != 0) throw XGBoostError(std::string("xgboost ") + what + ": " + XGBGetLastError());
}

// Owns one DMatrix.
class Matrix {
 public:
  Matrix(std::span<const float> x, size_t rows, size_t cols, std::span<const int> y) {
    Check(XGDMatrixCreateFromMat(x.data(), rows, cols, std::numeric_limits<float>::quiet_NaN(),
                                 &handle_),
          "XGDMatrixCreateFromMat");
    if (!y.empty()) {
      std::vector<float> labels(y.begin(), y.end());
      Check(XGDMatrixSetFloatInfo(handle_, "label", labels.data(), labels.size()),
            "XGDMatrixSetFloatInfo");
    }
  }
  ~Matrix() { XGDMatrixFree(handle_); }
  Matrix(const Matrix&) = delete;
  Matrix& operator=(const Matrix&) = delete;
  DMatrixHandle get() const { return handle_; }

 private:
  DMatrixHandle handle_ = nullptr;
};

std::vector<double> PredictRounds(BoosterHandle booster, DMatrixHandle m, size_t rows, int rounds) {
  const std::string config =
      "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
      "\"iteration_end\": " +
      std::to_string(rounds) + ", \"strict_shape\": false}";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  Check(XGBoosterPredictFromDMatrix(booster, m, config.c_str(), &shape, &dim, &out),
        "XGBoosterPredictFromDMatrix");
  return std::vector<double>(out, out + rows);
}

}  // namespace

struct XGBoostModel::Handles {
  BoosterHandle booster = nullptr;
  ~Handles() {
    if (booster != nullptr) XGBoosterFree(booster);
  }
};

XGBoostModel::XGBoostModel() : h_(std::make_unique<Handles>()) {}
XGBoostModel::~XGBoostModel() = default;

void XGBoostModel::Fit(std::span<const float> x, size_t rows, size_t cols, std::span<const int> y,
                       std::span<const float> vx, size_t vrows, std::span<const int> vy,
                       const XGBoostOptions& o) {
  cols_ = cols;
  const Matrix train(x, rows, cols, y);
  const Matrix validation(vx, vrows, cols, vy);
  if (h_->booster != nullptr) XGBoosterFree(h_->booster);
  h_->booster = nullptr;
  DMatrixHandle cache[] = {train.get()};
  Check(XGBoosterCreate(cache, 1, &h_->booster), "XGBoosterCreate");
  const std::pair<const char*, std::string> params[] = {
      {"objective", "binary:logistic"},
      {"tree_method", "hist"},
      {"eta", std::to_string(o.eta)},
      {"max_depth", std::to_string(o.max_depth)},
      {"subsample", std::to_string(o.subsample)},
      {"colsample_bytree", std::to_string(o.colsample_bytree)},
      {"min_child_weight", std::to_string(o.min_child_weight)},
      {"lambda", std::to_string(o.lambda)},
      {"seed", std::to_string(o.seed)},
      {"nthread", std::to_string(o.threads)},
      {"verbosity", "0"},
  };
  for (const auto& [k, v] : params) Check(XGBoosterSetParam(h_->booster, k, v.c_str()), k);
  double best = std::numeric_limits<double>::infinity();
  best_rounds_ = 0;
  for (int round = 0; round < o.max_rounds; ++round) {
    Check(XGBoosterUpdateOneIter(h_->booster, round, train.get()), "XGBoosterUpdateOneIter");
    if (vrows == 0) {
      best_rounds_ = round + 1;
      continue;
    }
    const double loss = LogLoss(PredictRounds(h_->booster, validation.get(), vrows, round + 1), vy);
    if (loss < best - 1e-7) {
      best = loss;
      best_rounds_ = round + 1;
    } else if (round + 1 - best_rounds_ >= o.patience) {
      break;
    }
  }
}

std::vector<double> XGBoostModel::Predict(std::span<const float> x, size_t rows) const {
  const Matrix m(x, rows, cols_, {});
  return PredictRounds(h_->booster, m.get(), rows, best_rounds_);
}

std::string XGBoostVersion() {
  int major = 0, minor = 0, patch = 0;
  ::XGBoostVersion(&major, &minor, &patch);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

}  // namespace intentstream::model
