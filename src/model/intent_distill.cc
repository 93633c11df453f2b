#include "model/intent_distill.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
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
    << o.max_events
    << " events; and the window at each LOGIN in a labelled session "
       "(the linked pre-login web history and the LOGIN), labelled as its session is, "
    << (o.login_windows ? "in training, calibration and thresholds"
                        : "left out of training, calibration and thresholds (reported only)")
    << ":\n\n"
    << "| period | sessions | labelled | LOGIN windows |\n|---|---:|---:|---:|\n";
  const char* names[] = {"train", "validation", "test"};
  for (size_t s = 0; s < 3; ++s) {
    c << "| " << names[s] << " | " << r.splits[s].sessions << " | " << r.splits[s].labelled << " | "
      << r.splits[s].logins << " |\n";
  }
  c << "\n- label sources:";
  for (const auto& [source, n] : sources) c << " " << source << " " << n << ";";
  c << "\n\n## Training\n\n"
    << "- binary cross-entropy per intent, AdamW, " << o.train.epochs << " epochs, batch "
    << o.train.batch_size << ", learning rate " << o.train.learning_rate
    << " (cosine decay), weight decay " << o.train.weight_decay
    << ", positives weighted by (negatives / positives) ^ " << o.train.positive_weight_power
    << " (at most 50), soft-label weight " << o.train.soft_label_weight << ", seed " << o.train.seed
    << ", " << Fixed(r.train.seconds, 1) << " s (embeddings: " << Fixed(r.embed_seconds, 1)
    << " s)\n- mean loss per epoch:";
  for (double l : r.train.epoch_loss) c << " " << Fixed(l);
  c << "\n\n## Calibration and agreement with the teacher\n\n"
    << "Expected calibration error (10 bins) of P(the teacher labels the intent), on the "
       "validation period before and after calibration and on the held-out test period's "
       "session ends. Decision thresholds, on validation: each intent's best F1 against the "
       "teacher, then "
    << (o.train.tune_top_label ? "tuned together for the macro-F1 of the top label (from "
                               : "not tuned together (top-label macro-F1 ")
    << Fixed(r.train.top_macro_f1_per_intent) << " to " << Fixed(r.train.top_macro_f1_tuned)
    << ").\n\n"
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
    << Fixed(t.macro_f1_vs_teacher) << "; at the " << t.logins << " LOGINs, top label equal in "
    << Fixed(t.logins
                 ? 100.0 * static_cast<double>(t.agree_top_login) / static_cast<double>(t.logins)
                 : 0,
             1)
    << "%, macro-F1 " << Fixed(t.macro_f1_vs_teacher_login) << ".\n\n"
    << "## Evaluation against the latent intents\n\n"
    << "`intentstream-evaluate --data WORLD --model trivial --encoder " << o.encoder_dir
    << " --intent-head " << o.out_dir << "`; figures in docs/intents.md.\n";
  return c.str();
}

// The rule teacher's soft labels: each intent's score over its label threshold through a
// sigmoid (0.5 at the threshold); the default label stays as the teacher gave it.
std::vector<float> SoftLabels(const catalog::Catalog& catalog, const std::vector<float>& scores,
                              const std::vector<uint8_t>& hard) {
  constexpr double kTemperature = 0.1;
  std::vector<float> soft(scores.size());
  for (size_t j = 0; j < scores.size(); ++j) {
    if (static_cast<int>(j) == catalog.default_intent()) {
      soft[j] = hard[j];
      continue;
    }
    const double margin = scores[j] - catalog.intents()[j].label_threshold;
    soft[j] = static_cast<float>(1.0 / (1.0 + std::exp(-margin / kTemperature)));
  }
  return soft;
}

bool IsLogin(const v1::SessionEvent& e) {
  return e.source() == v1::SOURCE_APP && e.event_type() == v1::APP_ACTION_LOGIN;
}

}  // namespace

DistillExamples CollectDistillExamples(const DistillOptions& o) {
  DistillExamples out;
  DistillReport& report = out.report;
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

  // Replay every customer through the serving encoder; one example per session end and
  // one per LOGIN, the LOGIN's labelled as its session is (known at the session's end).
  auto& examples = out.examples;
  const auto started = Clock::now();
  IncrementalEncoder encoder(model, IncrementalEncoderOptions{16});
  eval::VisibleOptions visible;
  visible.max_events = o.max_events;
  std::vector<eval::Timelines::Step> steps;
  std::vector<const v1::SessionEvent*> window;
  struct PendingLogin {
    std::vector<float> embedding;
    int split = 0;
  };
  std::vector<PendingLogin> logins;  // of the current session
  const auto encode = [&](const std::string& customer, v1::VisitorState* state) {
    op::VisitorUpdate u;
    u.visitor_id = customer;
    u.customer_id = customer;
    u.state = state;
    encoder.Encode(std::span<op::VisitorUpdate>(&u, 1));
    return DecodeEmbedding(state->embedding());
  };
  size_t done = 0;
  const size_t customers = timelines.customers().size();
  for (const std::string& customer : timelines.customers()) {
    timelines.Steps(customer, INT64_MIN, INT64_MAX, visible, &steps);
    v1::VisitorState state;
    eval::Timelines::Span span;
    bool login_pending = false;
    for (size_t i = 0; i < steps.size(); ++i) {
      const auto& step = steps[i];
      if (i == 0 || step.arrival_ms - steps[i - 1].arrival_ms > o.session_gap_ms) {
        span = {step.arrival_ms, step.arrival_ms, step.event->event_key(), 0};
        logins.clear();
      }
      span.end_ms = step.arrival_ms;
      ++span.events;
      Insert(&state, *step.event, o.max_events);
      const bool last =
          i + 1 == steps.size() || steps[i + 1].arrival_ms - step.arrival_ms > o.session_gap_ms;
      // At a LOGIN: the window once every event that arrives at its time is in (as the
      // evaluation's Visible counts them), what the LOGIN's decision reads.
      login_pending = login_pending || IsLogin(*step.event);
      if (login_pending && (last || steps[i + 1].arrival_ms != step.arrival_ms)) {
        const int split = data.SplitOf(step.arrival_ms);
        // At the session's end the end's embedding serves (filled in below).
        logins.push_back({last ? std::vector<float>{} : encode(customer, &state), split});
        login_pending = false;
      }
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
      const auto embedding = encode(customer, &state);
      const int split = data.SplitOf(span.end_ms);
      auto& counts = report.splits[static_cast<size_t>(split)];
      ++counts.sessions;
      const std::string id = eval::Timelines::SessionId(customer, span);
      teach::TeacherLabel label;
      std::vector<float> scores;
      if (o.labels_path.empty()) {
        teach::Session s{id, customer, span.start_ms, span.end_ms, window};
        label = rules.LabelWithScores(s, &scores);
      } else {
        const auto it = file_labels.find(id);
        if (it == file_labels.end()) continue;  // counted: sessions - labelled
        label = it->second.label;
      }
      if (label.intents.empty()) continue;
      if (embedding.size() != static_cast<size_t>(model->embedding_dim())) continue;
      ++counts.labelled;
      ++out.sources[label.source];
      HeadExample ex;
      ex.embedding = embedding;
      ex.targets.assign(k, 0);
      for (int j : label.intents) ex.targets[static_cast<size_t>(j)] = 1;
      ex.top = label.top;
      if (!scores.empty()) ex.soft = SoftLabels(*catalog, scores, ex.targets);
      for (auto& login : logins) {
        HeadExample at = ex;
        at.at_login = true;
        if (!login.embedding.empty()) at.embedding = std::move(login.embedding);
        ++report.splits[static_cast<size_t>(login.split)].logins;
        examples[static_cast<size_t>(login.split)].push_back(std::move(at));
      }
      examples[static_cast<size_t>(split)].push_back(std::move(ex));
    }
    encoder.Forget(customer);
    if (o.progress && (++done % 500 == 0 || done == customers)) {
      std::fprintf(stderr, "\rembedding sessions: %zu / %zu customers", done, customers);
      if (done == customers) std::fputc('\n', stderr);
    }
  }
  report.embed_seconds = std::chrono::duration<double>(Clock::now() - started).count();

  IntentHeadConfig& config = out.config;
  config.encoder_version = model->version();
  config.taxonomy_version = catalog->taxonomy_version();
  config.teacher = report.teacher;
  config.embedding_dim = model->embedding_dim();
  config.intents = report.intents;
  if (catalog->default_intent() >= 0) {
    config.default_intent = catalog->intents()[static_cast<size_t>(catalog->default_intent())].id;
  }
  return out;
}

DistillReport TrainDistilledHead(const DistillOptions& o, const DistillExamples& data,
                                 std::shared_ptr<IntentHead>* trained) {
  DistillReport report = data.report;
  const size_t k = data.config.intents.size();
  // Train and validation: session ends, and the LOGINs unless they are left out.
  std::array<std::vector<HeadExample>, 2> fit;
  for (size_t s = 0; s < 2; ++s) {
    for (const auto& e : data.examples[s]) {
      if (o.login_windows || !e.at_login) fit[s].push_back(e);
    }
  }
  if (fit[0].empty()) throw std::runtime_error("no labelled sessions in the train period");
  report.train_positives.assign(k, 0);
  for (const auto& e : fit[0]) {
    for (size_t j = 0; j < k; ++j) report.train_positives[j] += e.targets[j];
  }
  auto head = TrainIntentHead(data.config, fit[0], fit[1], o.train, &report.train);
  report.ece_raw = report.train.ece_raw;
  report.ece_calibrated = report.train.ece_calibrated;
  std::vector<HeadExample> test_ends;
  for (const auto& e : data.examples[2]) {
    if (!e.at_login) test_ends.push_back(e);
  }
  report.ece_test = ExpectedCalibrationError(*head, test_ends, true);
  // Agreement with the teacher on the test period, at session ends and at LOGINs.
  std::array<std::vector<int>, 2> teacher_top, head_top;
  std::vector<float> p(k);
  auto& test = report.splits[2];
  for (const auto& e : data.examples[2]) {
    head->Score(e.embedding, 1, p);
    const auto labels = head->Labels(p);
    const int top = labels.empty() ? -1 : labels.front();
    teacher_top[e.at_login].push_back(e.top);
    head_top[e.at_login].push_back(top);
    (e.at_login ? test.agree_top_login : test.agree_top) += top == e.top;
  }
  test.macro_f1_vs_teacher = TopLabelMacroF1(teacher_top[0], head_top[0], k);
  test.macro_f1_vs_teacher_login = TopLabelMacroF1(teacher_top[1], head_top[1], k);
  report.head_version = head->version();
  if (!o.out_dir.empty()) {
    head->Save(o.out_dir);
    report.head_version = head->version();
    report.card = Card(o, report, *head, data.sources);
    std::ofstream card(o.out_dir + "/model_card.md", std::ios::trunc);
    card << report.card;
    if (!card) throw std::runtime_error(o.out_dir + "/model_card.md: cannot write");
  }
  if (trained != nullptr) *trained = std::move(head);
  return report;
}

DistillReport DistillIntentHead(const DistillOptions& o) {
  return TrainDistilledHead(o, CollectDistillExamples(o));
}

}  // namespace intentstream::model
