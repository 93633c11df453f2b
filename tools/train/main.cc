// intentstream-train: self-supervised training, evaluation and export of the session
// encoder. Thin: parses flags (CLI11) into TrainOptions / EvaluateOptions and calls
// src/model.
//
//   intentstream-train [train] --train PATHS [--valid PATHS] [--eval PATHS] --out DIR
//   intentstream-train evaluate [--model DIR] --train PATHS --eval PATHS
#include <CLI/CLI.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/csv.h"
#include "model/model_config.h"
#include "model/trainer.h"

namespace {

using intentstream::model::CsvMapping;

constexpr const char* kPathsHelp =
    "comma-separated event directories (web-events.jsonl, app-events.jsonl, "
    "identity-links.jsonl, as the journey generator writes each split) or .csv files";

constexpr const char* kCsvGroup = "CSV clickstream (columns by header name or 0-based index)";

// CSV column mapping flags, shared by both commands.
struct CsvFlags {
  CsvMapping mapping;
  bool no_header = false;

  void Add(CLI::App* app) {
    app->add_option("--csv-visitor", mapping.visitor, "CSV column of the session or visitor id")
        ->capture_default_str()
        ->group(kCsvGroup);
    app->add_option("--csv-time", mapping.time,
                    "CSV column of the event time (see --csv-time-format)")
        ->capture_default_str()
        ->group(kCsvGroup);
    app->add_option("--csv-item", mapping.item, "CSV column of the page or item (the category)")
        ->capture_default_str()
        ->group(kCsvGroup);
    app->add_option("--csv-type", mapping.type, "CSV column of the event type [none]")
        ->group(kCsvGroup);
    app->add_option("--csv-product", mapping.product, "CSV column of the product [none]")
        ->group(kCsvGroup);
    app->add_option_function<std::string>(
           "--csv-delimiter",
           [this](const std::string& d) {
             if (!intentstream::csv::ParseDelimiter(d, &mapping.delimiter)) {
               throw CLI::ValidationError("--csv-delimiter",
                                          "one character, or 'tab' / '\\t', not '" + d + "'");
             }
           },
           "field delimiter: one character, or 'tab' [,]")
        ->group(kCsvGroup);
    app->add_flag("--csv-no-header", no_header,
                  "the first line is data: columns are 0-based indexes")
        ->group(kCsvGroup);
    app->add_option_function<std::string>(
           "--csv-time-format",
           [this](const std::string& f) {
             intentstream::model::ParseCsvTimeFormat(f, &mapping.time_format);
           },
           "auto: numbers from 1e11 on are Unix milliseconds, smaller ones Unix seconds "
           "(fractions allowed), anything else ISO 8601 [auto]")
        ->check(CLI::IsMember({"auto", "unix-s", "unix-ms", "iso"}))
        ->group(kCsvGroup);
  }
  CsvMapping Get() const {
    CsvMapping m = mapping;
    m.header = !no_header;
    return m;
  }
};

int64_t MinutesToMs(int64_t minutes) {
  return minutes * 60 * 1000;
}

}  // namespace

int main(int argc, char** argv) {
  std::string command_line = "intentstream-train";
  for (int i = 1; i < argc; ++i) command_line += std::string(" ") + argv[i];
  // `train` is the default command: `intentstream-train --train ...` trains.
  std::vector<std::string> args;
  for (int i = argc - 1; i >= 1; --i) args.emplace_back(argv[i]);  // CLI11 wants them reversed
  if (argc > 1 && argv[1][0] == '-' && std::string(argv[1]) != "-h" &&
      std::string(argv[1]) != "--help") {
    args.emplace_back("train");
  }

  CLI::App app{"training, evaluation and export of the session encoder", "intentstream-train"};
  app.require_subcommand(1);

  intentstream::model::TrainOptions t;
  CsvFlags train_csv;
  int64_t train_gap_min = 30;
  bool no_progress = false, no_length_buckets = false, next_across_sessions = false;
  std::string category_head = t.encoder.tied_category_head ? "tied" : "linear";
  std::string window_cut =
      t.window_cut == intentstream::model::WindowCut::kRandomOffset ? "random" : "fixed";
  auto* train = app.add_subcommand("train", "train a model and write its artifact and card");
  train->add_option("--train", t.train_paths, kPathsHelp)->required()->delimiter(',');
  train
      ->add_option("--valid", t.valid_paths,
                   "validation data for early stopping [10% of training visitors]")
      ->delimiter(',');
  train
      ->add_option("--eval", t.eval_paths,
                   "held-out data for the evaluation [another 10% of training visitors]")
      ->delimiter(',');
  train->add_option("--out", t.out_dir, "artifact directory to write")->required();
  train->add_option("--name", t.name, "model version prefix")->capture_default_str();
  train->add_option("--path-rules", t.path_rules_file,
                    "category rules, \"prefix category\" per line [none]");
  auto* arch = "model (the defaults are what serving is measured with)";
  train->add_option("--d-model", t.encoder.d_model)->capture_default_str()->group(arch);
  train->add_option("--layers", t.encoder.layers)->capture_default_str()->group(arch);
  train->add_option("--heads", t.encoder.heads)->capture_default_str()->group(arch);
  train->add_option("--ffn", t.encoder.ffn)->capture_default_str()->group(arch);
  train->add_option("--window", t.encoder.window)->capture_default_str()->group(arch);
  train->add_option("--window-stride", t.encoder.window_stride)->capture_default_str()->group(arch);
  train
      ->add_option("--category-head", category_head,
                   "next-category head: tied to the category embeddings, or linear")
      ->check(CLI::IsMember({"tied", "linear"}))
      ->capture_default_str()
      ->group(arch);
  train->add_option("--category-depth", t.tokenizer.category_depth)
      ->capture_default_str()
      ->group(arch);
  train->add_option("--category-hash-buckets", t.tokenizer.category_hash_buckets)
      ->capture_default_str()
      ->group(arch);
  train->add_option("--query-buckets", t.tokenizer.query_buckets)
      ->capture_default_str()
      ->group(arch);
  train->add_option("--min-count", t.min_count, "vocabulary frequency cut-off")
      ->capture_default_str()
      ->group(arch);
  train->add_option("--max-vocab", t.max_vocab)->capture_default_str()->group(arch);
  auto* opt = "training";
  train->add_option("--epochs", t.epochs, "at most")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str()
      ->group(opt);
  train
      ->add_option("--patience", t.patience,
                   "stop after this many epochs without a better validation MRR; 0 = never")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str()
      ->group(opt);
  train->add_option("--max-steps", t.max_steps, "0 = no cap")->capture_default_str()->group(opt);
  train->add_option("--batch", t.batch_size)
      ->check(CLI::Range(1, 65536))
      ->capture_default_str()
      ->group(opt);
  train->add_option("--lr", t.learning_rate, "peak learning rate")
      ->check(CLI::PositiveNumber)
      ->capture_default_str()
      ->group(opt);
  train->add_option("--warmup", t.warmup_fraction, "fraction of the steps spent warming up")
      ->check(CLI::Range(0.0, 0.9))
      ->capture_default_str()
      ->group(opt);
  train
      ->add_option("--final-lr", t.final_lr_fraction,
                   "learning rate at the last step, as a fraction of the peak")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str()
      ->group(opt);
  train->add_option("--weight-decay", t.weight_decay)
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str()
      ->group(opt);
  train->add_option("--dropout", t.dropout, "embeddings and residual branches, training only")
      ->check(CLI::Range(0.0, 0.9))
      ->capture_default_str()
      ->group(opt);
  train->add_option("--mask-prob", t.mask_probability)
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str()
      ->group(opt);
  train->add_option("--category-weight", t.next_category_weight, "weight of the next-category loss")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str()
      ->group(opt);
  train
      ->add_option("--window-cut", window_cut,
                   "training windows back from each visitor's last event (fixed) or from a "
                   "random offset each epoch (random)")
      ->check(CLI::IsMember({"fixed", "random"}))
      ->capture_default_str()
      ->group(opt);
  train
      ->add_flag("--next-across-sessions", next_across_sessions,
                 "next-event targets across session boundaries too (default: within a "
                 "session, the evaluation's task)")
      ->group(opt);
  train
      ->add_flag("--no-length-buckets", no_length_buckets,
                 "batch windows in random order, not by length")
      ->group(opt);
  train->add_option("--seed", t.seed)->capture_default_str()->group(opt);
  train->add_option("--threads", t.threads)
      ->check(CLI::Range(1, 256))
      ->capture_default_str()
      ->group(opt);
  train
      ->add_option("--speed-probe-steps", t.speed_probe_steps,
                   "time this many steps on 1 and 2 threads first, for the model card")
      ->check(CLI::NonNegativeNumber)
      ->group(opt);
  train->add_flag("--no-progress", no_progress, "no progress bar")->group(opt);
  auto* ev = "evaluation";
  train->add_option("--session-gap-min", train_gap_min, "inactivity that ends a session")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str()
      ->group(ev);
  train->add_option("--max-eval-cases", t.max_eval_cases, "per protocol; 0 = all")
      ->capture_default_str()
      ->group(ev);
  train->add_option("--max-valid-cases", t.max_valid_cases, "0 = all")
      ->capture_default_str()
      ->group(ev);
  train->add_option("--top-k", t.top_k)
      ->check(CLI::Range(1, 1000))
      ->capture_default_str()
      ->group(ev);
  train_csv.Add(train);

  intentstream::model::EvaluateOptions e;
  CsvFlags eval_csv;
  int64_t eval_gap_min = 30;
  auto* evaluate = app.add_subcommand(
      "evaluate", "next-item figures of a saved model, or of the baselines alone, on any data");
  evaluate->add_option("--model", e.model_dir, "artifact directory [none: baselines only]");
  evaluate
      ->add_option("--train", e.train_paths, std::string("baselines' training data: ") + kPathsHelp)
      ->required()
      ->delimiter(',');
  evaluate->add_option("--eval", e.eval_paths, "held-out data")->required()->delimiter(',');
  evaluate->add_option("--path-rules", e.path_rules_file, "without --model: category rules");
  evaluate->add_option("--category-depth", e.tokenizer.category_depth, "without --model")
      ->capture_default_str();
  evaluate
      ->add_option("--category-hash-buckets", e.tokenizer.category_hash_buckets, "without --model")
      ->capture_default_str();
  evaluate->add_option("--min-count", e.min_count, "without --model: vocabulary cut-off")
      ->capture_default_str();
  evaluate->add_option("--session-gap-min", eval_gap_min, "inactivity that ends a session")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  evaluate->add_option("--max-eval-cases", e.max_eval_cases, "per protocol; 0 = all")
      ->capture_default_str();
  evaluate->add_option("--top-k", e.top_k)->check(CLI::Range(1, 1000))->capture_default_str();
  evaluate->add_option("--seed", e.seed)->capture_default_str();
  evaluate->add_option("--threads", e.threads)->check(CLI::Range(1, 256))->capture_default_str();
  eval_csv.Add(evaluate);

  try {
    app.parse(args);
  } catch (const CLI::ParseError& err) {
    return app.exit(err);
  }
  try {
    if (train->parsed()) {
      t.csv = train_csv.Get();
      t.session_gap_ms = MinutesToMs(train_gap_min);
      t.encoder.tied_category_head = category_head == "tied";
      t.window_cut = window_cut == "random" ? intentstream::model::WindowCut::kRandomOffset
                                            : intentstream::model::WindowCut::kFixed;
      t.length_buckets = !no_length_buckets;
      t.next_within_session = !next_across_sessions;
      t.progress = !no_progress;
      t.command_line = command_line;
      const auto r = intentstream::model::TrainAndExport(t);
      std::printf("model %s written to %s (best epoch %d of %zu)\n\n%s\nThe encoder is %s.\n",
                  r.model_version.c_str(), t.out_dir.c_str(), r.best_epoch, r.epochs.size(),
                  r.table.c_str(), r.verdict.c_str());
      return 0;
    }
    e.csv = eval_csv.Get();
    e.session_gap_ms = MinutesToMs(eval_gap_min);
    const auto r = intentstream::model::EvaluateSaved(e);
    std::printf("%s", intentstream::model::FormatMetricsTable(r.metrics).c_str());
    if (!e.model_dir.empty()) {
      const std::vector<intentstream::model::MethodMetrics> baselines(r.metrics.begin(),
                                                                      r.metrics.end() - 1);
      std::printf("\nThe encoder is %s.\n",
                  intentstream::model::CompareWithBest(r.metrics.back(), baselines).c_str());
    }
    return 0;
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "intentstream-train: %s\n", ex.what());
    return 1;
  }
}
