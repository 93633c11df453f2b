#include "model/personas.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>

#include "model/tokenizer.h"  // ModelError

namespace intentstream::model {

namespace {

float Distance2(const float* a, const float* b, size_t d) {
  float s = 0;
  for (size_t i = 0; i < d; ++i) {
    const float x = a[i] - b[i];
    s += x * x;
  }
  return s;
}

struct KMeansResult {
  std::vector<float> centroids;
  std::vector<int> assign;
  double inertia = 0;
};

KMeansResult KMeans(const std::vector<float>& z, size_t n, size_t d, size_t k, uint64_t seed,
                    int iterations) {
  std::mt19937_64 rng(seed);
  KMeansResult r;
  r.centroids.assign(k * d, 0.0f);
  r.assign.assign(n, -1);
  // k-means++: each next centre drawn with probability proportional to D^2.
  std::vector<float> nearest(n, std::numeric_limits<float>::max());
  size_t first = rng() % n;
  std::copy_n(&z[first * d], d, &r.centroids[0]);
  for (size_t c = 1; c < k; ++c) {
    double total = 0;
    for (size_t i = 0; i < n; ++i) {
      nearest[i] = std::min(nearest[i], Distance2(&z[i * d], &r.centroids[(c - 1) * d], d));
      total += nearest[i];
    }
    double pick = std::uniform_real_distribution<double>(0, 1)(rng) * total;
    size_t chosen = n - 1;
    for (size_t i = 0; i < n; ++i) {
      pick -= nearest[i];
      if (pick <= 0) {
        chosen = i;
        break;
      }
    }
    std::copy_n(&z[chosen * d], d, &r.centroids[c * d]);
  }
  std::vector<double> sums(k * d);
  std::vector<size_t> counts(k);
  for (int it = 0; it < iterations; ++it) {
    bool changed = false;
    r.inertia = 0;
    for (size_t i = 0; i < n; ++i) {
      int best = 0;
      float best_d = std::numeric_limits<float>::max();
      for (size_t c = 0; c < k; ++c) {
        const float dist = Distance2(&z[i * d], &r.centroids[c * d], d);
        if (dist < best_d) {
          best_d = dist;
          best = static_cast<int>(c);
        }
      }
      if (r.assign[i] != best) changed = true;
      r.assign[i] = best;
      r.inertia += best_d;
    }
    if (!changed) break;
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0);
    for (size_t i = 0; i < n; ++i) {
      const auto c = static_cast<size_t>(r.assign[i]);
      ++counts[c];
      for (size_t j = 0; j < d; ++j) sums[c * d + j] += z[i * d + j];
    }
    for (size_t c = 0; c < k; ++c) {
      if (counts[c] == 0) continue;  // an empty cluster keeps its centre
      for (size_t j = 0; j < d; ++j) {
        r.centroids[c * d + j] =
            static_cast<float>(sums[c * d + j] / static_cast<double>(counts[c]));
      }
    }
  }
  return r;
}

// Mean silhouette over the sample rows (indexes into z).
double Silhouette(const std::vector<float>& z, size_t d, const std::vector<int>& assign,
                  const std::vector<size_t>& sample, size_t k) {
  double total = 0;
  size_t counted = 0;
  std::vector<double> sum(k);
  std::vector<size_t> cnt(k);
  for (size_t a : sample) {
    std::fill(sum.begin(), sum.end(), 0.0);
    std::fill(cnt.begin(), cnt.end(), 0);
    for (size_t b : sample) {
      if (a == b) continue;
      const auto c = static_cast<size_t>(assign[b]);
      sum[c] += std::sqrt(Distance2(&z[a * d], &z[b * d], d));
      ++cnt[c];
    }
    const auto own = static_cast<size_t>(assign[a]);
    if (cnt[own] == 0) continue;  // singleton: silhouette 0 by convention
    const double in = sum[own] / static_cast<double>(cnt[own]);
    double out = std::numeric_limits<double>::max();
    for (size_t c = 0; c < k; ++c) {
      if (c != own && cnt[c] > 0) out = std::min(out, sum[c] / static_cast<double>(cnt[c]));
    }
    if (out == std::numeric_limits<double>::max()) continue;
    total += (out - in) / std::max(in, out);
    ++counted;
  }
  return counted ? total / static_cast<double>(counted) : 0;
}

std::string Signed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f sd", v);
  return buf;
}

}  // namespace

int PersonaSet::Assign(std::span<const float> z) const {
  const size_t d = features.size();
  int best = -1;
  float best_d = std::numeric_limits<float>::max();
  for (size_t c = 0; c < k; ++c) {
    const float dist = Distance2(z.data(), &centroids[c * d], d);
    if (dist < best_d) {
      best_d = dist;
      best = static_cast<int>(c);
    }
  }
  return best;
}

PersonaSet FitPersonas(const std::vector<PersonaBlock>& blocks, const PersonaDescriptors& extra,
                       size_t n, const PersonaOptions& o, std::string* report) {
  PersonaSet set;
  if (n < 2 || o.k_min < 2 || o.k_max < o.k_min) return set;
  std::mt19937_64 rng(o.seed);
  std::vector<size_t> rows(n);
  std::iota(rows.begin(), rows.end(), 0);
  if (rows.size() > o.max_rows) {
    for (size_t i = rows.size(); i > 1; --i) std::swap(rows[i - 1], rows[rng() % i]);
    rows.resize(o.max_rows);
    std::sort(rows.begin(), rows.end());
  }
  const size_t m = rows.size();
  // Standardise each feature; weight each block by 1/sqrt(its width) so a 64-wide
  // embedding does not drown a profile of a few dozen flags.
  struct Column {
    const PersonaBlock* block;
    size_t index;
    size_t width;
  };
  std::vector<Column> columns;
  for (const auto& b : blocks) {
    for (size_t j = 0; j < b.names.size(); ++j) {
      columns.push_back({&b, j, b.names.size()});
      set.features.push_back(b.names[j]);
    }
  }
  const size_t d = columns.size();
  std::vector<float> z(m * d);
  std::vector<double> pop_mean(d), pop_var(d);
  set.mean.resize(d);
  set.scale.resize(d);
  for (size_t c = 0; c < d; ++c) {
    const auto& col = columns[c];
    double s = 0, sq = 0;
    for (size_t r : rows) {
      const double x = col.block->rows[r * col.width + col.index];
      s += x;
      sq += x * x;
    }
    pop_mean[c] = s / static_cast<double>(m);
    pop_var[c] = std::max(0.0, sq / static_cast<double>(m) - pop_mean[c] * pop_mean[c]);
    set.mean[c] = static_cast<float>(pop_mean[c]);
  }
  // One scale per block, so that each block's total variance is 1: blocks weigh the
  // same, and within a block features keep their natural proportions (a rare flag does
  // not become a 10-sd outlier that claims a cluster of its own).
  for (size_t c = 0; c < d;) {
    size_t e = c;
    double total = 0;
    while (e < d && columns[e].block == columns[c].block) total += pop_var[e++];
    const float scale = total > 1e-12 ? static_cast<float>(1.0 / std::sqrt(total)) : 0.0f;
    for (size_t j = c; j < e; ++j) set.scale[j] = scale;
    c = e;
  }
  for (size_t c = 0; c < d; ++c) {
    const auto& col = columns[c];
    for (size_t i = 0; i < m; ++i) {
      z[i * d + c] =
          (col.block->rows[rows[i] * col.width + col.index] - set.mean[c]) * set.scale[c];
    }
  }
  std::vector<size_t> sample(m);
  std::iota(sample.begin(), sample.end(), 0);
  for (size_t i = sample.size(); i > 1; --i) std::swap(sample[i - 1], sample[rng() % i]);
  if (sample.size() > o.silhouette_sample) sample.resize(o.silhouette_sample);
  double best_s = -2;
  KMeansResult best;
  for (int k = o.k_min; k <= o.k_max && static_cast<size_t>(k) < m; ++k) {
    auto r =
        KMeans(z, m, d, static_cast<size_t>(k), o.seed + static_cast<uint64_t>(k), o.iterations);
    const double s = Silhouette(z, d, r.assign, sample, static_cast<size_t>(k));
    if (report != nullptr) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "k=%d silhouette %.4f inertia %.1f\n", k, s, r.inertia);
      *report += buf;
    }
    if (s > best_s) {
      best_s = s;
      best = std::move(r);
      set.k = static_cast<size_t>(k);
    }
  }
  if (set.k == 0) return set;
  set.silhouette = best_s;
  set.centroids = best.centroids;
  // Descriptions: the describable features whose persona mean is furthest from the
  // population's, in population standard deviations.
  struct Described {
    std::string name;
    std::span<const float> rows;
    size_t width, index;
  };
  std::vector<Described> described;
  for (const auto& b : blocks) {
    if (!b.describe) continue;
    for (size_t j = 0; j < b.names.size(); ++j) {
      described.push_back({b.names[j], b.rows, b.names.size(), j});
    }
  }
  for (size_t j = 0; j < extra.names.size(); ++j) {
    described.push_back({extra.names[j], extra.rows, extra.names.size(), j});
  }
  std::vector<size_t> count(set.k);
  for (int a : best.assign) ++count[static_cast<size_t>(a)];
  for (size_t c = 0; c < set.k; ++c) {
    std::vector<std::pair<double, std::string>> diffs;
    for (const auto& f : described) {
      double all = 0, sq = 0, in = 0;
      for (size_t i = 0; i < m; ++i) {
        const double x = f.rows[rows[i] * f.width + f.index];
        all += x;
        sq += x * x;
        if (static_cast<size_t>(best.assign[i]) == c) in += x;
      }
      const double mean = all / static_cast<double>(m);
      const double sd = std::sqrt(std::max(0.0, sq / static_cast<double>(m) - mean * mean));
      if (sd < 1e-6 || count[c] == 0) continue;
      diffs.emplace_back((in / static_cast<double>(count[c]) - mean) / sd, f.name);
    }
    std::stable_sort(diffs.begin(), diffs.end(), [](const auto& a, const auto& b) {
      return std::abs(a.first) > std::abs(b.first);
    });
    const double share = static_cast<double>(count[c]) / static_cast<double>(m);
    char head[48];
    std::snprintf(head, sizeof head, "%.1f%% of visitors", 100.0 * share);
    std::string desc = head;
    for (size_t i = 0; i < diffs.size() && i < 4; ++i) {
      desc += (i == 0 ? ": " : ", ") + diffs[i].second + " " + Signed(diffs[i].first);
    }
    set.names.push_back("persona-" + std::to_string(c + 1));
    set.descriptions.push_back(desc);
    set.shares.push_back(share);
  }
  return set;
}

void PersonaSet::Save(const std::string& path) const {
  std::ofstream out(path);
  out << "# personas: k-means over the clustering features (z = (x - mean) * scale)\n"
      << "k = " << k << "\nfeatures = " << features.size() << "\nsilhouette = " << silhouette
      << "\n";
  out.precision(9);
  for (size_t j = 0; j < features.size(); ++j) {
    out << "feature\t" << features[j] << '\t' << mean[j] << '\t' << scale[j] << '\n';
  }
  for (size_t c = 0; c < k; ++c) {
    out << "persona\t" << names[c] << '\t' << shares[c] << '\t' << descriptions[c] << '\n';
    out << "centroid\t" << c;
    for (size_t j = 0; j < features.size(); ++j) out << '\t' << centroids[c * features.size() + j];
    out << '\n';
  }
  if (!out) throw ModelError(path + ": cannot write");
}

PersonaSet PersonaSet::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ModelError(path + ": cannot read");
  PersonaSet s;
  std::string line;
  size_t line_no = 0, declared_k = 0, declared_features = 0;
  auto fail = [&](const std::string& why) {
    throw ModelError(path + ":" + std::to_string(line_no) + ": " + why);
  };
  auto split = [](const std::string& l) {
    std::vector<std::string> out;
    std::stringstream ss(l);
    for (std::string f; std::getline(ss, f, '\t');) out.push_back(f);
    return out;
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("k = ", 0) == 0) {
      declared_k = std::stoul(line.substr(4));
    } else if (line.rfind("features = ", 0) == 0) {
      declared_features = std::stoul(line.substr(11));
    } else if (line.rfind("silhouette = ", 0) == 0) {
      s.silhouette = std::stod(line.substr(13));
    } else {
      const auto f = split(line);
      try {
        if (f[0] == "feature" && f.size() == 4) {
          s.features.push_back(f[1]);
          s.mean.push_back(std::stof(f[2]));
          s.scale.push_back(std::stof(f[3]));
        } else if (f[0] == "persona" && f.size() == 4) {
          s.names.push_back(f[1]);
          s.shares.push_back(std::stod(f[2]));
          s.descriptions.push_back(f[3]);
        } else if (f[0] == "centroid" && f.size() == declared_features + 2) {
          for (size_t j = 2; j < f.size(); ++j) s.centroids.push_back(std::stof(f[j]));
        } else {
          fail("expected a feature, persona or centroid line");
        }
      } catch (const std::invalid_argument&) {
        fail("not a number");
      }
    }
  }
  s.k = s.names.size();
  if (s.k != declared_k || s.features.size() != declared_features ||
      s.centroids.size() != s.k * s.features.size()) {
    throw ModelError(path + ": " + std::to_string(s.k) + " personas and " +
                     std::to_string(s.features.size()) +
                     " features do not match the header (k = " + std::to_string(declared_k) +
                     ", features = " + std::to_string(declared_features) + ")");
  }
  return s;
}

}  // namespace intentstream::model
