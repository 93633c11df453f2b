#include "model/intent_distill.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "catalog/catalog.h"
#include "eval/dataset.h"
#include "eval/timelines.h"
#include "model/incremental_encoder.h"
#include "model/model.h"
#include "teach/labels_file.h"
#include "teach/teacher.h"

namespace intentstream::model {

namespace {

using Clock = std::chrono::steady_clock;

bool Before(const v1::SessionEvent& a, const v1::SessionEvent& b) {
  return a.time_ms() != b.time_ms() ? a.time_ms() < b.time_ms() : a.event_key() < b.event_key();
}

// The state's window insert (state/visitor_state.h's rule): at its place by (time, key),
// the oldest dropped beyond max_events.
void Insert(v1::VisitorState* st, const v1::SessionEvent& e, int max_events) {
  auto* events = st->mutable_events();
  int pos = events->size();
  while (pos > 0 && Before(e, events->Get(pos - 1))) --pos;
  if (pos > 0 && events->Get(pos - 1).event_key() == e.event_key()) return;
  *events->Add() = e;
  for (int i = events->size() - 1; i > pos; --i) events->SwapElements(i, i - 1);
  if (events->size() > max_events) events->DeleteSubrange(0, events->size() - max_events);
}

std::string Fixed(double v, int digits = 4) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// Macro-F1 of the head's top labels against the teacher's (single label per session).
double MacroF1(const std::vector<int>& truth, const std::vector<int>& pred, size_t k) {
  std::vector<double> tp(k), fp(k), fn(k);
  for (size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] < 0 || pred[i] < 0) continue;
    if (truth[i] == pred[i]) {
      ++tp[static_cast<size_t>(truth[i])];
    } else {
      ++fp[static_cast<size_t>(pred[i])];
      ++fn[static_cast<size_t>(truth[i])];
    }
  }
  double sum = 0;
  int n = 0;
  for (size_t j = 0; j < k; ++j) {
    if (tp[j] + fp[j] + fn[j] == 0) continue;
    sum += 2 * tp[j] / (2 * tp[j] + fp[j] + fn[j]);
    ++n;
  }
  return n > 0 ? sum / n : 0;
}

std::string Card(const DistillOptions& o, const DistillReport& r, const IntentHead& head,
                 const std::map<std::string, size_t>& sources) {
  std::ostringstream c;
  const auto& cfg = head.config();
  c << "# Intent head " << r.head_version << "\n\n"
    << "Multi-label intent probabilities from the session embedding of encoder `"
    << r.encoder_version << "`, distilled from the `" << r.teacher
    << "` teacher's session labels (docs/intents.md). Served by the processor through "
       "`op::IntentModel` on every embedding update (`model.intent_head_dir`).\n\n"
    << "## Reproduce\n\n```\n"
    << o.command_line << "\n```\n\n"
    << "(`tools/distill/train-intent-head.sh` runs the whole pipeline: world, labels, head, "
       "evaluation.)\n\n"
    << "## Network\n\n"
    << "| setting | value |\n|---|---|\n"
    << "| input | session embedding, " << cfg.embedding_dim << " floats (L2-normalised) |\n"
    << "| layers | Linear(" << cfg.embedding_dim << ", " << cfg.hidden << ") - GELU - Linear("
    << cfg.hidden << ", " << cfg.intents.size() << ") |\n"
    << "| parameters | " << head.parameter_count() << " |\n"
    << "| calibration | Platt scaling per intent on the validation period |\n"
    << "| encoder | " << cfg.encoder_version << " |\n"
    << "| taxonomy | " << cfg.taxonomy_version << " |\n\n"
    << "## Data\n\n"
    << "- world: `" << o.data_dir << "` (read without its truth)\n"
    << "- sessions (30-minute gap over the customer's events and linked web history), each "
       "labelled as of its last event from the state window of "
    << o.max_events << " events:\n\n"
    << "| period | sessions | labelled |\n|---|---:|---:|\n";
  const char* names[] = {"train", "validation", "test"};
  for (size_t s = 0; s < 3; ++s) {
    c << "| " << names[s] << " | " << r.splits[s].sessions << " | " << r.splits[s].labelled
      << " |\n";
  }
  c << "\n- label sources:";
  for (const auto& [source, n] : sources) c << " " << source << " " << n << ";";
  c << "\n\n## Training\n\n"
    << "- binary cross-entropy per intent, AdamW, " << o.train.epochs << " epochs, batch "
    << o.train.batch_size << ", learning rate " << o.train.learning_rate
    << " (cosine decay), weight decay " << o.train.weight_decay << ", seed " << o.train.seed << ", "
    << Fixed(r.train.seconds, 1) << " s (embeddings: " << Fixed(r.embed_seconds, 1)
    << " s)\n- mean loss per epoch:";
  for (double l : r.train.epoch_loss) c << " " << Fixed(l);
  c << "\n\n## Calibration and agreement with the teacher\n\n"
    << "Expected calibration error (10 bins) of P(the teacher labels the intent), on the "
       "validation period before and after calibration and on the held-out test period; the "
       "decision threshold maximises each intent's F1 against the teacher on validation.\n\n"
    << "| intent | train positives | ECE raw | ECE calibrated | ECE test | threshold |\n"
    << "|---|---:|---:|---:|---:|---:|\n";
  for (size_t j = 0; j < r.intents.size(); ++j) {
    c << "| " << r.intents[j] << " | " << r.train_positives[j] << " | " << Fixed(r.ece_raw[j])
      << " | " << Fixed(r.ece_calibrated[j]) << " | " << Fixed(r.ece_test[j]) << " | "
      << Fixed(cfg.threshold[j], 3) << " |\n";
  }
  const auto& t = r.splits[2];
  c << "\nTest period: the head's top label equals the teacher's in "
    << Fixed(t.labelled ? 100.0 * static_cast<double>(t.agree_top) / static_cast<double>(t.labelled)
                        : 0,
             1)
    << "% of " << t.labelled << " sessions; macro-F1 against the teacher's labels "
    << Fixed(t.macro_f1_vs_teacher) << ".\n\n"
    << "## Evaluation against the latent intents\n\n"
    << "`intentstream-evaluate --data WORLD --model trivial --encoder " << o.encoder_dir
    << " --intent-head " << o.out_dir << "` (the script appends its tables below).\n";
  return c.str();
}

}  // namespace

DistillReport DistillIntentHead(const DistillOptions& o) {
  DistillReport report;
  const auto catalog = catalog::DefaultCatalog();
  eval::Dataset data;
  if (const std::string error = data.Load(o.data_dir, {}, /*read_truth=*/false); !error.empty()) {
    throw std::runtime_error(error);
  }
  const eval::Timelines timelines(data);
  auto encoder_model = SessionModel::Load(o.encoder_dir);
  std::shared_ptr<const SessionModel> model = encoder_model;
  report.encoder_version = model->version();

  const teach::RuleTeacher rules(catalog);
  std::unordered_map<std::string, teach::LabelRow> file_labels;
  if (!o.labels_path.empty()) {
    if (const std::string error = teach::ReadLabels(o.labels_path, *catalog, &file_labels);
        !error.empty()) {
      throw std::runtime_error("--labels: " + error);
    }
    report.teacher = "labels file " + std::filesystem::path(o.labels_path).filename().string();
  } else {
    report.teacher = rules.name();
  }
  const size_t k = catalog->intents().size();
  for (const auto& in : catalog->intents()) report.intents.push_back(in.id);

  // Replay every customer through the serving encoder; one example per session end.
  std::array<std::vector<HeadExample>, 3> examples;
  std::array<std::vector<int>, 3> teacher_top;
  std::map<std::string, size_t> sources;
  const auto started = Clock::now();
  IncrementalEncoder encoder(model, IncrementalEncoderOptions{16});
  eval::VisibleOptions visible;
  visible.max_events = o.max_events;
  std::vector<eval::Timelines::Step> steps;
  std::vector<const v1::SessionEvent*> window;
  size_t done = 0;
  const size_t customers = timelines.customers().size();
  for (const std::string& customer : timelines.customers()) {
    timelines.Steps(customer, INT64_MIN, INT64_MAX, visible, &steps);
    v1::VisitorState state;
    eval::Timelines::Span span;
    for (size_t i = 0; i < steps.size(); ++i) {
      const auto& step = steps[i];
      if (i == 0 || step.arrival_ms - steps[i - 1].arrival_ms > o.session_gap_ms) {
        span = {step.arrival_ms, step.arrival_ms, step.event->event_key(), 0};
      }
      span.end_ms = step.arrival_ms;
      ++span.events;
      Insert(&state, *step.event, o.max_events);
      const bool last =
          i + 1 == steps.size() || steps[i + 1].arrival_ms - step.arrival_ms > o.session_gap_ms;
      if (!last) continue;
      // The session's end: what the state holds, which must be what the teacher reads.
      timelines.Visible(customer, span.end_ms, visible, &window);
      bool same = window.size() == static_cast<size_t>(state.events_size());
      for (size_t w = 0; same && w < window.size(); ++w) {
        same = window[w]->event_key() == state.events(static_cast<int>(w)).event_key();
      }
      if (!same) {
        throw std::logic_error("intent distillation: the replayed window of " + customer +
                               " differs from the timeline's at " + std::to_string(span.end_ms));
      }
      op::VisitorUpdate u;
      u.visitor_id = customer;
      u.customer_id = customer;
      u.state = &state;
      encoder.Encode(std::span<op::VisitorUpdate>(&u, 1));
      const int split = data.SplitOf(span.end_ms);
      auto& counts = report.splits[static_cast<size_t>(split)];
      ++counts.sessions;
      const std::string id = eval::Timelines::SessionId(customer, span);
      teach::TeacherLabel label;
      if (o.labels_path.empty()) {
        teach::Session s{id, customer, span.start_ms, span.end_ms, window};
        label = rules.LabelWithScores(s, nullptr);
      } else {
        const auto it = file_labels.find(id);
        if (it == file_labels.end()) continue;  // counted: sessions - labelled
        label = it->second.label;
      }
      if (label.intents.empty()) continue;
      ++counts.labelled;
      ++sources[label.source];
      HeadExample ex;
      ex.embedding = DecodeEmbedding(state.embedding());
      if (ex.embedding.size() != static_cast<size_t>(model->embedding_dim())) continue;
      ex.targets.assign(k, 0);
      for (int j : label.intents) ex.targets[static_cast<size_t>(j)] = 1;
      examples[static_cast<size_t>(split)].push_back(std::move(ex));
      teacher_top[static_cast<size_t>(split)].push_back(label.top);
    }
    encoder.Forget(customer);
    if (o.progress && (++done % 500 == 0 || done == customers)) {
      std::fprintf(stderr, "\rembedding sessions: %zu / %zu customers", done, customers);
      if (done == customers) std::fputc('\n', stderr);
    }
  }
  report.embed_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  if (examples[0].empty()) throw std::runtime_error("no labelled sessions in the train period");
  report.train_positives.assign(k, 0);
  for (const auto& e : examples[0]) {
    for (size_t j = 0; j < k; ++j) report.train_positives[j] += e.targets[j];
  }

  IntentHeadConfig config;
  config.encoder_version = model->version();
  config.taxonomy_version = catalog->taxonomy_version();
  config.teacher = report.teacher;
  config.embedding_dim = model->embedding_dim();
  config.intents = report.intents;
  if (catalog->default_intent() >= 0) {
    config.default_intent = catalog->intents()[static_cast<size_t>(catalog->default_intent())].id;
  }
  auto head = TrainIntentHead(config, examples[0], examples[1], o.train, &report.train);
  report.ece_raw = report.train.ece_raw;
  report.ece_calibrated = report.train.ece_calibrated;
  report.ece_test = ExpectedCalibrationError(*head, examples[2], true);
  // Agreement with the teacher on the test period.
  std::vector<int> head_top;
  std::vector<float> p(k);
  auto& test = report.splits[2];
  for (size_t i = 0; i < examples[2].size(); ++i) {
    head->Score(examples[2][i].embedding, 1, p);
    const auto labels = head->Labels(p);
    head_top.push_back(labels.empty() ? -1 : labels.front());
    if (head_top.back() == teacher_top[2][i]) ++test.agree_top;
  }
  test.macro_f1_vs_teacher = MacroF1(teacher_top[2], head_top, k);
  head->Save(o.out_dir);
  report.head_version = head->version();
  report.card = Card(o, report, *head, sources);
  std::ofstream card(o.out_dir + "/model_card.md", std::ios::trunc);
  card << report.card;
  if (!card) throw std::runtime_error(o.out_dir + "/model_card.md: cannot write");
  return report;
}

}  // namespace intentstream::model
