// Platt scaling: a calibrated probability sigmoid(a * logit + b), with a and b fitted by
// maximum likelihood on held-out predictions. The served propensity is multiplied by
// an offer's value in arbitration, so it has to be a probability, not a score.
// No torch includes; pure.
#pragma once

#include <span>

namespace intentstream::model {

struct PlattScaling {
  double a = 1, b = 0;
  double Apply(double logit) const;
  // Fits on (logit, label) pairs by Newton's method (a few iterations, a tiny ridge keeps
  // it defined on separable data). Leaves the identity when there are no pairs.
  static PlattScaling Fit(std::span<const double> logits, std::span<const int> y);
};

double Logit(double p);  // clipped to [1e-7, 1 - 1e-7]
double Sigmoid(double z);

}  // namespace intentstream::model
