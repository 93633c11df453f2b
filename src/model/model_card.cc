#include "model/model_card.h"

#include <cstdio>
#include <fstream>
#include <iomanip>
#include <stdexcept>

namespace intentstream::model {

namespace {

const char* WindowCutName(WindowCut cut) {
  return cut == WindowCut::kFixed ? "fixed (back from the last event)"
                                  : "random offset per timeline and epoch";
}

std::string Fixed4(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4f", x);
  return buf;
}

void Inputs(std::ofstream& out, const std::vector<std::string>& paths, const char* otherwise) {
  out << "- inputs: ";
  for (const auto& p : paths) out << "`" << p << "` ";
  if (paths.empty()) out << otherwise;
  out << "\n";
}

}  // namespace

void WriteModelCard(const ModelCardInputs& card) {
  const TrainOptions& o = *card.options;
  const TrainResult& r = *card.result;
  const auto& c = card.model->config();
  const auto& tok = card.model->tokenizer();
  const std::string path = o.out_dir + "/model_card.md";
  std::ofstream out(path);
  out << "# Session encoder " << r.model_version << "\n\n"
      << "Self-supervised causal Transformer session encoder (docs/model.md). It turns a "
         "visitor's recent web and app events into a "
      << c.encoder.d_model << "-dimensional, L2-normalised session embedding.\n\n"
      << "## Reproduce\n\n```\n"
      << o.command_line << "\n```\n\n"
      << "## Architecture\n\n"
      << "| setting | value |\n|---|---|\n"
      << "| d_model | " << c.encoder.d_model << " |\n| layers | " << c.encoder.layers
      << " |\n| heads | " << c.encoder.heads << " |\n| ffn | " << c.encoder.ffn << " |\n| window | "
      << c.encoder.window << " |\n| window_stride | " << c.encoder.window_stride
      << " |\n| next-category head | "
      << (c.encoder.tied_category_head ? "tied to the category embeddings" : "linear")
      << " |\n| category vocabulary | " << tok.categories().size() << " (+"
      << c.tokenizer.category_hash_buckets << " hashed buckets) |\n"
      << "| product vocabulary | " << tok.products().size() << " |\n"
      << "| channel vocabulary | " << tok.channels().size() << " |\n"
      << "| query buckets | " << c.tokenizer.query_buckets << " |\n"
      << "| path rules | " << c.tokenizer.path_rules.size() << " |\n\n"
      << "## Training data\n\n";
  Inputs(out, o.train_paths, "");
  out << "- " << card.train->Describe()
      << "\n- training windows per epoch: " << card.windows_per_epoch
      << "\n- vocabulary cut-off: " << o.min_count
      << " occurrences\n- validation (early stopping): ";
  for (const auto& p : o.valid_paths) out << "`" << p << "` ";
  if (o.valid_paths.empty()) out << "10% of training visitors, held out";
  out << "; " << card.valid->Describe() << "; " << card.valid_cases << " next-item cases\n\n"
      << "## Training\n\n"
      << "- objectives: next category (weight " << o.next_category_weight
      << ") / product / event type; masked category / product / event type (p="
      << o.mask_probability << ")\n"
      << "- at most " << o.epochs << " epochs, early stopping patience "
      << (o.patience > 0 ? std::to_string(o.patience) : std::string("none")) << "; ran "
      << r.epochs.size() << " epochs, " << card.steps << " steps; saved epoch " << r.best_epoch
      << " (best validation MRR@" << o.top_k << ")\n"
      << "- batch " << o.batch_size << (o.length_buckets ? " (length-bucketed)" : "")
      << ", windows " << WindowCutName(o.window_cut) << ", AdamW learning rate " << o.learning_rate
      << " (warm-up " << o.warmup_fraction * 100 << "% of the steps, linear "
      << "decay to " << o.final_lr_fraction * 100 << "%), weight decay " << o.weight_decay
      << ", dropout " << o.dropout << ", seed " << o.seed << ", threads " << o.threads << "\n"
      << "- wall time " << std::fixed << std::setprecision(1) << card.seconds
      << " s (data loading, training and validation)\n";
  if (!card.speed_probe.empty()) {
    out << "- training speed measured in this run, side by side:";
    for (size_t i = 0; i < card.speed_probe.size(); ++i) {
      out << (i ? "," : "") << " " << card.speed_probe[i].first << " thread"
          << (card.speed_probe[i].first > 1 ? "s " : " ") << std::setprecision(0)
          << card.speed_probe[i].second << " windows/s";
    }
    if (card.speed_probe.size() == 2 && card.speed_probe[0].second > 0) {
      out << " (" << std::setprecision(2) << card.speed_probe[1].second / card.speed_probe[0].second
          << "x)";
    }
    out << "\n";
  }
  out << "\n| epoch | mean loss | validation MRR@" << o.top_k << " | windows/s |\n"
      << "|---:|---:|---:|---:|\n";
  for (size_t i = 0; i < r.epochs.size(); ++i) {
    const auto& e = r.epochs[i];
    out << "| " << i + 1 << (static_cast<int>(i + 1) == r.best_epoch ? " (saved)" : "") << " | "
        << std::setprecision(4) << e.loss << " | "
        << (e.valid_mrr < 0 ? std::string("-") : Fixed4(e.valid_mrr)) << " | "
        << std::setprecision(0) << e.windows_per_s << " |\n";
  }
  out << "\n## Evaluation: next item on held-out sessions\n\n"
      << "Items are page/screen categories. Two protocols: the last item of each held-out "
         "session, and every next item of each held-out session, each predicted from what "
         "came before it. The encoder sees the visitor's window before the target, as "
         "serving does; the baselines see the session's items before the target and are "
         "fitted on the training data in the same run: most-popular, item-to-item "
         "transitions, sequential rules (successors within 10 steps weighted 1/gap) and "
         "session kNN (cosine, 100 neighbours of the 500 most recent sessions sharing an "
         "item).\n\n";
  Inputs(out, o.eval_paths, "10% of training visitors, held out");
  out << "- " << card.eval->Describe() << "\n\n"
      << r.table << "\nThe encoder is " << r.verdict << ".\n\n"
      << "## Limits\n\n"
      << "- Trained on synthetic journeys unless stated otherwise above; figures on real "
         "traffic will differ.\n"
      << "- Protected attributes are not inputs (the SessionEvent carries none).\n";
  if (!out) throw std::runtime_error(path + ": cannot write");
}

}  // namespace intentstream::model
