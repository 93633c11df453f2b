// The intent section of the evaluation: how well intent labellers (the rule teacher, the
// distilled head, any other) find the latent intents of the generator's test period.
//
// - Per intent and macro precision / recall / F1 against the latent intent of each
//   test-period app session (one per LOGIN). A session is labelled as a teacher labels
//   it: from the state window as of the session's last event (timelines.h); the same
//   figures at the LOGIN itself (what a homepage decision sees) are reported too.
// - Agreement of each labeller's top label with the first labeller's (the teacher).
// - Lead time: for each conversion that ended an intent episode in the test period, the
//   days between the first session end (within the episode) at which the labeller's
//   labels include the converting intent and the conversion; with the linked pre-login
//   web history, and with the customer's app events only. Medians over the detected
//   conversions, and over all (an undetected one counts as 0 days).
// - Latency: each labeller's wall time per labelled window, measured here.
//
// Labellers plug in through WindowLabeller, so this library stays torch-free: the
// evaluation tool adapts the intent head (tools/evaluate).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "eval/dataset.h"
#include "eval/timelines.h"

namespace intentstream::eval {

using Window = std::span<const v1::SessionEvent* const>;

class WindowLabeller {
 public:
  virtual ~WindowLabeller() = default;
  virtual std::string name() const = 0;
  // Labels (catalogue intent indexes, strongest first) of each window as of its time.
  virtual void Label(std::span<const Window> windows, std::span<const int64_t> as_of_ms,
                     std::vector<std::vector<int>>* labels) = 0;
  // Anything the labeller measured about itself (printed under the table), or "".
  virtual std::string Note() const { return ""; }
};

// The rule teacher (decide/intent_rules.h through teach::RuleTeacher's code path).
std::unique_ptr<WindowLabeller> MakeRuleLabeller(std::shared_ptr<const catalog::Catalog> catalog);

struct ClassMetrics {
  std::string intent;
  size_t support = 0;  // test sessions with this latent intent
  double precision = 0, recall = 0, f1 = 0;
};

struct LabellerMetrics {
  std::string name;
  size_t sessions = 0;
  std::vector<ClassMetrics> per_intent;  // the world's intents
  double macro_precision = 0, macro_recall = 0, macro_f1 = 0;
  double macro_f1_at_login = 0;
  double agreement = 1;          // top label == the first labeller's, at session end
  double micros_per_window = 0;  // measured wall time of Label()
  std::string note;              // WindowLabeller::Note()
  // Top label at each test LOGIN (decision time), in `examples`' test order.
  std::vector<sim::Intent> login_top;
};

struct LeadTimeRow {
  std::string labeller;
  bool with_web = true;
  size_t conversions = 0;
  size_t detected = 0;
  double median_days_detected = 0;
  double median_days_all = 0;  // undetected count as 0
};

struct IntentReport {
  std::vector<LabellerMetrics> labellers;
  std::vector<LeadTimeRow> lead_time;
  size_t test_sessions = 0;
};

struct IntentReportOptions {
  VisibleOptions visible;  // the state's window
  int64_t session_gap_ms = kSessionGapMs;
};

// `examples` as BuildExamples made them (test split used); `data` with its truth.
IntentReport RunIntentReport(const Dataset& data, const std::vector<Example>& examples,
                             const catalog::Catalog& catalog,
                             std::span<WindowLabeller* const> labellers,
                             const IntentReportOptions& options);

std::string FormatIntentReport(const IntentReport& report);          // fixed-width text
std::string FormatIntentReportMarkdown(const IntentReport& report);  // for results/intents.md

}  // namespace intentstream::eval
