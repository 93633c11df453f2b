// intentstream-distill: trains the intent head on a teacher's session labels over a
// generated world (src/model/intent_distill.h). Thin: flags -> DistillOptions.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string>

#include "model/blas_probe.h"
#include "model/intent_distill.h"

int main(int argc, char** argv) {
  intentstream::model::DistillOptions o;
  CLI::App app{
      "intentstream-distill: the intent head, distilled from a teacher's session labels "
      "(docs/intents.md)"};
  app.add_option("--data", o.data_dir, "Generated world (intentstream-journeygen --out)")
      ->required();
  app.add_option("--encoder", o.encoder_dir, "Session encoder artifact (e.g. models/default)")
      ->required();
  app.add_option("--labels", o.labels_path,
                 "Teacher labels (intentstream-teach label --out); default: the rule teacher");
  app.add_option("--out", o.out_dir, "Head artifact directory to write")->required();
  app.add_option("--hidden", o.train.hidden, "Hidden units")->capture_default_str();
  app.add_option("--epochs", o.train.epochs, "Training epochs")->capture_default_str();
  app.add_option("--batch", o.train.batch_size, "Batch size")->capture_default_str();
  app.add_option("--lr", o.train.learning_rate, "Learning rate")->capture_default_str();
  app.add_option("--weight-decay", o.train.weight_decay, "AdamW weight decay")
      ->capture_default_str();
  app.add_option("--seed", o.train.seed, "Seed")->capture_default_str();
  app.add_option("--max-events", o.max_events, "The state's window (session.max_events)")
      ->capture_default_str();
  app.add_option("--positive-weight-power", o.train.positive_weight_power,
                 "Loss weight of an intent's positives: (negatives/positives)^X (0: none)")
      ->capture_default_str();
  app.add_option("--soft-label-weight", o.train.soft_label_weight,
                 "Weight of the rule teacher's soft labels in the target (0: hard labels)")
      ->capture_default_str();
  bool no_login_windows = false;
  app.add_flag("--no-login-windows", no_login_windows,
               "Train on session ends only (the LOGIN windows are still reported)");
  bool no_top_tuning = false;
  app.add_flag("--no-top-label-tuning", no_top_tuning,
               "Per-intent thresholds only, not tuned together for the top label");
  bool quiet = false;
  app.add_flag("--quiet", quiet, "No progress on stderr");
  CLI11_PARSE(app, argc, argv);
  o.progress = !quiet;
  o.login_windows = !no_login_windows;
  o.train.tune_top_label = !no_top_tuning;
  o.command_line = "intentstream-distill";
  for (int i = 1; i < argc; ++i) o.command_line += std::string(" ") + argv[i];
  try {
    intentstream::model::SetComputeThreads(1);  // deterministic, and the build machine is shared
    const auto r = intentstream::model::DistillIntentHead(o);
    std::printf("intent head %s written to %s\n", r.head_version.c_str(), o.out_dir.c_str());
    const char* names[] = {"train", "validation", "test"};
    for (size_t s = 0; s < 3; ++s) {
      std::printf("  %-10s sessions %8zu  labelled %8zu\n", names[s], r.splits[s].sessions,
                  r.splits[s].labelled);
    }
    std::printf("  test: top label = teacher's in %.1f%%, macro-F1 vs teacher %.4f\n",
                r.splits[2].labelled ? 100.0 * static_cast<double>(r.splits[2].agree_top) /
                                           static_cast<double>(r.splits[2].labelled)
                                     : 0.0,
                r.splits[2].macro_f1_vs_teacher);
    std::printf("  test LOGINs %zu: top label = teacher's in %.1f%%, macro-F1 vs teacher %.4f\n",
                r.splits[2].logins,
                r.splits[2].logins ? 100.0 * static_cast<double>(r.splits[2].agree_top_login) /
                                         static_cast<double>(r.splits[2].logins)
                                   : 0.0,
                r.splits[2].macro_f1_vs_teacher_login);
    std::printf(
        "  validation top-label macro-F1 vs teacher: per-intent thresholds %.4f, tuned %.4f\n",
        r.train.top_macro_f1_per_intent, r.train.top_macro_f1_tuned);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "intentstream-distill: %s\n", e.what());
    return 1;
  }
}
