// intentstream-offer: trains and evaluates the offer propensity model. Thin: parses flags
// (CLI11) into the options of src/model and prints the tables.
//
//   intentstream-offer journeys --world DIR --encoder models/default --out models/offer
//   intentstream-offer tabular --csv bank-additional.csv --target y
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string>

#include "model/csv_table.h"
#include "model/journey_mode.h"
#include "model/tabular_mode.h"

namespace {

using namespace intentstream;

void AddNetFlags(CLI::App* app, model::OfferNetConfig* net) {
  app->add_option("--hidden", net->hidden, "width of the fused representation")
      ->capture_default_str();
  app->add_option("--branches", net->branches, "residual branches of the ensemble")
      ->capture_default_str();
  app->add_option("--branch-hidden", net->branch_hidden, "width inside a branch")
      ->capture_default_str();
  app->add_option("--offer-dim", net->offer_dim, "width of an offer's embedding")
      ->capture_default_str();
}

void AddTrainFlags(CLI::App* app, model::OfferTrainOptions* t) {
  app->add_option("--epochs", t->epochs)->capture_default_str()->check(CLI::PositiveNumber);
  app->add_option("--patience", t->patience, "epochs without a better validation loss")
      ->capture_default_str();
  app->add_option("--batch", t->batch)->capture_default_str()->check(CLI::PositiveNumber);
  app->add_option("--lr", t->learning_rate)->capture_default_str();
  app->add_option("--weight-decay", t->weight_decay, "L2 on weight matrices")
      ->capture_default_str();
  app->add_option("--residual-l2", t->residual_l2, "L2 on offers' own embedding residuals")
      ->capture_default_str();
  app->add_option("--aux", t->aux_weight, "weight of the branch consistency term")
      ->capture_default_str();
  app->add_option("--dropout", t->dropout)->capture_default_str();
  app->add_option("--seed", t->seed)->capture_default_str();
  app->add_option("--threads", t->threads)->capture_default_str()->check(CLI::PositiveNumber);
  app->add_flag("--progress", t->progress, "one line per epoch on stderr");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "intentstream-offer: the offer propensity model (session embedding fused with "
      "profile features), its training and evaluation against baselines"};
  app.require_subcommand(1);

  // Tabular mode.
  model::TabularRunOptions tab;
  tab.net.hidden = 32;
  tab.net.branch_hidden = 32;
  tab.net.offer_dim = 8;
  tab.train.epochs = 300;
  tab.train.patience = 25;
  tab.train.batch = 128;
  tab.train.dropout = 0.2;
  tab.train.weight_decay = 1e-4;
  std::string delimiter;
  auto* t = app.add_subcommand(
      "tabular",
      "any campaign-history CSV with a target column: the fused model against logistic "
      "regression and xgboost, with and without the leaking columns");
  t->add_option("--csv", tab.csv_path, "the CSV file")->required()->check(CLI::ExistingFile);
  t->add_option("--target", tab.data.target, "target column (yes/no, true/false, 1/0)")
      ->capture_default_str();
  t->add_option("--positive", tab.data.positive, "positive target values")->delimiter(',');
  t->add_option("--numeric", tab.data.numeric, "columns read as numeric")->delimiter(',');
  t->add_option("--categorical", tab.data.categorical, "columns read as categorical")
      ->delimiter(',');
  t->add_option("--drop", tab.data.drop, "columns left out")->delimiter(',');
  t->add_option("--leak", tab.leak_columns,
                "columns known only after the outcome: compared with and without")
      ->delimiter(',')
      ->capture_default_str();
  t->add_option("--delimiter", delimiter, "field delimiter (default: guessed from the header)");
  t->add_option("--test-fraction", tab.data.test_fraction)->capture_default_str();
  t->add_option("--validation-fraction", tab.data.validation_fraction)->capture_default_str();
  t->add_option("--split-seed", tab.data.seed, "seed of the stratified split")
      ->capture_default_str();
  t->add_option("--fused-seeds", tab.fused_seeds, "fused model: average of this many seeds")
      ->capture_default_str();
  t->add_option("--xgb-depth", tab.xgboost.max_depth)->capture_default_str();
  t->add_option("--xgb-eta", tab.xgboost.eta)->capture_default_str();
  t->add_option("--lr-l2", tab.logistic.l2, "logistic regression's L2")->capture_default_str();
  t->add_option("--out", tab.out_dir, "write results.md and the fused models here");
  AddNetFlags(t, &tab.net);
  AddTrainFlags(t, &tab.train);

  // Journeys mode. Regularised more than the library's defaults: the world's train split
  // is small next to the network (two runs compared: docs/offer-model.md).
  model::JourneyRunOptions jr;
  jr.train.dropout = 0.5;
  jr.train.weight_decay = 1e-4;
  jr.train.learning_rate = 1e-3;
  jr.train.batch = 512;
  auto* j = app.add_subcommand(
      "journeys",
      "a generated world (intentstream-journeygen --out): replays it through the processor's "
      "state code, trains on the train split, evaluates on the test split against the "
      "evaluation tool's baselines, fits personas, writes the model artifact");
  j->add_option("--world", jr.world_dir, "intentstream-journeygen --out directory")
      ->required()
      ->check(CLI::ExistingDirectory);
  j->add_option("--encoder", jr.encoder_dir, "session encoder artifact")
      ->capture_default_str()
      ->check(CLI::ExistingDirectory);
  j->add_option("--out", jr.out_dir, "offer model artifact to write");
  j->add_option("--report", jr.report_dir, "evaluation tables and calibration files");
  j->add_option("--name", jr.name, "model version prefix")->capture_default_str();
  j->add_option("--cache", jr.cache_path,
                "keep the replayed decision points in this file and reuse them while the world, "
                "encoder and features are the same");
  j->add_option("--personas-min", jr.personas.k_min)->capture_default_str();
  j->add_option("--personas-max", jr.personas.k_max)->capture_default_str();
  j->add_flag("--no-ablations", jr.skip_ablations, "train only the full model");
  j->add_flag("--quick", jr.quick,
              "experiments: the models' rows only (no baselines, personas or artifact)");
  j->add_option("--baseline-epochs", jr.baseline_train.epochs, "SGD epochs of the LR baselines")
      ->capture_default_str();
  AddNetFlags(j, &jr.net);
  AddTrainFlags(j, &jr.train);

  CLI11_PARSE(app, argc, argv);
  std::string command_line = "intentstream-offer";
  for (int i = 1; i < argc; ++i) command_line += std::string(" ") + argv[i];
  try {
    if (t->parsed()) {
      if (delimiter == "tab" || delimiter == "\\t") delimiter = "\t";
      if (delimiter.size() > 1) throw std::invalid_argument("--delimiter: one character");
      tab.data.delimiter = delimiter.empty() ? 0 : delimiter[0];
      model::SetTrainingThreads(tab.train.threads);
      const auto result = model::RunTabular(tab);
      std::fputs(model::FormatTabular(result).c_str(), stdout);
      return 0;
    }
    jr.command_line = command_line;
    model::SetTrainingThreads(jr.train.threads);
    const auto result = model::RunJourneys(jr);
    std::fputs(result.report.c_str(), stdout);
    return 0;
  } catch (const model::DataFileError& e) {
    std::fprintf(stderr, "intentstream-offer: bad CSV: %s\n", e.what());
    return 1;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "intentstream-offer: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "intentstream-offer: %s\n", e.what());
    return 1;
  }
}
