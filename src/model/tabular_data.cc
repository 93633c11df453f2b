#include "model/tabular_data.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <random>
#include <stdexcept>

namespace intentstream::model {

namespace {

std::string Lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

bool IsMissing(const std::string& v) {
  if (v.empty()) return true;
  const std::string l = Lower(v);
  return l == "na" || l == "n/a" || l == "nan" || l == "?" || l == "null";
}

bool ParseNumber(const std::string& v, double* out) {
  if (v.empty()) return false;
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (end != v.c_str() + v.size() || !std::isfinite(x)) return false;
  *out = x;
  return true;
}

bool Contains(const std::vector<std::string>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

std::vector<float> TabularData::Joined(const TabularData& d, const TabularMatrix& m) {
  const size_t w = d.numeric_width + d.categorical_width;
  std::vector<float> out(m.rows * w);
  for (size_t r = 0; r < m.rows; ++r) {
    std::copy_n(m.numeric.begin() + static_cast<std::ptrdiff_t>(r * d.numeric_width),
                d.numeric_width, out.begin() + static_cast<std::ptrdiff_t>(r * w));
    std::copy_n(m.categorical.begin() + static_cast<std::ptrdiff_t>(r * d.categorical_width),
                d.categorical_width,
                out.begin() + static_cast<std::ptrdiff_t>(r * w + d.numeric_width));
  }
  return out;
}

TabularData EncodeTabular(const CsvTable& table, const std::string& source,
                          const TabularOptions& o) {
  TabularData data;
  data.source = source;
  const int target = table.Column(o.target);
  if (target < 0) {
    throw std::invalid_argument("--target: " + source + " has no column '" + o.target +
                                "' (columns: " + JoinNames(table.header) + ")");
  }
  for (const auto* list : {&o.numeric, &o.categorical, &o.drop}) {
    for (const auto& name : *list) {
      if (table.Column(name) < 0) {
        const char* flag = list == &o.numeric       ? "--numeric"
                           : list == &o.categorical ? "--categorical"
                                                    : "--drop";
        throw std::invalid_argument(std::string(flag) + ": " + source + " has no column '" + name +
                                    "' (columns: " + JoinNames(table.header) + ")");
      }
    }
  }
  if (!(o.test_fraction > 0 && o.test_fraction < 1) ||
      !(o.validation_fraction >= 0 && o.validation_fraction < 1)) {
    throw std::invalid_argument("--test-fraction and --validation-fraction must be in (0, 1)");
  }
  // Targets.
  std::vector<int> y(table.rows.size());
  for (size_t r = 0; r < table.rows.size(); ++r) {
    const auto& row = table.rows[r];
    const std::string v = Lower(Trim(row.fields[static_cast<size_t>(target)]));
    if (v.empty()) {
      throw DataFileError(source, row.line, static_cast<size_t>(target) + 1,
                          "missing target value (column '" + o.target + "')");
    }
    if (Contains(o.positive, v)) {
      y[r] = 1;
    } else if (Contains(o.negative, v)) {
      y[r] = 0;
    } else {
      throw DataFileError(source, row.line, static_cast<size_t>(target) + 1,
                          "target value '" + v + "' is neither positive (" + JoinNames(o.positive) +
                              ") nor negative (" + JoinNames(o.negative) + ")");
    }
    (y[r] ? data.positives : data.negatives) += 1;
  }
  if (data.positives < 2 || data.negatives < 2) {
    throw DataFileError(source, 0, 0,
                        "the target needs at least 2 positive and 2 negative rows (found " +
                            std::to_string(data.positives) + " and " +
                            std::to_string(data.negatives) + ")");
  }
  // Column types.
  for (size_t c = 0; c < table.header.size(); ++c) {
    if (static_cast<int>(c) == target || Contains(o.drop, table.header[c])) continue;
    TabularColumn col;
    col.name = table.header[c];
    col.csv_index = static_cast<int>(c);
    size_t present = 0, numbers = 0;
    for (const auto& row : table.rows) {
      const std::string v = Trim(row.fields[c]);
      if (IsMissing(v)) continue;
      ++present;
      double x;
      numbers += ParseNumber(v, &x);
    }
    if (Contains(o.numeric, col.name)) {
      col.numeric = true;
    } else if (Contains(o.categorical, col.name)) {
      col.numeric = false;
    } else {
      col.numeric = present > 0 &&
                    static_cast<double>(numbers) >= o.numeric_share * static_cast<double>(present);
    }
    if (col.numeric) {
      for (const auto& row : table.rows) {
        const std::string v = Trim(row.fields[c]);
        double x;
        if (IsMissing(v)) {
          col.has_missing = true;
        } else if (!ParseNumber(v, &x)) {
          throw DataFileError(source, row.line, c + 1,
                              "'" + v + "' is not a number, but column '" + col.name +
                                  "' is numeric (" + std::to_string(numbers) + " of its " +
                                  std::to_string(present) + " values are numbers; --categorical " +
                                  col.name + " reads it as categorical)");
        }
      }
    }
    data.columns.push_back(std::move(col));
  }
  // Stratified split with a fixed seed: each class is shuffled and cut in the same
  // proportions, then rows keep their file order within a split.
  std::mt19937_64 rng(o.seed);
  std::vector<int> split(table.rows.size(), 0);  // 0 train, 1 validation, 2 test
  for (int cls = 0; cls < 2; ++cls) {
    std::vector<size_t> idx;
    for (size_t r = 0; r < y.size(); ++r) {
      if (y[r] == cls) idx.push_back(r);
    }
    for (size_t i = idx.size(); i > 1; --i) std::swap(idx[i - 1], idx[rng() % i]);
    const auto n_test = static_cast<size_t>(
        std::max(1.0, std::round(o.test_fraction * static_cast<double>(idx.size()))));
    const auto n_val = static_cast<size_t>(
        std::round(o.validation_fraction * static_cast<double>(idx.size() - n_test)));
    for (size_t i = 0; i < idx.size(); ++i) {
      split[idx[i]] = i < n_test ? 2 : i < n_test + n_val ? 1 : 0;
    }
  }
  // Encodings fitted on training rows.
  for (auto& col : data.columns) {
    const auto c = static_cast<size_t>(col.csv_index);
    if (col.numeric) {
      double sum = 0, sq = 0, n = 0;
      for (size_t r = 0; r < table.rows.size(); ++r) {
        double x;
        if (split[r] != 0 || !ParseNumber(Trim(table.rows[r].fields[c]), &x)) continue;
        sum += x;
        sq += x * x;
        n += 1;
      }
      col.mean = n > 0 ? sum / n : 0;
      const double var = n > 1 ? (sq - n * col.mean * col.mean) / (n - 1) : 0;
      col.sd = var > 1e-12 ? std::sqrt(var) : 1;
      data.feature_names.push_back(col.name);
      ++data.numeric_width;
    }
  }
  for (const auto& col : data.columns) {
    if (col.numeric && col.has_missing) {
      data.feature_names.push_back(col.name + "=missing");
      ++data.numeric_width;
    }
  }
  for (auto& col : data.columns) {
    if (col.numeric) continue;
    const auto c = static_cast<size_t>(col.csv_index);
    std::map<std::string, size_t> counts;
    for (size_t r = 0; r < table.rows.size(); ++r) {
      if (split[r] == 0) ++counts[Trim(table.rows[r].fields[c])];
    }
    std::vector<std::pair<std::string, size_t>> sorted(counts.begin(), counts.end());
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    for (const auto& [level, n] : sorted) {
      col.levels.push_back(level);
      data.feature_names.push_back(col.name + "=" + level);
      ++data.categorical_width;
    }
  }
  // Encode every row into its split.
  TabularMatrix* out[3] = {&data.train, &data.validation, &data.test};
  for (size_t r = 0; r < table.rows.size(); ++r) {
    TabularMatrix& m = *out[split[r]];
    const auto& fields = table.rows[r].fields;
    size_t k = 0;
    std::vector<float> num(data.numeric_width, 0.0f), cat(data.categorical_width, 0.0f);
    std::vector<float> missing_flags;
    for (const auto& col : data.columns) {
      if (!col.numeric) continue;
      double x;
      const bool ok = ParseNumber(Trim(fields[static_cast<size_t>(col.csv_index)]), &x);
      num[k++] = ok ? static_cast<float>((x - col.mean) / col.sd) : 0.0f;
      if (col.has_missing) missing_flags.push_back(ok ? 0.0f : 1.0f);
    }
    for (float f : missing_flags) num[k++] = f;
    size_t base = 0;
    for (const auto& col : data.columns) {
      if (col.numeric) continue;
      const std::string v = Trim(fields[static_cast<size_t>(col.csv_index)]);
      const auto it = std::find(col.levels.begin(), col.levels.end(), v);
      if (it != col.levels.end()) cat[base + static_cast<size_t>(it - col.levels.begin())] = 1.0f;
      base += col.levels.size();
    }
    m.numeric.insert(m.numeric.end(), num.begin(), num.end());
    m.categorical.insert(m.categorical.end(), cat.begin(), cat.end());
    m.y.push_back(y[r]);
    m.lines.push_back(table.rows[r].line);
    ++m.rows;
  }
  return data;
}

TabularData LoadTabular(const std::string& path, const TabularOptions& options) {
  return EncodeTabular(ReadCsvTableFile(path, options.delimiter), path, options);
}

}  // namespace intentstream::model
