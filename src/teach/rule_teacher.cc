#include "teach/teacher.h"

namespace intentstream::teach {

RuleTeacher::RuleTeacher(std::shared_ptr<const catalog::Catalog> catalog,
                         decide::RuleScorerOptions options)
    : catalog_(std::move(catalog)),
      scorer_(std::make_shared<decide::IntentMatcher>(catalog_), options) {}

TeacherLabel RuleTeacher::LabelWithScores(const Session& session,
                                          std::vector<float>* scores) const {
  std::vector<float> local;
  std::vector<float>& s = scores != nullptr ? *scores : local;
  s.assign(catalog_->intents().size(), 0.0f);
  scorer_.Score(session.events, session.end_ms, s);
  const decide::IntentLabels labels = scorer_.Label(s);
  TeacherLabel out;
  out.intents = labels.labels;
  out.top = labels.top;
  out.source = "rules";
  return out;
}

std::vector<TeacherLabel> LabelSessions(Teacher& teacher, std::span<const Session> sessions) {
  std::vector<TeacherLabel> out;
  out.reserve(sessions.size());
  for (const Session& s : sessions) out.push_back(teacher.Label(s));
  return out;
}

}  // namespace intentstream::teach
