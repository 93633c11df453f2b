#include "teach/llm_teacher.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "common/hash.h"

namespace intentstream::teach {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string Hex64(uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Models often wrap JSON in a Markdown fence even when asked not to: look inside it.
std::string Unfenced(const std::string& s) {
  const size_t open = s.find("```");
  if (open == std::string::npos) return s;
  size_t start = s.find('\n', open);
  const size_t close = s.find("```", open + 3);
  if (start == std::string::npos || close == std::string::npos || close < start) return s;
  return s.substr(start + 1, close - start - 1);
}

Fallback FromChatError(llm::ChatError e) {
  switch (e) {
    case llm::ChatError::kTimeout:
      return Fallback::kTimeout;
    case llm::ChatError::kConnection:
      return Fallback::kConnection;
    case llm::ChatError::kHttpStatus:
      return Fallback::kHttpError;
    case llm::ChatError::kBadResponse:
    case llm::ChatError::kNone:
      return Fallback::kBadResponse;
  }
  return Fallback::kBadResponse;
}

}  // namespace

const char* FallbackName(Fallback f) {
  switch (f) {
    case Fallback::kNotJson:
      return "not_json";
    case Fallback::kBadShape:
      return "bad_shape";
    case Fallback::kUnknownIntent:
      return "unknown_intent";
    case Fallback::kTimeout:
      return "timeout";
    case Fallback::kHttpError:
      return "http_error";
    case Fallback::kConnection:
      return "connection";
    case Fallback::kBadResponse:
      return "bad_response";
    case Fallback::kDeadline:
      return "deadline";
  }
  return "?";
}

CheckedAnswer CheckAnswer(const std::string& content, const catalog::Catalog& catalog,
                          size_t max_labels) {
  CheckedAnswer out;
  json j = json::parse(Unfenced(content), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    out.problem = Fallback::kNotJson;
    out.error = "the answer is not a JSON object";
    return out;
  }
  const auto it = j.find("intents");
  if (it == j.end() || !it->is_array() || it->empty()) {
    out.problem = Fallback::kBadShape;
    out.error = "no non-empty \"intents\" list";
    return out;
  }
  const int fallback = catalog.default_intent();
  for (const auto& v : *it) {
    if (!v.is_string()) {
      out.problem = Fallback::kBadShape;
      out.error = "\"intents\" holds a " + std::string(v.type_name()) + ", not an id";
      return out;
    }
    const std::string id = v.get<std::string>();
    const int i = catalog.FindIntent(id);
    if (i < 0) {
      out.problem = Fallback::kUnknownIntent;
      out.error = "unknown intent '" + id + "'";
      return out;
    }
    if (std::find(out.intents.begin(), out.intents.end(), i) == out.intents.end()) {
      out.intents.push_back(i);
    }
  }
  // The default label means "none of the others": it goes when another intent is named.
  if (out.intents.size() > 1 && fallback >= 0) {
    out.intents.erase(std::remove(out.intents.begin(), out.intents.end(), fallback),
                      out.intents.end());
  }
  if (out.intents.size() > max_labels) out.intents.resize(max_labels);
  out.ok = true;
  return out;
}

std::string AnswerSchema(const catalog::Catalog& catalog) {
  json ids = json::array();
  for (const auto& in : catalog.intents()) ids.push_back(in.id);
  const json schema = {
      {"type", "object"},
      {"properties",
       {{"intents",
         {{"type", "array"}, {"items", {{"type", "string"}, {"enum", ids}}}, {"minItems", 1}}},
        {"reason", {{"type", "string"}}}}},
      {"required", {"intents", "reason"}},
      {"additionalProperties", false}};
  return schema.dump();
}

std::string SystemPrompt(const catalog::Catalog& catalog) {
  std::string s =
      "You label customer sessions of a retail bank's website and mobile app with the "
      "customer's intents, chosen only from this taxonomy (id: name - description):\n";
  for (const auto& in : catalog.intents()) {
    s += "- " + in.id + ": " + in.name + " - " + in.description;
    if (in.default_label) s += " (use this when no other intent shows)";
    s += "\n";
  }
  s += "Read what the customer did (most recent last) and answer with JSON only, no other "
       "text: {\"intents\": [ids, strongest first, at most 3], \"reason\": \"one short "
       "sentence\"}. Use only the ids above. Tiles shown on the app's homepage were chosen by "
       "the bank, not the customer: they are no evidence unless clicked.";
  return s;
}

LlmTeacher::LlmTeacher(std::shared_ptr<const catalog::Catalog> catalog, llm::ChatClient* client,
                       const RuleTeacher* fallback, LlmTeacherOptions options, Logger log)
    : catalog_(std::move(catalog)),
      client_(client),
      fallback_(fallback),
      options_(std::move(options)),
      log_(std::move(log)),
      matcher_(catalog_),
      system_prompt_(SystemPrompt(*catalog_)),
      schema_(AnswerSchema(*catalog_)) {
  if (options_.cache_path.empty()) return;
  std::ifstream in(options_.cache_path);
  if (!in) return;  // a new cache
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("key") || !j["key"].is_string() ||
        !j.contains("intents") || !j["intents"].is_array()) {
      throw std::runtime_error(options_.cache_path + ":" + std::to_string(line_no) +
                               ": not a cache entry {\"key\", \"intents\"}");
    }
    std::vector<int> intents;
    bool known = true;
    for (const auto& id : j["intents"]) {
      const int i = id.is_string() ? catalog_->FindIntent(id.get<std::string>()) : -1;
      known = known && i >= 0;
      intents.push_back(i);
    }
    // An entry of an older taxonomy has another key anyway; skip what no longer parses.
    if (known && !intents.empty()) cache_[j["key"].get<std::string>()] = std::move(intents);
  }
}

std::string LlmTeacher::name() const {
  return "llm:" + client_->options().model;
}

void LlmTeacher::Remember(const std::string& key, const std::vector<int>& intents) {
  cache_[key] = intents;
  if (options_.cache_path.empty()) return;
  json ids = json::array();
  for (int i : intents) ids.push_back(catalog_->intents()[static_cast<size_t>(i)].id);
  std::ofstream out(options_.cache_path, std::ios::app);
  out << json{{"key", key}, {"intents", ids}}.dump() << '\n';
  if (!out) log_.Warn("answer cache not written", {{"path", options_.cache_path}});
}

TeacherLabel LlmTeacher::Fall(const Session& session, Fallback why, const std::string& detail) {
  ++counters_.fallbacks;
  ++counters_.fallback_by_reason[static_cast<size_t>(why)];
  // Every fallback is counted; the first ones and then every hundredth are logged.
  if (counters_.fallbacks <= 20 || counters_.fallbacks % 100 == 0) {
    log_.Warn("LLM answer unusable; the rule teacher labels this session",
              {{"session", std::string(session.id)},
               {"reason", FallbackName(why)},
               {"detail", detail},
               {"fallbacks", std::to_string(counters_.fallbacks)}});
  }
  TeacherLabel label = fallback_->LabelWithScores(session, nullptr);
  label.source = "rules-fallback";
  label.detail = std::string(FallbackName(why)) + ": " + detail;
  return label;
}

TeacherLabel LlmTeacher::Label(const Session& session) {
  ++counters_.sessions;
  const std::string summary = SummarizeSession(session, matcher_, options_.summary);
  const std::string key = Hex64(Fnv1a64(client_->options().model + '\x1f' + kPromptVersion +
                                        '\x1f' + catalog_->taxonomy_version() + '\x1f' + summary));
  if (const auto it = cache_.find(key); it != cache_.end()) {
    ++counters_.cache_hits;
    TeacherLabel label;
    label.intents = it->second;
    label.top = label.intents.front();
    label.source = "llm-cache";
    return label;
  }
  llm::ChatRequest request;
  request.messages = {{"system", system_prompt_}, {"user", summary}};
  request.json_schema = schema_;
  request.schema_name = "intent_labels";
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.session_deadline_ms);
  Fallback last = Fallback::kNotJson;
  std::string last_detail = "no answer";
  for (int attempt = 0; attempt < std::max(1, options_.answer_attempts); ++attempt) {
    if (Clock::now() >= deadline) return Fall(session, Fallback::kDeadline, last_detail);
    const llm::ChatResult r = client_->Complete(request);
    if (!r.ok) {
      // The client has retried what can be retried: a transport failure is final.
      return Fall(session, FromChatError(r.error), r.detail);
    }
    const CheckedAnswer a = CheckAnswer(r.content, *catalog_, options_.max_labels);
    if (a.ok) {
      if (Clock::now() > deadline) return Fall(session, Fallback::kDeadline, "answer came late");
      ++counters_.answered;
      Remember(key, a.intents);
      TeacherLabel label;
      label.intents = a.intents;
      label.top = a.intents.front();
      label.source = "llm";
      return label;
    }
    ++counters_.invalid_answers;
    last = a.problem;
    last_detail = a.error;
    // Ask again, saying what was wrong with the answer.
    request.messages.resize(2);
    request.messages.push_back({"assistant", r.content.substr(0, 2000)});
    request.messages.push_back(
        {"user", "That answer is invalid (" + a.error +
                     "). Answer again with JSON only, using ids from the taxonomy."});
  }
  return Fall(session, last, last_detail);
}

}  // namespace intentstream::teach
