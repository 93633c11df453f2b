#include "eval/evaluation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "catalog/catalog.h"
#include "common/csv.h"

namespace intentstream::eval {

namespace {

using sim::Intent;
constexpr size_t kTiles = sim::kIntentCount;
constexpr size_t kSegments = 30;  // 6 age bands x 5 income bands

double Clip(double p) {
  return std::clamp(p, 1e-6, 1 - 1e-6);
}
double LogLoss(double p, bool y) {
  return y ? -std::log(Clip(p)) : -std::log(1 - Clip(p));
}

std::string Fixed(double v, int digits = 4) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// Area under the ROC curve by ranks (ties get the average rank).
double Auc(std::vector<std::pair<double, bool>> scored) {
  std::sort(scored.begin(), scored.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  double positives = 0, rank_sum = 0;
  for (size_t i = 0; i < scored.size();) {
    size_t j = i;
    while (j < scored.size() && scored[j].first == scored[i].first) ++j;
    const double rank = (i + 1 + j) / 2.0;  // average of ranks i+1 .. j
    for (size_t k = i; k < j; ++k) {
      if (scored[k].second) {
        positives += 1;
        rank_sum += rank;
      }
    }
    i = j;
  }
  const double negatives = static_cast<double>(scored.size()) - positives;
  if (positives == 0 || negatives == 0) return 0.5;
  return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
}

}  // namespace

int TopTile(const Prediction& p) {
  return static_cast<int>(std::max_element(p.tile.begin(), p.tile.end()) - p.tile.begin());
}

Prediction TrivialPrediction() {
  Prediction p;
  p.tile.fill(0.05);
  p.p_convert = 0.05;
  p.intent = Intent::kEverydayServicing;
  return p;
}

std::string ReadPredictions(const std::string& path, const std::vector<const Example*>& examples,
                            std::vector<Prediction>* out) {
  std::ifstream in(path);
  if (!in) return "--predictions: cannot read " + path;
  using Status = csv::Reader::Status;
  csv::Reader reader(in);
  csv::Record record;
  std::string error;
  auto malformed = [&] {
    return "--predictions: " + path + ":" + std::to_string(record.line) + ": " + error;
  };
  Status status = reader.Next(&record, &error);
  if (status == Status::kEnd) return "--predictions: " + path + " is empty";
  if (status == Status::kMalformed) return malformed();
  const std::vector<std::string> header = record.fields;
  int id_col = -1, intent_col = -1, convert_col = -1;
  std::array<int, kTiles> tile_col;
  tile_col.fill(-1);
  for (size_t c = 0; c < header.size(); ++c) {
    if (header[c] == "example_id") id_col = static_cast<int>(c);
    if (header[c] == "intent") intent_col = static_cast<int>(c);
    if (header[c] == "p_convert") convert_col = static_cast<int>(c);
    if (auto tile = sim::IntentFromTile(header[c]))
      tile_col[static_cast<size_t>(*tile)] = static_cast<int>(c);
  }
  if (id_col < 0 || intent_col < 0 || convert_col < 0) {
    return "--predictions: " + path +
           ": header needs example_id, intent, p_convert and the tile ids";
  }
  for (size_t t = 0; t < kTiles; ++t) {
    if (tile_col[t] < 0) {
      return "--predictions: " + path + ": no column for tile " +
             std::string(sim::Intents()[t].tile_id);
    }
  }
  std::unordered_map<std::string, Prediction> by_id;
  while ((status = reader.Next(&record, &error)) != Status::kEnd) {
    if (status == Status::kMalformed) return malformed();
    const auto& cells = record.fields;
    const std::string where = "--predictions: " + path + ":" + std::to_string(record.line) + ": ";
    if (cells.size() != header.size())
      return where + "expected " + std::to_string(header.size()) + " columns";
    Prediction p;
    const auto intent = sim::IntentFromName(cells[static_cast<size_t>(intent_col)]);
    if (!intent) return where + "unknown intent \"" + cells[static_cast<size_t>(intent_col)] + "\"";
    p.intent = *intent;
    auto prob = [&](int col, double* v) {
      char* end = nullptr;
      const std::string& s = cells[static_cast<size_t>(col)];
      *v = std::strtod(s.c_str(), &end);
      return !s.empty() && end == s.c_str() + s.size() && *v >= 0 && *v <= 1;
    };
    if (!prob(convert_col, &p.p_convert))
      return where + "p_convert must be a probability in [0, 1]";
    for (size_t t = 0; t < kTiles; ++t) {
      if (!prob(tile_col[t], &p.tile[t])) {
        return where + std::string(sim::Intents()[t].tile_id) + " must be a probability in [0, 1]";
      }
    }
    by_id[cells[static_cast<size_t>(id_col)]] = p;
  }
  out->clear();
  out->reserve(examples.size());
  size_t missing = 0;
  std::string first_missing;
  for (const Example* ex : examples) {
    auto it = by_id.find(ex->id);
    if (it == by_id.end()) {
      if (missing++ == 0) first_missing = ex->id;
      out->push_back(TrivialPrediction());
    } else {
      out->push_back(it->second);
    }
  }
  if (missing > 0) {
    return "--predictions: " + path + " has no row for " + std::to_string(missing) +
           " test examples (first: " + first_missing + ")";
  }
  return "";
}

std::string WritePredictions(const std::string& path, const std::vector<const Example*>& examples,
                             const std::vector<Prediction>& predictions) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return "cannot write " + path;
  out << "example_id,intent,p_convert";
  for (const auto& spec : sim::Intents()) out << ',' << spec.tile_id;
  out << '\n';
  for (size_t i = 0; i < examples.size(); ++i) {
    const Prediction& p = predictions[i];
    out << examples[i]->id << ',' << sim::IntentName(p.intent) << ',' << Fixed(p.p_convert, 6);
    for (double v : p.tile) out << ',' << Fixed(v, 6);
    out << '\n';
  }
  out.flush();
  return out ? "" : "write failed: " + path;
}

Metrics Score(const std::string& model, const std::vector<const Example*>& examples,
              const std::vector<Prediction>& predictions, double threshold) {
  Metrics m;
  m.model = model;
  m.examples = examples.size();
  std::array<double, kTiles> rank_hits{}, rank_total{};
  std::array<double, kTiles> tp{}, fp{}, fn{};
  double click_loss = 0, convert_loss = 0, agree = 0;
  double ctp = 0, cfp = 0, cfn = 0;
  std::vector<std::pair<double, bool>> scored;  // (p_convert, converted) for the AUC
  for (size_t i = 0; i < examples.size(); ++i) {
    const Example& ex = *examples[i];
    const Prediction& p = predictions[i];
    const int top = TopTile(p);
    if (ex.clicked_tile >= 0) {
      ++m.ranked;
      rank_total[static_cast<size_t>(ex.clicked_tile)] += 1;
      if (top == ex.clicked_tile) rank_hits[static_cast<size_t>(ex.clicked_tile)] += 1;
    }
    for (const auto& [tile, clicked] : ex.impressions) {
      ++m.impressions;
      click_loss += LogLoss(p.tile[static_cast<size_t>(tile)], clicked);
    }
    if (ex.conversion_observed) {
      ++m.conversion_examples;
      convert_loss += LogLoss(p.p_convert, ex.converted_tile >= 0);
      scored.emplace_back(p.p_convert, ex.converted_tile >= 0);
      const int predicted = p.p_convert >= threshold ? top : -1;
      if (predicted >= 0 && predicted == ex.converted_tile) {
        ++ctp;
      } else {
        if (predicted >= 0) ++cfp;
        if (ex.converted_tile >= 0) ++cfn;
      }
    }
    const auto truth = static_cast<size_t>(ex.intent);
    const auto label = static_cast<size_t>(p.intent);
    if (truth == label) {
      ++tp[truth];
    } else {
      ++fp[label];
      ++fn[truth];
    }
    if (p.intent == ex.teacher) ++agree;
  }
  double recall_sum = 0, recall_n = 0, f1_sum = 0, f1_n = 0;
  for (size_t t = 0; t < kTiles; ++t) {
    if (rank_total[t] > 0) {
      recall_sum += rank_hits[t] / rank_total[t];
      ++recall_n;
    }
    if (tp[t] + fp[t] + fn[t] > 0) {
      f1_sum += 2 * tp[t] / (2 * tp[t] + fp[t] + fn[t]);
      ++f1_n;
    }
  }
  m.recall_at_1 = recall_n > 0 ? recall_sum / recall_n : 0;
  m.intent_macro_f1 = f1_n > 0 ? f1_sum / f1_n : 0;
  m.click_log_loss = m.impressions > 0 ? click_loss / m.impressions : 0;
  m.convert_log_loss = m.conversion_examples > 0 ? convert_loss / m.conversion_examples : 0;
  m.convert_auc = Auc(scored);
  m.convert_micro_f1 = (2 * ctp + cfp + cfn) > 0 ? 2 * ctp / (2 * ctp + cfp + cfn) : 0;
  m.teacher_agreement = m.examples > 0 ? agree / m.examples : 0;
  return m;
}

Baselines::Baselines(const std::vector<Example>& examples, const TrainOptions& options) {
  std::vector<const Example*> train;
  for (const auto& ex : examples) {
    if (ex.split == 0) train.push_back(&ex);
  }
  // Counts for the rate-based baselines.
  std::array<double, kTiles> imps{}, clicks{}, match_imps{}, match_clicks{}, other_imps{},
      other_clicks{}, label_n{}, label_conv{}, intent_n{};
  std::vector<std::array<double, kTiles>> seg_imps(kSegments), seg_clicks(kSegments),
      seg_intent(kSegments);
  std::vector<double> seg_n(kSegments), seg_conv(kSegments), seg_all(kSegments);
  double converted = 0, observed = 0;
  for (const Example* ex : train) {
    const auto label = static_cast<size_t>(ex->intent);
    const auto seg = static_cast<size_t>(ex->segment) % kSegments;
    const bool conv = ex->converted_tile >= 0;
    if (ex->conversion_observed) {
      converted += conv;
      observed += 1;
      label_n[label] += 1;
      label_conv[label] += conv;
      seg_n[seg] += 1;
      seg_conv[seg] += conv;
    }
    intent_n[label] += 1;
    seg_all[seg] += 1;
    seg_intent[seg][label] += 1;
    for (const auto& [tile, clicked] : ex->impressions) {
      const auto t = static_cast<size_t>(tile);
      imps[t] += 1;
      clicks[t] += clicked;
      seg_imps[seg][t] += 1;
      seg_clicks[seg][t] += clicked;
      if (t == label) {
        match_imps[t] += 1;
        match_clicks[t] += clicked;
      } else {
        other_imps[t] += 1;
        other_clicks[t] += clicked;
      }
    }
  }
  base_convert_ = converted / std::max(1.0, observed);
  // Smoothing keeps rare tiles and small segments near the overall rate.
  constexpr double kPrior = 20;
  double all_imps = 0, all_clicks = 0;
  for (size_t t = 0; t < kTiles; ++t) {
    all_imps += imps[t];
    all_clicks += clicks[t];
  }
  const double global_ctr = all_clicks / std::max(1.0, all_imps);
  for (size_t t = 0; t < kTiles; ++t) {
    ctr_[t] = (clicks[t] + kPrior * global_ctr) / (imps[t] + kPrior);
    match_ctr_[t] = (match_clicks[t] + kPrior * global_ctr) / (match_imps[t] + kPrior);
    other_ctr_[t] = (other_clicks[t] + kPrior * global_ctr) / (other_imps[t] + kPrior);
    label_convert_[t] = (label_conv[t] + kPrior * base_convert_) / (label_n[t] + kPrior);
  }
  popular_intent_ =
      static_cast<Intent>(std::max_element(intent_n.begin(), intent_n.end()) - intent_n.begin());
  segment_ctr_.resize(kSegments);
  segment_convert_.resize(kSegments);
  segment_intent_.resize(kSegments);
  for (size_t s = 0; s < kSegments; ++s) {
    for (size_t t = 0; t < kTiles; ++t) {
      segment_ctr_[s][t] = (seg_clicks[s][t] + kPrior * ctr_[t]) / (seg_imps[s][t] + kPrior);
    }
    segment_convert_[s] = (seg_conv[s] + kPrior * base_convert_) / (seg_n[s] + kPrior);
    segment_intent_[s] =
        seg_all[s] > 0
            ? static_cast<Intent>(std::max_element(seg_intent[s].begin(), seg_intent[s].end()) -
                                  seg_intent[s].begin())
            : popular_intent_;
  }
  app_ = Fit(train, /*web=*/false, options);
  web_ = Fit(train, /*web=*/true, options);
}

Prediction Baselines::MostPopular(const Example&) const {
  Prediction p;
  p.tile = ctr_;
  p.p_convert = base_convert_;
  p.intent = popular_intent_;
  return p;
}

Prediction Baselines::SegmentRules(const Example& ex) const {
  const auto s = static_cast<size_t>(ex.segment) % kSegments;
  Prediction p;
  p.tile = segment_ctr_[s];
  p.p_convert = segment_convert_[s];
  p.intent = segment_intent_[s];
  return p;
}

Prediction Baselines::FromIntent(Intent label, const Example&) const {
  Prediction p;
  const auto l = static_cast<size_t>(label);
  for (size_t t = 0; t < kTiles; ++t) p.tile[t] = t == l ? match_ctr_[t] : other_ctr_[t];
  // The label's tile leads even where its measured rate is low.
  p.tile[l] = std::max(p.tile[l], *std::max_element(p.tile.begin(), p.tile.end()) + 1e-6);
  p.p_convert = label_convert_[l];
  p.intent = label;
  return p;
}

const std::vector<float>& Baselines::FeaturesOf(const LinearSet& set, const Example& ex) {
  return set.web ? *ex.web_features : *ex.app_features;
}

Baselines::LinearSet Baselines::Fit(const std::vector<const Example*>& train, bool web,
                                    const TrainOptions& options) {
  LinearSet set;
  set.web = web;
  set.features = train.empty() ? 0 : FeaturesOf(set, *train[0]).size();
  const size_t features = set.features;
  std::vector<std::span<const float>> x, conv_x;
  std::vector<int> intent, conv;
  std::array<std::vector<std::span<const float>>, kTiles> tile_x;
  std::array<std::vector<int>, kTiles> tile_y;
  for (const Example* ex : train) {
    const std::span<const float> f(FeaturesOf(set, *ex).data(), features);
    x.push_back(f);
    intent.push_back(static_cast<int>(ex->intent));
    if (ex->conversion_observed) {
      conv_x.push_back(f);
      conv.push_back(ex->converted_tile >= 0 ? 1 : 0);
    }
    for (const auto& [tile, clicked] : ex->impressions) {
      tile_x[static_cast<size_t>(tile)].push_back(f);
      tile_y[static_cast<size_t>(tile)].push_back(clicked ? 1 : 0);
    }
  }
  set.intent.emplace_back(features, kTiles);
  set.intent[0].Train(x, intent, options);
  set.convert.emplace_back(features, 1);
  set.convert[0].Train(conv_x, conv, options);
  for (size_t t = 0; t < kTiles; ++t) {
    set.click.emplace_back(features, 1);
    set.click[t].Train(tile_x[t], tile_y[t], options);
  }
  return set;
}

Prediction Baselines::Linear(const LinearSet& set, const Example& ex) {
  const std::span<const float> f(FeaturesOf(set, ex).data(), set.features);
  Prediction p;
  p.intent = static_cast<Intent>(static_cast<int>(set.intent[0].Predict(f)));
  p.p_convert = set.convert[0].Predict(f);
  for (size_t t = 0; t < kTiles; ++t) p.tile[t] = set.click[t].Predict(f);
  return p;
}

std::string FormatTable(const std::vector<Metrics>& rows) {
  std::ostringstream out;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-28s %8s %9s %9s %9s %9s %9s %9s %9s\n", "model", "examples",
                "Recall@1", "click LL", "conv LL", "conv AUC", "conv F1", "intent F1", "teacher");
  out << buf;
  out << std::string(108, '-') << '\n';
  for (const Metrics& m : rows) {
    std::snprintf(buf, sizeof buf, "%-28s %8zu %9.4f %9.4f %9.4f %9.4f %9.4f %9.4f %9.4f\n",
                  m.model.c_str(), m.examples, m.recall_at_1, m.click_log_loss, m.convert_log_loss,
                  m.convert_auc, m.convert_micro_f1, m.intent_macro_f1, m.teacher_agreement);
    out << buf;
  }
  if (!rows.empty()) {
    out << "Recall@1: macro over tiles, " << rows[0].ranked
        << " sessions with a click; click LL over " << rows[0].impressions
        << " impressions; conv: completed application within the horizon, "
        << rows[0].conversion_examples
        << " uncensored examples; intent F1: macro vs latent intents; "
           "teacher: agreement with the rule-based teacher.\n";
  }
  return out.str();
}

std::string FormatCsv(const std::vector<Metrics>& rows) {
  std::ostringstream out;
  out << "model,examples,ranked_examples,impressions,recall_at_1_macro,click_log_loss,"
         "conversion_examples,conversion_log_loss,conversion_auc,conversion_micro_f1,intent_macro_"
         "f1,"
         "teacher_agreement\n";
  for (const Metrics& m : rows) {
    out << m.model << ',' << m.examples << ',' << m.ranked << ',' << m.impressions << ','
        << Fixed(m.recall_at_1, 6) << ',' << Fixed(m.click_log_loss, 6) << ','
        << m.conversion_examples << ',' << Fixed(m.convert_log_loss, 6) << ','
        << Fixed(m.convert_auc, 6) << ',' << Fixed(m.convert_micro_f1, 6) << ','
        << Fixed(m.intent_macro_f1, 6) << ',' << Fixed(m.teacher_agreement, 6) << '\n';
  }
  return out.str();
}

std::string FormatMarkdown(const std::vector<Metrics>& rows) {
  std::ostringstream out;
  out << "| model | examples | Recall@1 (macro) | click log loss | conversion log loss | "
         "conversion AUC | conversion micro-F1 | intent macro-F1 | teacher agreement |\n"
      << "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const Metrics& m : rows) {
    out << "| " << m.model << " | " << m.examples << " | " << Fixed(m.recall_at_1) << " | "
        << Fixed(m.click_log_loss) << " | " << Fixed(m.convert_log_loss) << " | "
        << Fixed(m.convert_auc) << " | " << Fixed(m.convert_micro_f1) << " | "
        << Fixed(m.intent_macro_f1) << " | " << Fixed(m.teacher_agreement) << " |\n";
  }
  return out.str();
}

namespace {

// Reliability diagram data: 10 equal-width bins of predicted probability.
struct Calibration {
  std::array<double, 10> sum_p{}, sum_y{}, n{};
  void Add(double p, bool y) {
    const auto bin = std::min<size_t>(9, static_cast<size_t>(std::clamp(p, 0.0, 1.0) * 10));
    sum_p[bin] += p;
    sum_y[bin] += y;
    n[bin] += 1;
  }
};

std::string WriteCalibration(const std::string& out_dir, const std::vector<std::string>& names,
                             const std::vector<std::array<Calibration, 2>>& curves) {
  namespace fs = std::filesystem;
  const fs::path dir(out_dir);
  std::ofstream csv(dir / "calibration.csv", std::ios::trunc);
  csv << "model,kind,bin,mean_predicted,observed_rate,count\n";
  std::ofstream dat(dir / "calibration.dat", std::ios::trunc);
  for (size_t m = 0; m < names.size(); ++m) {
    for (size_t k = 0; k < 2; ++k) {
      const Calibration& c = curves[m][k];
      dat << "# " << names[m] << (k == 0 ? " click" : " conversion") << '\n';
      for (size_t b = 0; b < 10; ++b) {
        if (c.n[b] == 0) continue;
        csv << names[m] << ',' << (k == 0 ? "click" : "conversion") << ',' << b << ','
            << Fixed(c.sum_p[b] / c.n[b], 6) << ',' << Fixed(c.sum_y[b] / c.n[b], 6) << ','
            << c.n[b] << '\n';
        // Bins with a handful of points only add noise to the picture (CSV keeps them).
        if (c.n[b] >= 20) {
          dat << Fixed(c.sum_p[b] / c.n[b], 6) << ' ' << Fixed(c.sum_y[b] / c.n[b], 6) << '\n';
        }
      }
      dat << "\n\n";  // gnuplot data block separator (index)
    }
  }
  csv.close();
  dat.close();  // gnuplot reads it below
  if (!csv || !dat) return "calibration data not written (I/O error)";
  std::ofstream gp(dir / "calibration.gp", std::ios::trunc);
  // pngcairo draws the legend and lines reliably; plain png is the fallback.
  gp << "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) { set terminal pngcairo size 1200,520 } "
        "else { set terminal png size 1200,520 }\n"
     << "set output '" << (dir / "calibration.png").string() << "'\n"
     << "set multiplot layout 1,2\n"
     << "set xrange [0:1]\nset yrange [0:1]\nset key left top\n"
     << "set xlabel 'mean predicted probability'\nset ylabel 'observed rate'\n";
  for (size_t k = 0; k < 2; ++k) {
    gp << "set title '" << (k == 0 ? "tile click" : "conversion") << " calibration'\n";
    gp << "plot x title 'perfect' with lines dashtype 2 lc rgb 'gray'";
    for (size_t m = 0; m < names.size(); ++m) {
      gp << ", '" << (dir / "calibration.dat").string() << "' index " << (m * 2 + k)
         << " using 1:2 with linespoints title '" << names[m] << "'";
    }
    gp << '\n';
  }
  gp << "unset multiplot\n";
  gp.close();
  if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) {
    return "gnuplot not found: calibration.csv and calibration.gp written, no PNG";
  }
  const std::string command = "gnuplot '" + (dir / "calibration.gp").string() + "' 2>/dev/null";
  if (std::system(command.c_str()) != 0)
    return "gnuplot failed: see " + (dir / "calibration.gp").string();
  return "calibration plot: " + (dir / "calibration.png").string();
}

}  // namespace

namespace {

std::vector<std::pair<std::string, bool>> Logged(const Example& ex) {
  std::vector<std::pair<std::string, bool>> out;
  for (const auto& [tile, clicked] : ex.impressions) {
    out.emplace_back(std::string(sim::Intents()[static_cast<size_t>(tile)].offer_id), clicked);
  }
  return out;
}

int64_t Millis(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1000 + ts.nanos() / 1'000'000;
}

}  // namespace

std::vector<Exposure> ModelExposures(const Dataset& data, const std::vector<const Example*>& test,
                                     const std::vector<Prediction>& predictions, size_t top_k) {
  std::vector<Exposure> out;
  for (size_t i = 0; i < test.size(); ++i) {
    const Example& ex = *test[i];
    Exposure e;
    e.group = GroupAt(data, ex.customer_id, ex.time_ms);
    std::vector<size_t> order(kTiles);
    for (size_t t = 0; t < kTiles; ++t) order[t] = t;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return predictions[i].tile[a] > predictions[i].tile[b];
    });
    for (size_t k = 0; k < top_k && k < kTiles; ++k) {
      e.shown.emplace_back(sim::Intents()[order[k]].offer_id);
    }
    e.logged = Logged(ex);
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<Exposure> DecisionExposures(const Dataset& data,
                                        const std::vector<const Example*>& test,
                                        const std::vector<v1::Decision>& decisions, size_t* in_test,
                                        size_t* matched) {
  std::unordered_map<std::string, const Example*> by_login;
  for (const Example* ex : test) by_login[ex->id] = ex;
  std::vector<Exposure> out;
  *in_test = *matched = 0;
  for (const auto& d : decisions) {
    const int64_t t = Millis(d.trigger_time());
    if (d.placement() != "home_tile" || d.customer_id().empty() || data.SplitOf(t) != 2) continue;
    ++*in_test;
    Exposure e;
    e.group = GroupAt(data, d.customer_id(), t);
    for (const auto& o : d.offers()) e.shown.push_back(o.offer_id());
    if (const auto it = by_login.find(d.trigger_event_id()); it != by_login.end()) {
      ++*matched;
      e.logged = Logged(*it->second);
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::string RunEvaluation(const EvaluationOptions& options, EvaluationResult* result) {
  const bool model_given = !options.predictions_path.empty() || options.trivial;
  if (!model_given && options.decisions_path.empty()) {
    return "give --predictions FILE or --model trivial (or --decisions FILE)";
  }
  if (!(options.threshold > 0 && options.threshold <= 1)) return "--threshold must be in (0, 1]";
  std::vector<v1::Decision> decisions;
  if (!options.decisions_path.empty()) {
    if (auto error = ReadDecisions(options.decisions_path, &decisions, &result->decision_repeats);
        !error.empty()) {
      return error;
    }
    std::shared_ptr<const catalog::Catalog> catalog;
    try {
      catalog = options.catalog_dir.empty() ? catalog::DefaultCatalog()
                                            : catalog::LoadCatalog(options.catalog_dir);
    } catch (const catalog::CatalogError& e) {
      return std::string("--catalog: ") + e.what();
    }
    result->audit = AuditMessages(decisions, *catalog, options.message_options);
    result->audited = true;
  }
  if (options.data_dir.empty()) {
    if (model_given) return "--data is required to evaluate a model";
    return "";
  }
  Dataset data;
  if (std::string error = data.Load(options.data_dir); !error.empty()) return error;
  const std::vector<Example> examples = BuildExamples(data, options.examples);
  std::vector<const Example*> test;
  size_t train_count = 0;
  for (const auto& ex : examples) {
    if (ex.split == 2) test.push_back(&ex);
    if (ex.split == 0) ++train_count;
  }
  if (test.empty()) return "--data: the test period has no app LOGIN (no decision points)";
  if (!decisions.empty()) {
    result->decisions_bias =
        BiasCheck(DecisionExposures(data, test, decisions, &result->decisions_in_test,
                                    &result->decisions_matched),
                  options.bias);
  }
  if (!model_given) return "";
  if (train_count == 0)
    return "--data: the train period has no app LOGIN (nothing to fit baselines on)";

  std::vector<Prediction> model;
  if (options.trivial) {
    model.assign(test.size(), TrivialPrediction());
  } else if (std::string error = ReadPredictions(options.predictions_path, test, &model);
             !error.empty()) {
    return error;
  }
  if (!options.write_trivial_path.empty()) {
    std::vector<Prediction> trivial(test.size(), TrivialPrediction());
    if (std::string error = WritePredictions(options.write_trivial_path, test, trivial);
        !error.empty()) {
      return "--write-trivial-predictions: " + error;
    }
  }
  std::vector<ModelPredictions> models;
  models.push_back({options.model_name, std::move(model), true});
  return EvaluateWithBaselines(examples, test, std::move(models), options, result, nullptr, &data);
}

std::string EvaluateWithBaselines(const std::vector<Example>& examples,
                                  const std::vector<const Example*>& test,
                                  std::vector<ModelPredictions> models,
                                  const EvaluationOptions& options, EvaluationResult* result,
                                  const Baselines* fitted, const Dataset* data) {
  for (const auto& m : models) {
    if (m.predictions.size() != test.size()) {
      return "model " + m.name + ": " + std::to_string(m.predictions.size()) + " predictions for " +
             std::to_string(test.size()) + " test examples";
    }
  }
  std::optional<Baselines> own;
  const Baselines& baselines = fitted != nullptr ? *fitted : own.emplace(examples, options.train);
  using Row = ModelPredictions;
  std::vector<Row> rows = std::move(models);
  auto add = [&](std::string name, bool plot, auto&& predict) {
    Row row{std::move(name), {}, plot};
    row.predictions.reserve(test.size());
    for (const Example* ex : test) row.predictions.push_back(predict(*ex));
    rows.push_back(std::move(row));
  };
  add("baseline: most-popular", true, [&](const Example& ex) { return baselines.MostPopular(ex); });
  add("baseline: segment rules", false,
      [&](const Example& ex) { return baselines.SegmentRules(ex); });
  add("baseline: in-app only (LR)", true, [&](const Example& ex) { return baselines.AppOnly(ex); });
  add("reference: web+app (LR)", true, [&](const Example& ex) { return baselines.WebAndApp(ex); });
  add("reference: teacher rules", false,
      [&](const Example& ex) { return baselines.FromIntent(ex.teacher, ex); });
  add("reference: oracle intent", false,
      [&](const Example& ex) { return baselines.FromIntent(ex.intent, ex); });
  if (options.intents || !options.extra_labellers.empty()) {
    if (data == nullptr) return "the intent report needs the world the examples come from";
    const auto catalog = catalog::DefaultCatalog();
    auto rules = MakeRuleLabeller(catalog);
    std::vector<WindowLabeller*> labellers{rules.get()};
    labellers.insert(labellers.end(), options.extra_labellers.begin(),
                     options.extra_labellers.end());
    result->intents = RunIntentReport(*data, examples, *catalog, labellers, IntentReportOptions());
    result->has_intents = true;
    for (size_t l = 1; l < result->intents.labellers.size(); ++l) {
      const auto& m = result->intents.labellers[l];
      if (m.login_top.size() != test.size()) continue;
      Row row{"reference: " + m.name, {}, false};
      for (size_t i = 0; i < test.size(); ++i) {
        row.predictions.push_back(baselines.FromIntent(m.login_top[i], *test[i]));
      }
      rows.push_back(std::move(row));
    }
  }

  result->model_bias.clear();
  if (data != nullptr) {
    result->model_bias = BiasCheck(
        ModelExposures(*data, test, rows[0].predictions, options.bias_top_k), options.bias);
  }
  result->rows.clear();
  std::vector<std::string> names;
  std::vector<std::array<Calibration, 2>> curves;
  for (const Row& row : rows) {
    result->rows.push_back(Score(row.name, test, row.predictions, options.threshold));
    if (!row.plot) continue;
    names.push_back(row.name);
    std::array<Calibration, 2> c;
    for (size_t i = 0; i < test.size(); ++i) {
      for (const auto& [tile, clicked] : test[i]->impressions) {
        c[0].Add(row.predictions[i].tile[static_cast<size_t>(tile)], clicked);
      }
      if (test[i]->conversion_observed) {
        c[1].Add(row.predictions[i].p_convert, test[i]->converted_tile >= 0);
      }
    }
    curves.push_back(c);
  }
  if (!options.out_dir.empty()) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(options.out_dir, ec);
    if (ec) return "--out: cannot create " + options.out_dir + ": " + ec.message();
    std::ofstream csv(fs::path(options.out_dir) / "results.csv", std::ios::trunc);
    csv << FormatCsv(result->rows);
    std::ofstream md(fs::path(options.out_dir) / "results.md", std::ios::trunc);
    md << "# Offline evaluation\n\nTest period decision points (app logins): " << test.size()
       << ". Conversion threshold " << options.threshold << ", horizon "
       << options.examples.horizon_ms / kDayMs << " days.\n\n"
       << FormatMarkdown(result->rows);
    if (data != nullptr) {
      md << "\n## Bias check\n\n```\n"
         << FormatBias(options.model_name + ", top " + std::to_string(options.bias_top_k) +
                           " tiles, test period",
                       result->model_bias, options.bias)
         << "```\n";
    }
    if (!csv || !md) return "--out: cannot write results into " + options.out_dir;
    if (result->has_intents) {
      std::ofstream intents(fs::path(options.out_dir) / "intents.md", std::ios::trunc);
      intents << "# Intent labels\n\n" << FormatIntentReportMarkdown(result->intents);
      if (!intents) return "--out: cannot write intents.md into " + options.out_dir;
    }
    result->plot_note = WriteCalibration(options.out_dir, names, curves);
  }
  return "";
}

}  // namespace intentstream::eval
