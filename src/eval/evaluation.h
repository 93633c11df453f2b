// Offline evaluation of the clicks-to-intent line of work on a generated world:
// homepage tile ranking (macro Recall@1 over tiles, click log loss), conversion
// prediction (log loss, micro-F1) and intent labels (macro-F1 against the latent
// intents, agreement with the rule-based teacher), for a model's predictions and
// for baselines trained in the same run on the train split.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "decide/options.h"
#include "eval/bias.h"
#include "eval/dataset.h"
#include "eval/intent_report.h"
#include "eval/logistic.h"
#include "eval/message_audit.h"

namespace intentstream::eval {

// What a model says at one decision point (one app LOGIN).
struct Prediction {
  // P(click | tile shown) per tile, indexed like sim::Intents() (tile of intent i).
  // The ranking is these values, descending; ties go to the earlier tile.
  std::array<double, sim::kIntentCount> tile{};
  // P(the customer completes an application within the horizon).
  double p_convert = 0;
  sim::Intent intent = sim::Intent::kEverydayServicing;
};

// Index of the top-ranked tile.
int TopTile(const Prediction& p);

// The "trivial" model: every tile 0.05, p_convert 0.05, everyday_servicing.
Prediction TrivialPrediction();

// Predictions file (CSV, one row per example, header first):
//   example_id,intent,p_convert,TILE_MORTGAGE,TILE_REMORTGAGE,...  (all 12 tile ids,
//   any column order). Returns "" on success, else a readable error. Every example
//   of `examples` must have a row; extra rows are ignored.
std::string ReadPredictions(const std::string& path, const std::vector<const Example*>& examples,
                            std::vector<Prediction>* out);
std::string WritePredictions(const std::string& path, const std::vector<const Example*>& examples,
                             const std::vector<Prediction>& predictions);

struct Metrics {
  std::string model;
  size_t examples = 0;     // decision points scored
  size_t ranked = 0;       // of those, with a tile click (Recall@1 population)
  size_t impressions = 0;  // tile impressions (click log loss population)
  double recall_at_1 = 0;  // macro over clicked tiles
  double click_log_loss = 0;
  size_t conversion_examples = 0;  // examples with an uncensored conversion label
  double convert_log_loss = 0;
  double convert_auc = 0;  // ranking quality of p_convert, insensitive to calibration
  double convert_micro_f1 = 0;
  double intent_macro_f1 = 0;
  double teacher_agreement = 0;
};

// Scores predictions (aligned with `examples`). A conversion is predicted when
// p_convert >= threshold, for the product of the top tile.
Metrics Score(const std::string& model, const std::vector<const Example*>& examples,
              const std::vector<Prediction>& predictions, double threshold);

// Baselines and reference models, fitted on the train-split examples.
class Baselines {
 public:
  Baselines(const std::vector<Example>& examples, const TrainOptions& options);
  // Tiles by click-through rate in train; the most common intent; the base rate.
  Prediction MostPopular(const Example& ex) const;
  // The same per segment (age band x income band), smoothed towards the global rates.
  Prediction SegmentRules(const Example& ex) const;
  // Knowing an intent label (latent: the oracle; teacher's: the teacher): its tile
  // first, click and conversion rates per label from train.
  Prediction FromIntent(sim::Intent label, const Example& ex) const;
  // Logistic models on decide::FeatureBuilder's profile and session features of the
  // customer's own app history only (no pre-login web).
  Prediction AppOnly(const Example& ex) const { return Linear(app_, ex); }
  // The same with the linked pre-login web history added.
  Prediction WebAndApp(const Example& ex) const { return Linear(web_, ex); }

 private:
  struct LinearSet {
    bool web = false;  // features with the linked web history (else the app-only ones)
    size_t features = 0;
    std::vector<LinearModel> intent;  // one softmax model
    std::vector<LinearModel> click;   // one per tile
    std::vector<LinearModel> convert;
  };
  static const std::vector<float>& FeaturesOf(const LinearSet& set, const Example& ex);
  static LinearSet Fit(const std::vector<const Example*>& train, bool web,
                       const TrainOptions& options);
  static Prediction Linear(const LinearSet& set, const Example& ex);

  std::array<double, sim::kIntentCount> ctr_{};
  double base_convert_ = 0;
  sim::Intent popular_intent_ = sim::Intent::kEverydayServicing;
  std::vector<std::array<double, sim::kIntentCount>> segment_ctr_;
  std::vector<double> segment_convert_;
  std::vector<sim::Intent> segment_intent_;
  // For FromIntent: click rate when the tile matches the label / does not, per tile;
  // conversion rate per label.
  std::array<double, sim::kIntentCount> match_ctr_{}, other_ctr_{}, label_convert_{};
  LinearSet app_, web_;
};

// A whole run, as the tool does it.
struct EvaluationOptions {
  std::string data_dir;          // journeygen --out; empty: only the decisions audit
  std::string predictions_path;  // model predictions; empty with trivial = true
  bool trivial = false;          // evaluate the trivial model instead of a file
  // A decisions log (intentstream run --decisions-out): its messages are audited, and
  // with data_dir its test-period homepage decisions get a bias check.
  std::string decisions_path;
  std::string catalog_dir;  // the catalogue the decisions were made with; "": built-in
  decide::DecisionOptions message_options;  // the forbidden phrase lists
  BiasOptions bias;
  size_t bias_top_k = 3;  // a model "shows" its k best tiles (the homepage has 3)
  std::string model_name = "model";
  std::string out_dir;             // results.csv, results.md, calibration.*; empty = none
  std::string write_trivial_path;  // also write the trivial model's predictions file here
  double threshold = 0.5;
  ExampleOptions examples;
  TrainOptions train;
  // The intent section (intent_report.h): the rule teacher first, then these labellers
  // (the distilled head, from the tool). Each extra labeller also gets a main-table row
  // from its label at the LOGIN.
  bool intents = false;
  std::vector<WindowLabeller*> extra_labellers;
};

struct EvaluationResult {
  std::vector<Metrics> rows;        // the model first, then baselines and references
  std::string plot_note;            // where the calibration plot went, or why it is missing
  std::vector<BiasRow> model_bias;  // the model's top-k tiles, test period
  // The decisions log: its audit, its repeats dropped, and its bias check (test-period
  // homepage decisions; `decisions_matched` of them at a LOGIN of the world).
  bool audited = false;
  MessageAudit audit;
  size_t decision_repeats = 0;
  std::vector<BiasRow> decisions_bias;
  size_t decisions_in_test = 0, decisions_matched = 0;
  bool has_intents = false;
  IntentReport intents;
};

// Returns "" on success, else a readable error.
std::string RunEvaluation(const EvaluationOptions& options, EvaluationResult* result);

// The bias check's decision points: the model's top-k tiles at each test example; the
// homepage decisions of the log in the test period.
std::vector<Exposure> ModelExposures(const Dataset& data, const std::vector<const Example*>& test,
                                     const std::vector<Prediction>& predictions, size_t top_k);
std::vector<Exposure> DecisionExposures(const Dataset& data,
                                        const std::vector<const Example*>& test,
                                        const std::vector<v1::Decision>& decisions, size_t* in_test,
                                        size_t* matched);

// One model's predictions for the test examples (aligned with them).
struct ModelPredictions {
  std::string name;
  std::vector<Prediction> predictions;
  bool plot = true;  // in the calibration plot
};
// What RunEvaluation does after loading: scores `models` first, then the baselines and
// references fitted on the train examples of `examples`, with options.threshold, and
// writes options.out_dir when set (options.data_dir, predictions_path and trivial are
// not read). A trainer calls this with the examples it already has (and, optionally,
// baselines it fitted already with options.train). With `data` (the world the examples
// come from) the first model's top tiles also get the bias check (result->model_bias).
std::string EvaluateWithBaselines(const std::vector<Example>& examples,
                                  const std::vector<const Example*>& test,
                                  std::vector<ModelPredictions> models,
                                  const EvaluationOptions& options, EvaluationResult* result,
                                  const Baselines* fitted = nullptr, const Dataset* data = nullptr);

// The table as fixed-width text, CSV and Markdown.
std::string FormatTable(const std::vector<Metrics>& rows);
std::string FormatCsv(const std::vector<Metrics>& rows);
std::string FormatMarkdown(const std::vector<Metrics>& rows);

}  // namespace intentstream::eval
