// The teachers' output, one CSV row per session (header first), which the intent head's
// training reads (src/model/intent_distill.h), whatever teacher wrote it:
//
//   session_id,visitor_id,end_ms,source,top,intents
//   C000000042/9f3c...,C000000042,1769731200000,llm,home_buying,home_buying;refinancing
//
// `intents` are taxonomy ids, ';'-separated, strongest first; `source` is the
// TeacherLabel source (rules, llm, llm-cache, rules-fallback).
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "catalog/catalog.h"
#include "teach/teacher.h"

namespace intentstream::teach {

struct LabelRow {
  std::string session_id;
  std::string visitor_id;
  int64_t end_ms = 0;
  TeacherLabel label;
};

// Returns "" on success, else a readable error.
std::string WriteLabels(const std::string& path, const std::vector<LabelRow>& rows,
                        const catalog::Catalog& catalog);
// Reads a labels file against the taxonomy. Returns "" on success, else an error naming
// the file and line (an unknown intent id, a bad number, a missing column).
std::string ReadLabels(const std::string& path, const catalog::Catalog& catalog,
                       std::unordered_map<std::string, LabelRow>* out);

}  // namespace intentstream::teach
