#include "model/tabular_mode.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace intentstream::model {

namespace {

constexpr int kBootstrapResamples = 1000;
constexpr uint64_t kBootstrapSeed = 7;

OfferTrainData AsTrainData(const TabularMatrix& m) {
  OfferTrainData d;
  d.inputs.rows = m.rows;
  d.inputs.semantic = m.categorical;
  d.inputs.structured = m.numeric;
  d.tasks = 1;
  d.offers = 1;
  d.target.assign(m.y.begin(), m.y.end());
  d.mask.assign(m.rows, 1.0f);
  return d;
}

std::vector<double> FusedPredict(const OfferModel& model, const TabularMatrix& m) {
  const auto d = AsTrainData(m);
  const auto p = model.Predict(d.inputs, *model.PrepareTrained());
  return std::vector<double>(p.begin(), p.end());
}

TabularVariant RunVariant(const std::string& name, const TabularData& data,
                          const TabularRunOptions& o) {
  TabularVariant v;
  v.name = name;
  v.train_rows = data.train.rows;
  v.validation_rows = data.validation.rows;
  v.test_rows = data.test.rows;
  v.features = data.numeric_width + data.categorical_width;
  const size_t w = v.features;
  const auto xtr = TabularData::Joined(data, data.train);
  const auto xva = TabularData::Joined(data, data.validation);
  const auto xte = TabularData::Joined(data, data.test);
  std::vector<std::vector<double>> test_predictions;  // per model, in v.models' order
  auto add = [&](const std::string& model, const std::vector<double>& pva,
                 const std::vector<double>& pte) {
    const double threshold = BestF1Threshold(pva, data.validation.y);
    v.models.push_back(Evaluate(model, pte, data.test.y, threshold));
    v.models.back().roc_auc_95 =
        RocAucInterval(pte, data.test.y, kBootstrapResamples, kBootstrapSeed);
    test_predictions.push_back(pte);
  };
  {
    LogisticRegression lr;
    lr.Fit(xtr, data.train.rows, w, data.train.y, o.logistic);
    add("logistic regression", lr.Predict(xva, data.validation.rows),
        lr.Predict(xte, data.test.rows));
  }
  {
    XGBoostModel xgb;
    xgb.Fit(xtr, data.train.rows, w, data.train.y, xva, data.validation.rows, data.validation.y,
            o.xgboost);
    v.xgboost_rounds = xgb.best_rounds();
    add("xgboost (gradient-boosted trees)", xgb.Predict(xva, data.validation.rows),
        xgb.Predict(xte, data.test.rows));
  }
  {
    OfferModelSpec spec;
    spec.mode = "tabular";
    spec.model_version = "tabular";
    spec.net = o.net;
    spec.tasks = {"accept"};
    spec.offers = {op::OfferDescription{"accept", {}, "", ""}};
    for (size_t j = 0; j < data.numeric_width; ++j) {
      spec.structured.names.push_back(data.feature_names[j]);
    }
    for (size_t j = 0; j < data.categorical_width; ++j) {
      spec.semantic.names.push_back(data.feature_names[data.numeric_width + j]);
    }
    const auto train = AsTrainData(data.train);
    const auto validation = AsTrainData(data.validation);
    FitStandardisation(train.inputs, &spec);
    std::vector<double> pva(data.validation.rows, 0.0), pte(data.test.rows, 0.0);
    const int seeds = std::max(1, o.fused_seeds);
    for (int k = 0; k < seeds; ++k) {
      OfferTrainOptions t = o.train;
      t.seed = o.train.seed + static_cast<uint64_t>(k);
      spec.seed = t.seed;
      auto model = TrainOfferModel(spec, train, validation, t, &v.fused_report);
      const auto a = FusedPredict(*model, data.validation);
      const auto b = FusedPredict(*model, data.test);
      for (size_t i = 0; i < a.size(); ++i) pva[i] += a[i] / seeds;
      for (size_t i = 0; i < b.size(); ++i) pte[i] += b[i] / seeds;
      if (!o.out_dir.empty() && k == 0) {
        std::string dir = name;
        for (char& c : dir) {
          if (!std::isalnum(static_cast<unsigned char>(c))) c = '-';
        }
        model->Save((std::filesystem::path(o.out_dir) / ("fused-" + dir)).string());
      }
    }
    add("fused model (gate + " + std::to_string(o.net.branches) + " branches)", pva, pte);
    v.fused_reliability = FormatReliability(Reliability(pte, data.test.y));
  }
  // The fused model (last) against each baseline, on the same resamples.
  for (size_t m = 0; m + 1 < v.models.size(); ++m) {
    v.fused_minus.push_back(
        {v.models[m].model, v.models.back().roc_auc - v.models[m].roc_auc,
         RocAucDifferenceInterval(test_predictions.back(), test_predictions[m], data.test.y,
                                  kBootstrapResamples, kBootstrapSeed)});
  }
  return v;
}

}  // namespace

TabularResult RunTabular(const TabularRunOptions& o) {
  TabularResult r;
  r.source = o.csv_path;
  const TabularData all = LoadTabular(o.csv_path, o.data);
  r.rows = all.positives + all.negatives;
  r.positives = all.positives;
  std::vector<std::string> leaks;
  for (const auto& c : o.leak_columns) {
    for (const auto& col : all.columns) {
      if (col.name == c) leaks.push_back(c);
    }
  }
  std::string all_name = "all columns";
  if (!leaks.empty()) {
    all_name = "with " + leaks.front();
    for (size_t i = 1; i < leaks.size(); ++i) all_name += ", " + leaks[i];
  }
  r.variants.push_back(RunVariant(all_name, all, o));
  if (!leaks.empty()) {
    TabularOptions without = o.data;
    without.drop.insert(without.drop.end(), leaks.begin(), leaks.end());
    const TabularData d = LoadTabular(o.csv_path, without);
    std::string name = "without " + leaks.front();
    for (size_t i = 1; i < leaks.size(); ++i) name += ", " + leaks[i];
    r.variants.push_back(RunVariant(name, d, o));
  }
  if (!o.out_dir.empty()) {
    std::filesystem::create_directories(o.out_dir);
    std::ofstream(std::filesystem::path(o.out_dir) / "results.md") << FormatTabular(r);
  }
  return r;
}

std::string FormatTabular(const TabularResult& r) {
  std::string out;
  char buf[512];
  std::snprintf(
      buf, sizeof buf, "%s: %zu rows, %zu positive (%.1f%%)\n\n", r.source.c_str(), r.rows,
      r.positives,
      100.0 * static_cast<double>(r.positives) / static_cast<double>(std::max<size_t>(1, r.rows)));
  out += buf;
  out +=
      "| columns | model | ROC AUC | ROC AUC 95% CI | PR AUC | F1 | precision | recall | log "
      "loss | ECE | threshold |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& v : r.variants) {
    for (const auto& m : v.models) {
      std::snprintf(buf, sizeof buf,
                    "| %s | %s | %.4f | %.4f-%.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | "
                    "%.3f |\n",
                    v.name.c_str(), m.model.c_str(), m.roc_auc, m.roc_auc_95.lower,
                    m.roc_auc_95.upper, m.pr_auc, m.f1, m.precision, m.recall, m.log_loss, m.ece,
                    m.threshold);
      out += buf;
    }
  }
  out += "\nROC AUC of the fused model minus each baseline (paired bootstrap, 95%):\n\n";
  for (const auto& v : r.variants) {
    for (const auto& d : v.fused_minus) {
      std::snprintf(buf, sizeof buf, "- %s, fused - %s: %+.4f [%+.4f, %+.4f]%s\n", v.name.c_str(),
                    d.baseline.c_str(), d.difference, d.interval.lower, d.interval.upper,
                    d.interval.Contains(0) ? " (no difference at this sample size)" : "");
      out += buf;
    }
  }
  out += "\nSplit (stratified, fixed seed): ";
  for (const auto& v : r.variants) {
    std::snprintf(buf, sizeof buf,
                  "%s: %zu train / %zu validation / %zu test rows, %zu features, "
                  "xgboost %d rounds, fused best epoch %d, gate mean %.3f; ",
                  v.name.c_str(), v.train_rows, v.validation_rows, v.test_rows, v.features,
                  v.xgboost_rounds, v.fused_report.best_epoch, v.fused_report.mean_gate);
    out += buf;
  }
  out +=
      "\nThresholds: the F1-best on the validation rows, per model. ECE: 10 bins. "
      "Intervals: 1,000 bootstrap resamples of the test rows, seed 7.\n";
  for (const auto& v : r.variants) {
    out +=
        "\nReliability of the fused model (" + v.name + ", test rows):\n\n" + v.fused_reliability;
  }
  return out;
}

}  // namespace intentstream::model
