// The offer model's tabular mode: any campaign-history CSV with a yes/no target, the
// fused model against logistic regression and gradient-boosted trees (xgboost) trained
// in the same run on the same stratified split, each with and without the leaking
// columns (`duration`: known only after the call). Thresholds for F1 / precision /
// recall are chosen per model on the validation rows; every figure is on the held-out
// test rows. No torch includes.
#pragma once

#include <string>
#include <vector>

#include "model/binary_metrics.h"
#include "model/logistic_baseline.h"
#include "model/offer_trainer.h"
#include "model/tabular_data.h"
#include "model/xgboost_baseline.h"

namespace intentstream::model {

struct TabularRunOptions {
  std::string csv_path;
  TabularOptions data;
  // Columns compared with and without; those absent from the file are ignored.
  std::vector<std::string> leak_columns = {"duration"};
  OfferNetConfig net;
  OfferTrainOptions train;
  int fused_seeds = 1;  // >1: the fused model averages this many seeds' predictions
  LogisticOptions logistic;
  XGBoostOptions xgboost;
  std::string out_dir;  // results.md / results.csv and the fused model of each variant
};

struct TabularVariant {
  std::string name;  // "all columns", "without duration"
  size_t train_rows = 0, validation_rows = 0, test_rows = 0, features = 0;
  std::vector<BinaryMetrics> models;  // logistic regression, xgboost, fused
  struct Difference {
    std::string baseline;
    double difference = 0;  // fused ROC AUC minus the baseline's
    Interval interval;      // paired bootstrap over the test rows
  };
  std::vector<Difference> fused_minus;  // one per baseline
  std::string fused_reliability;        // markdown reliability table of the fused model
  OfferTrainReport fused_report;
  int xgboost_rounds = 0;
};

struct TabularResult {
  std::string source;
  size_t rows = 0, positives = 0;
  std::vector<TabularVariant> variants;
};

// Throws DataFileError / std::invalid_argument (bad data or options) and ModelError.
TabularResult RunTabular(const TabularRunOptions& options);
std::string FormatTabular(const TabularResult& result);

}  // namespace intentstream::model
