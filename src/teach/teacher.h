// Teachers: label sessions offline with intents of the taxonomy, for the distilled
// intent head (src/model/intent_head.h) and for the evaluation.
//
// - RuleTeacher (the default, runs anywhere): the taxonomy's rules, the SAME code as the
//   processor's online rule scorer (decide/intent_rules.h): scores per intent, then the
//   intents at or above their "label_threshold", or the taxonomy's default label.
// - LlmTeacher (llm_teacher.h): any OpenAI-compatible chat-completions endpoint, with a
//   logged, counted fallback to the rule teacher for a session whose answer is unusable.
//
// A session is what the visitor's state holds as of the session's last event: its own
// events and the history before them in the window (timelines.h builds them from a
// generated world). A teacher never sees the latent truth.
//
// Thread-safety: RuleTeacher is immutable (Label is const); LlmTeacher is not
// thread-safe (one per thread).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "decide/intent_rules.h"
#include "intentstream/v1/state.pb.h"

namespace intentstream::teach {

struct Session {
  std::string_view id;          // stable: "<visitor>/<hex key of its first event>"
  std::string_view visitor_id;  // the customer id
  int64_t start_ms = 0;         // first and last event (arrival) of the session
  int64_t end_ms = 0;
  // The state's window as of end_ms, ascending: earlier history, then the session.
  std::span<const v1::SessionEvent* const> events;
};

struct TeacherLabel {
  // Catalogue intent indexes, strongest first; the taxonomy's default label alone when
  // nothing else applies.
  std::vector<int> intents;
  int top = -1;  // intents[0], or -1 when empty
  // Who gave it: "rules", "llm", "llm-cache", or "rules-fallback" (the LLM's answer was
  // unusable; `detail` says why).
  std::string source;
  std::string detail;
};

class Teacher {
 public:
  virtual ~Teacher() = default;
  virtual std::string name() const = 0;
  // Always returns a label: a teacher never skips a session.
  virtual TeacherLabel Label(const Session& session) = 0;
};

class RuleTeacher final : public Teacher {
 public:
  explicit RuleTeacher(std::shared_ptr<const catalog::Catalog> catalog,
                       decide::RuleScorerOptions options = {});
  std::string name() const override { return decide::RuleIntentScorer::Version(); }
  TeacherLabel Label(const Session& session) override { return LabelWithScores(session, nullptr); }
  // The same, also giving the rule scores (catalogue order) when `scores` is not null.
  TeacherLabel LabelWithScores(const Session& session, std::vector<float>* scores) const;
  const decide::RuleIntentScorer& scorer() const { return scorer_; }
  const catalog::Catalog& catalog() const { return *catalog_; }

 private:
  std::shared_ptr<const catalog::Catalog> catalog_;
  decide::RuleIntentScorer scorer_;
};

// Labels every session: out[i] is the label of sessions[i] (one per session, always).
std::vector<TeacherLabel> LabelSessions(Teacher& teacher, std::span<const Session> sessions);

}  // namespace intentstream::teach
