// Metrics of binary probability predictions: ROC AUC, PR AUC (average precision), log
// loss, F1 / precision / recall at a threshold, and calibration (reliability table,
// expected calibration error). No torch includes; pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace intentstream::model {

// Area under the ROC curve by ranks (ties count half). 0.5 when a class is absent.
double RocAuc(std::span<const double> p, std::span<const int> y);
// Average precision (area under the precision-recall step curve; ties form one step).
double PrAuc(std::span<const double> p, std::span<const int> y);
// Mean negative log-likelihood, probabilities clipped to [1e-7, 1 - 1e-7].
double LogLoss(std::span<const double> p, std::span<const int> y);

struct ThresholdCounts {
  double precision = 0, recall = 0, f1 = 0;
};
ThresholdCounts AtThreshold(std::span<const double> p, std::span<const int> y, double threshold);
// The threshold with the highest F1 (chosen on a validation split, applied to the test).
double BestF1Threshold(std::span<const double> p, std::span<const int> y);

struct ReliabilityBin {
  double lower = 0, upper = 0;  // predicted-probability range [lower, upper)
  size_t count = 0;
  double mean_predicted = 0;
  double observed_rate = 0;
};
// Equal-width bins over [0, 1].
std::vector<ReliabilityBin> Reliability(std::span<const double> p, std::span<const int> y,
                                        int bins = 10);
// Expected calibration error: sum over bins of (count / n) x |observed - predicted|.
double ExpectedCalibrationError(const std::vector<ReliabilityBin>& bins);
// Markdown table of the bins that hold predictions.
std::string FormatReliability(const std::vector<ReliabilityBin>& bins);

// A 95% percentile interval from a seeded bootstrap over the rows: a test split of a few
// hundred positives moves ROC AUC by a few hundredths, so model comparisons say whether
// their difference is larger than that.
struct Interval {
  double lower = 0, upper = 0;
  bool Contains(double v) const { return lower <= v && v <= upper; }
};
Interval RocAucInterval(std::span<const double> p, std::span<const int> y, int resamples,
                        uint64_t seed);
// AUC(a) - AUC(b) on the same resamples (paired: both models scored on each resample).
Interval RocAucDifferenceInterval(std::span<const double> a, std::span<const double> b,
                                  std::span<const int> y, int resamples, uint64_t seed);

struct BinaryMetrics {
  std::string model;
  size_t rows = 0, positives = 0;
  double roc_auc = 0, pr_auc = 0, log_loss = 0;
  Interval roc_auc_95;  // set by callers that bootstrap (Evaluate leaves it empty)
  double threshold = 0.5, precision = 0, recall = 0, f1 = 0;
  double ece = 0;
};
BinaryMetrics Evaluate(const std::string& model, std::span<const double> p, std::span<const int> y,
                       double threshold);

}  // namespace intentstream::model
