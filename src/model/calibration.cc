#include "model/calibration.h"

#include <algorithm>
#include <cmath>

namespace intentstream::model {

double Sigmoid(double z) {
  return 1.0 / (1.0 + std::exp(-std::clamp(z, -40.0, 40.0)));
}

double Logit(double p) {
  const double q = std::clamp(p, 1e-7, 1 - 1e-7);
  return std::log(q / (1 - q));
}

double PlattScaling::Apply(double logit) const {
  return Sigmoid(a * logit + b);
}

PlattScaling PlattScaling::Fit(std::span<const double> z, std::span<const int> y) {
  PlattScaling s;
  if (z.empty()) return s;
  constexpr double kRidge = 1e-6;
  for (int iter = 0; iter < 50; ++iter) {
    // Gradient and Hessian of the mean log loss in (a, b).
    double ga = 0, gb = 0, haa = kRidge, hab = 0, hbb = kRidge;
    for (size_t i = 0; i < z.size(); ++i) {
      const double p = Sigmoid(s.a * z[i] + s.b);
      const double g = p - y[i];
      const double w = std::max(p * (1 - p), 1e-12);
      ga += g * z[i];
      gb += g;
      haa += w * z[i] * z[i];
      hab += w * z[i];
      hbb += w;
    }
    const double det = haa * hbb - hab * hab;
    if (!(std::abs(det) > 1e-18)) break;
    const double da = (hbb * ga - hab * gb) / det;
    const double db = (haa * gb - hab * ga) / det;
    s.a -= da;
    s.b -= db;
    if (std::abs(da) < 1e-9 && std::abs(db) < 1e-9) break;
  }
  if (!std::isfinite(s.a) || !std::isfinite(s.b)) s = PlattScaling{};
  return s;
}

}  // namespace intentstream::model
