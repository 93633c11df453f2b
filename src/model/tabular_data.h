// Campaign-history tables (any CSV with a target column) for the offer model's tabular
// mode: column types inferred or given, a yes/no target, a stratified held-out split
// with a fixed seed, and the encodings the models read (standardised numerics, one-hot
// categoricals), fitted on the training rows only. No torch includes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/csv_table.h"

namespace intentstream::model {

struct TabularOptions {
  std::string target = "y";
  // Positive target values (case-insensitive). Default: yes, true, 1, y.
  std::vector<std::string> positive = {"yes", "true", "1", "y"};
  std::vector<std::string> negative = {"no", "false", "0", "n"};
  std::vector<std::string> numeric;      // columns forced numeric
  std::vector<std::string> categorical;  // columns forced categorical
  std::vector<std::string> drop;         // columns left out
  // A column is inferred numeric when at least this share of its non-empty values are
  // numbers; any other value in it is then an error naming its line and column.
  double numeric_share = 0.9;
  double test_fraction = 0.2;        // held out, stratified by the target
  double validation_fraction = 0.2;  // of the rest: early stopping, calibration, thresholds
  uint64_t seed = 7;
  char delimiter = 0;  // 0: guessed from the header
};

struct TabularColumn {
  std::string name;
  int csv_index = 0;  // column in the file (0-based)
  bool numeric = false;
  // Numeric: mean and standard deviation of the training rows (missing values are
  // imputed with the mean and flagged). Categorical: levels seen in training, by
  // descending frequency; other values encode as all zeros.
  double mean = 0, sd = 1;
  bool has_missing = false;
  std::vector<std::string> levels;
};

// Rows of one split as dense model inputs.
struct TabularMatrix {
  size_t rows = 0;
  // Standardised numerics (+ one missing flag per numeric column with missing values).
  std::vector<float> numeric;  // rows x numeric_width
  // One-hot categoricals.
  std::vector<float> categorical;  // rows x categorical_width
  std::vector<int> y;
  std::vector<size_t> lines;  // CSV line of each row
};

struct TabularData {
  std::string source;
  std::vector<TabularColumn> columns;  // input columns, in file order
  size_t numeric_width = 0, categorical_width = 0;
  std::vector<std::string> feature_names;  // numeric block, then categorical block
  TabularMatrix train, validation, test;
  size_t positives = 0, negatives = 0;  // whole file
  // Both blocks side by side (for the baselines): rows x (numeric + categorical width).
  static std::vector<float> Joined(const TabularData& data, const TabularMatrix& m);
};

// Reads and encodes `path`. Throws DataFileError naming line and column for a ragged row, a
// missing or unknown target value, or a non-numeric value in a numeric column; throws
// std::invalid_argument naming the flag for an unknown column in the options.
TabularData LoadTabular(const std::string& path, const TabularOptions& options);
// The same from a parsed table (tests).
TabularData EncodeTabular(const CsvTable& table, const std::string& source,
                          const TabularOptions& options);

}  // namespace intentstream::model
