// intentstream-train: self-supervised training, evaluation and export of the session
// encoder. Thin: parses flags into TrainOptions / EvaluateOptions and calls src/model.
//
//   intentstream-train train --train DIR|FILE.csv[,..] [--eval DIR|FILE.csv[,..]] --out DIR
//   intentstream-train evaluate --model DIR --train ... --eval ...
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/model_config.h"
#include "model/trainer.h"

namespace {

using intentstream::model::CsvMapping;

constexpr const char* kUsage = R"(usage:
  intentstream-train [train] --train PATHS --out DIR [options]
  intentstream-train evaluate --model DIR --train PATHS --eval PATHS [options]

PATHS is a comma-separated list of event directories (web-events.jsonl, app-events.jsonl,
identity-links.jsonl, as the journey generator writes each split) or .csv files.

training options (defaults in brackets):
  --eval PATHS            held-out data for the evaluation [10% of training visitors]
  --name NAME             model version prefix [session-encoder]
  --path-rules FILE       category rules, "prefix category" per line [none]
  --d-model N [64]  --layers N [2]  --heads N [4]  --ffn N [128]
  --window N [64]   --window-stride N [8]
  --category-depth N [2]  --category-hash-buckets N [256]  --query-buckets N [1024]
  --min-count N [3]       vocabulary frequency cut-off
  --max-vocab N [5000]
  --epochs N [3]  --max-steps N [0 = no cap]  --batch N [32]  --lr X [0.002]
  --mask-prob X [0.15]  --seed N [7]  --threads N [1]
  --session-gap-min N [30]  --max-eval-cases N [20000]  --top-k N [20]
  --no-progress
CSV column mapping (names or 0-based indexes):
  --csv-visitor COL [session_id]  --csv-time COL [timestamp]  --csv-item COL [item]
  --csv-type COL [none]  --csv-product COL [none]  --csv-delimiter C [,]
)";

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

class Flags {
 public:
  Flags(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--", 0) != 0) throw std::runtime_error("unexpected argument '" + a + "'");
      a = a.substr(2);
      const size_t eq = a.find('=');
      if (eq != std::string::npos) {
        values_[a.substr(0, eq)] = a.substr(eq + 1);
      } else if (a == "no-progress" || a == "help") {
        values_[a] = "1";
      } else if (i + 1 < argc) {
        values_[a] = argv[++i];
      } else {
        throw std::runtime_error("flag --" + a + " needs a value");
      }
    }
  }
  std::string Str(const std::string& k, const std::string& def) {
    used_[k] = true;
    const auto it = values_.find(k);
    return it == values_.end() ? def : it->second;
  }
  int64_t Int(const std::string& k, int64_t def) {
    const std::string v = Str(k, "");
    if (v.empty()) return def;
    try {
      return std::stoll(v);
    } catch (const std::exception&) {
      throw std::runtime_error("flag --" + k + ": not an integer: '" + v + "'");
    }
  }
  double Real(const std::string& k, double def) {
    const std::string v = Str(k, "");
    if (v.empty()) return def;
    try {
      return std::stod(v);
    } catch (const std::exception&) {
      throw std::runtime_error("flag --" + k + ": not a number: '" + v + "'");
    }
  }
  bool Has(const std::string& k) {
    used_[k] = true;
    return values_.count(k) != 0;
  }
  void CheckAllUsed() {
    for (const auto& [k, v] : values_) {
      if (!used_.count(k)) throw std::runtime_error("unknown flag --" + k);
    }
  }

 private:
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> used_;
};

CsvMapping ParseCsv(Flags& f) {
  CsvMapping m;
  m.visitor = f.Str("csv-visitor", m.visitor);
  m.time = f.Str("csv-time", m.time);
  m.item = f.Str("csv-item", m.item);
  m.type = f.Str("csv-type", m.type);
  m.product = f.Str("csv-product", m.product);
  const std::string d = f.Str("csv-delimiter", ",");
  m.delimiter = d == "\\t" || d == "tab" ? '\t' : d.empty() ? ',' : d[0];
  return m;
}

int Train(Flags& f, const std::string& command_line) {
  intentstream::model::TrainOptions o;
  o.train_paths = SplitList(f.Str("train", ""));
  o.eval_paths = SplitList(f.Str("eval", ""));
  o.out_dir = f.Str("out", "");
  o.name = f.Str("name", o.name);
  o.path_rules_file = f.Str("path-rules", "");
  o.encoder.d_model = static_cast<int>(f.Int("d-model", o.encoder.d_model));
  o.encoder.layers = static_cast<int>(f.Int("layers", o.encoder.layers));
  o.encoder.heads = static_cast<int>(f.Int("heads", o.encoder.heads));
  o.encoder.ffn = static_cast<int>(f.Int("ffn", o.encoder.ffn));
  o.encoder.window = static_cast<int>(f.Int("window", o.encoder.window));
  o.encoder.window_stride = static_cast<int>(f.Int("window-stride", o.encoder.window_stride));
  o.tokenizer.category_depth =
      static_cast<int>(f.Int("category-depth", o.tokenizer.category_depth));
  o.tokenizer.category_hash_buckets =
      static_cast<int>(f.Int("category-hash-buckets", o.tokenizer.category_hash_buckets));
  o.tokenizer.query_buckets = static_cast<int>(f.Int("query-buckets", o.tokenizer.query_buckets));
  o.min_count = f.Int("min-count", o.min_count);
  o.max_vocab = static_cast<size_t>(f.Int("max-vocab", static_cast<int64_t>(o.max_vocab)));
  o.epochs = static_cast<int>(f.Int("epochs", o.epochs));
  o.max_steps = f.Int("max-steps", o.max_steps);
  o.batch_size = static_cast<int>(f.Int("batch", o.batch_size));
  o.learning_rate = f.Real("lr", o.learning_rate);
  o.mask_probability = f.Real("mask-prob", o.mask_probability);
  o.seed = static_cast<uint64_t>(f.Int("seed", static_cast<int64_t>(o.seed)));
  o.threads = static_cast<int>(f.Int("threads", o.threads));
  o.session_gap_ms = f.Int("session-gap-min", 30) * 60 * 1000;
  o.max_eval_cases =
      static_cast<size_t>(f.Int("max-eval-cases", static_cast<int64_t>(o.max_eval_cases)));
  o.top_k = static_cast<int>(f.Int("top-k", o.top_k));
  o.progress = !f.Has("no-progress");
  o.csv = ParseCsv(f);
  o.command_line = command_line;
  f.CheckAllUsed();
  const auto r = intentstream::model::TrainAndExport(o);
  std::printf("model %s written to %s (loss %.4f -> %.4f)\n\n%s", r.model_version.c_str(),
              o.out_dir.c_str(), r.first_epoch_loss, r.last_epoch_loss, r.table.c_str());
  return 0;
}

int Evaluate(Flags& f) {
  intentstream::model::EvaluateOptions o;
  o.model_dir = f.Str("model", "");
  o.train_paths = SplitList(f.Str("train", ""));
  o.eval_paths = SplitList(f.Str("eval", ""));
  o.session_gap_ms = f.Int("session-gap-min", 30) * 60 * 1000;
  o.max_eval_cases =
      static_cast<size_t>(f.Int("max-eval-cases", static_cast<int64_t>(o.max_eval_cases)));
  o.top_k = static_cast<int>(f.Int("top-k", o.top_k));
  o.seed = static_cast<uint64_t>(f.Int("seed", static_cast<int64_t>(o.seed)));
  o.threads = static_cast<int>(f.Int("threads", o.threads));
  o.csv = ParseCsv(f);
  f.CheckAllUsed();
  if (o.model_dir.empty() || o.train_paths.empty() || o.eval_paths.empty()) {
    throw std::runtime_error("evaluate needs --model, --train and --eval");
  }
  std::printf(
      "%s", intentstream::model::FormatMetricsTable(intentstream::model::EvaluateSaved(o)).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string command_line = "intentstream-train";
  for (int i = 1; i < argc; ++i) command_line += std::string(" ") + argv[i];
  try {
    int first = 1;
    std::string command = "train";
    if (argc > 1 && argv[1][0] != '-') {
      command = argv[1];
      first = 2;
    }
    Flags flags(argc, argv, first);
    if (flags.Has("help")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (command == "train") return Train(flags, command_line);
    if (command == "evaluate") return Evaluate(flags);
    std::fprintf(stderr, "unknown command '%s'\n%s", command.c_str(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "intentstream-train: %s\n", e.what());
    return 1;
  }
}
