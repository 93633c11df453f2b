// intentstream-evaluate: scores a model's test-period predictions on a generated
// world against the truth, next to baselines fitted in the same run, with a bias check
// by monitored group; audits the messages of a decisions log and checks its decisions
// for bias the same way.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include <map>

#include "catalog/catalog.h"
#include "common/config.h"
#include "decide/options.h"
#include "eval/closed_loop_report.h"
#include "eval/evaluation.h"
#include "intent_head_labeller.h"
#include "model/blas_probe.h"
#include "sim/flags.h"

namespace {
constexpr char kUsage[] =
    R"(usage: intentstream-evaluate --data DIR (--predictions FILE | --model trivial) [flags]
       intentstream-evaluate --decisions FILE [--data DIR] [flags]
       intentstream-evaluate --closed-loop DIR [--out DIR] [--logged DIR --logged-decisions F]

  --data DIR                    output of intentstream-journeygen --out
  --predictions FILE            CSV: example_id,intent,p_convert,<one column per tile id>
  --model trivial               evaluate the built-in trivial model instead
  --decisions FILE              a decisions log (intentstream run --decisions-out): audit
                                its messages (factual sentences cited, forbidden phrases,
                                risk warnings) and, with --data of the same world, check
                                its test-period homepage decisions for bias
  --catalog DIR                 the catalogue the decisions were made with (default:
                                the built-in one)
  --forbidden-phrases LIST      comma-separated phrases no message may contain (default:
                                decision.messages.forbidden_phrases' default)
  --forbidden-credit-phrases L  the same for credit products
  --bias-top-k N                tiles a model shows per decision point (default 3)
  --bias-min-points N           decision points a group needs for a show-rate ratio (30)
  --bias-min-impressions N      impressions a group needs for an acceptance ratio (20)
  --bias-min-shown N            shows an offer needs before its show rates are judged (20)
  --name NAME                   the model's name in the table (default: model / trivial)
  --out DIR                     write results.csv, results.md, calibration.{csv,dat,gp,png}
  --write-trivial-predictions F also write the trivial model's predictions file (format example)
  --threshold X                 p_convert at or above X predicts a conversion (default 0.5)
  --horizon-days N              conversion label horizon (default 7)
  --window-days N               history the baselines' features see (default 14)
  --epochs N                    SGD epochs of the logistic baselines (default 8)
  --intents                     add the intent section: the rule teacher against the latent
                                intents (per intent P/R/F1, lead time, latency; intents.md)
  --intent-head DIR             add the distilled intent head to it (needs --encoder)
  --encoder DIR                 the session encoder the head reads (e.g. models/default)
Closed loop (docs/closed-loop.md):
  --closed-loop DIR             a closed-loop world (intentstream-journeygen --closed-loop
                                --out DIR): per arm CTR, dismissal rate, conversions per
                                1,000 customers with 95% bootstrap intervals, the treated
                                arm's lift, cumulative conversions by day (--out: PNG)
  --bootstrap-samples N         bootstrap resamples (default 1000)
  --seed N                      seed of the bootstrap (default 1)
  --logged DIR                  off-policy check: an open-loop world of the same options
  --logged-decisions FILE       and the processor's decisions over it (--decisions-out):
                                IPS and SNIPS estimates of the processor's CTR
  --help
)";
}  // namespace

int main(int argc, char** argv) {
  using namespace intentstream;
  sim::Flags flags(argc, argv,
                   {"--data",
                    "--predictions",
                    "--model",
                    "--name",
                    "--out",
                    "--write-trivial-predictions",
                    "--threshold",
                    "--horizon-days",
                    "--window-days",
                    "--epochs",
                    "--decisions",
                    "--catalog",
                    "--forbidden-phrases",
                    "--forbidden-credit-phrases",
                    "--bias-top-k",
                    "--bias-min-points",
                    "--bias-min-impressions",
                    "--bias-min-shown",
                    "--intents",
                    "--intent-head",
                    "--encoder",
                    "--closed-loop",
                    "--bootstrap-samples",
                    "--seed",
                    "--logged",
                    "--logged-decisions",
                    "--help"},
                   {"--help", "--intents"});
  if (flags.Bool("--help")) {
    std::cout << kUsage;
    return 0;
  }
  if (flags.Has("--closed-loop")) {
    eval::ClosedLoopReportOptions loop;
    loop.data_dir = flags.String("--closed-loop", "");
    loop.out_dir = flags.String("--out", "");
    loop.bootstrap_samples = flags.Number<int>("--bootstrap-samples", loop.bootstrap_samples);
    loop.seed = flags.Number<uint64_t>("--seed", loop.seed);
    loop.logged_dir = flags.String("--logged", "");
    loop.logged_decisions = flags.String("--logged-decisions", "");
    if (!flags.error().empty()) {
      std::cerr << "error: " << flags.error() << "\n";
      return 2;
    }
    eval::ClosedLoopReport report;
    if (const std::string error = eval::BuildClosedLoopReport(loop, &report); !error.empty()) {
      std::cerr << "error: " << error << "\n";
      return 2;
    }
    std::cout << report.markdown;
    return 0;
  }
  eval::EvaluationOptions options;
  options.data_dir = flags.String("--data", "");
  options.predictions_path = flags.String("--predictions", "");
  const std::string model = flags.String("--model", "");
  options.out_dir = flags.String("--out", "");
  options.write_trivial_path = flags.String("--write-trivial-predictions", "");
  options.threshold = flags.Number<double>("--threshold", 0.5);
  const int horizon_days = flags.Number<int>("--horizon-days", 7);
  const int window_days = flags.Number<int>("--window-days", 14);
  options.train.epochs = flags.Number<int>("--epochs", 8);
  options.decisions_path = flags.String("--decisions", "");
  options.catalog_dir = flags.String("--catalog", "");
  try {
    std::map<std::string, std::string> phrases;
    if (flags.Has("--forbidden-phrases")) {
      phrases["decision.messages.forbidden_phrases"] = flags.String("--forbidden-phrases", "");
    }
    if (flags.Has("--forbidden-credit-phrases")) {
      phrases["decision.messages.forbidden_phrases.credit"] =
          flags.String("--forbidden-credit-phrases", "");
    }
    options.message_options = decide::LoadDecisionOptions(phrases);
  } catch (const ConfigError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  const int top_k = flags.Number<int>("--bias-top-k", 3);
  options.bias.min_points = flags.Number<size_t>("--bias-min-points", options.bias.min_points);
  options.bias.min_impressions =
      flags.Number<size_t>("--bias-min-impressions", options.bias.min_impressions);
  options.bias.min_shown = flags.Number<size_t>("--bias-min-shown", options.bias.min_shown);
  if (!flags.error().empty()) {
    std::cerr << "error: " << flags.error() << "\n";
    return 2;
  }
  if (options.data_dir.empty() && options.decisions_path.empty()) {
    std::cerr << "error: --data is required (see --help)\n";
    return 2;
  }
  if (top_k < 1 || top_k > 12) {
    std::cerr << "error: --bias-top-k must be 1..12 (got " << top_k << ")\n";
    return 2;
  }
  options.bias_top_k = static_cast<size_t>(top_k);
  if (!model.empty() && model != "trivial") {
    std::cerr << "error: --model: unknown model \"" << model << "\" (known: trivial)\n";
    return 2;
  }
  if (!model.empty() && !options.predictions_path.empty()) {
    std::cerr << "error: give either --predictions or --model, not both\n";
    return 2;
  }
  options.trivial = model == "trivial";
  options.model_name = flags.String("--name", options.trivial ? "trivial" : "model");
  if (horizon_days < 1) {
    std::cerr << "error: --horizon-days must be >= 1 (got " << horizon_days << ")\n";
    return 2;
  }
  if (window_days < 1) {
    std::cerr << "error: --window-days must be >= 1 (got " << window_days << ")\n";
    return 2;
  }
  if (options.train.epochs < 1) {
    std::cerr << "error: --epochs must be >= 1 (got " << options.train.epochs << ")\n";
    return 2;
  }
  options.examples.horizon_ms = horizon_days * eval::kDayMs;
  options.examples.window_ms = window_days * eval::kDayMs;
  options.intents = flags.Bool("--intents");
  const std::string head_dir = flags.String("--intent-head", "");
  const std::string encoder_dir = flags.String("--encoder", "");
  if (head_dir.empty() != encoder_dir.empty()) {
    std::cerr << "error: --intent-head and --encoder go together\n";
    return 2;
  }
  std::unique_ptr<eval::WindowLabeller> head;
  if (!head_dir.empty()) {
    try {
      model::SetComputeThreads(1);  // per-core figures, as the benchmarks measure
      head = evaluate::MakeIntentHeadLabeller(encoder_dir, head_dir, catalog::DefaultCatalog());
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << "\n";
      return 1;
    }
    options.extra_labellers.push_back(head.get());
    options.intents = true;
  }
  eval::EvaluationResult result;
  if (const std::string error = eval::RunEvaluation(options, &result); !error.empty()) {
    std::cerr << "error: " << error << "\n";
    return 1;
  }
  if (!result.rows.empty()) {
    std::printf("%s\n", eval::FormatTable(result.rows).c_str());
    std::printf("%s\n",
                eval::FormatBias(options.model_name + ", top " +
                                     std::to_string(options.bias_top_k) + " tiles, test period",
                                 result.model_bias, options.bias)
                    .c_str());
  }
  if (result.audited) {
    std::printf("%s", eval::FormatAudit(result.audit, options.decisions_path).c_str());
    if (result.decision_repeats > 0) {
      std::printf("  (%zu repeated decision ids dropped: the log is at-least-once)\n",
                  result.decision_repeats);
    }
    std::printf("\n");
  }
  if (!options.decisions_path.empty() && !options.data_dir.empty()) {
    std::printf("%s",
                eval::FormatBias("the decisions log's homepage decisions, test period (" +
                                     std::to_string(result.decisions_in_test) + " decisions, " +
                                     std::to_string(result.decisions_matched) +
                                     " at a logged LOGIN of the world)",
                                 result.decisions_bias, options.bias)
                    .c_str());
  }
  if (result.has_intents) std::printf("\n%s", eval::FormatIntentReport(result.intents).c_str());
  if (!options.out_dir.empty() && !result.rows.empty()) {
    std::printf("wrote %s/results.csv and results.md\n%s\n", options.out_dir.c_str(),
                result.plot_note.c_str());
  }
  return 0;
}
