// intentstream-evaluate: scores a model's test-period predictions on a generated
// world against the truth, next to baselines fitted in the same run.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "catalog/catalog.h"
#include "eval/evaluation.h"
#include "intent_head_labeller.h"
#include "model/blas_probe.h"
#include "sim/flags.h"

namespace {
constexpr char kUsage[] =
    R"(usage: intentstream-evaluate --data DIR (--predictions FILE | --model trivial) [flags]

  --data DIR                    output of intentstream-journeygen --out
  --predictions FILE            CSV: example_id,intent,p_convert,<one column per tile id>
  --model trivial               evaluate the built-in trivial model instead
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
  --help
)";
}  // namespace

int main(int argc, char** argv) {
  using namespace intentstream;
  sim::Flags flags(argc, argv,
                   {"--data", "--predictions", "--model", "--name", "--out",
                    "--write-trivial-predictions", "--threshold", "--horizon-days", "--window-days",
                    "--epochs", "--intents", "--intent-head", "--encoder", "--help"},
                   {"--help", "--intents"});
  if (flags.Bool("--help")) {
    std::cout << kUsage;
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
  if (!flags.error().empty()) {
    std::cerr << "error: " << flags.error() << "\n";
    return 2;
  }
  if (options.data_dir.empty()) {
    std::cerr << "error: --data is required (see --help)\n";
    return 2;
  }
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
  std::printf("%s", eval::FormatTable(result.rows).c_str());
  if (result.has_intents) std::printf("\n%s", eval::FormatIntentReport(result.intents).c_str());
  if (!options.out_dir.empty()) {
    std::printf("wrote %s/results.csv and results.md\n%s\n", options.out_dir.c_str(),
                result.plot_note.c_str());
  }
  return 0;
}
