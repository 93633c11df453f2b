// The LLM teacher: labels a session by asking any OpenAI-compatible chat-completions
// endpoint (llm/chat_client.h) which intents of the taxonomy it shows.
//
// Per session: the session becomes a short readable summary (session_summary.h); the
// system message lists the taxonomy (id, name, description); the model is asked for
// JSON {"intents": [ids, strongest first], "reason": "..."}, with a JSON schema whose
// ids are an enum where the server supports response formats. The answer is
// validated (JSON, the shape, every id in the taxonomy); an invalid answer is asked
// again (answer_attempts), each request is time-limited and rate-limited by the client,
// and the whole session by session_deadline_ms. Answers are cached by a digest of the
// model, the prompt version, the taxonomy version and the summary, in memory and in an
// optional JSON-lines file, so a re-run asks nothing twice.
//
// When no valid answer comes (not JSON, unknown intents, 5xx, timeouts, connection
// errors), the session gets the rule teacher's label with source "rules-fallback": the
// fallback is logged and counted by reason, and no session is ever skipped.
//
// No LLM runs in this repository's tests or CI: they run a local HTTP server on
// loopback that speaks the same API (tests/unit/llm_teacher_test.cc).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalog/catalog.h"
#include "common/logging.h"
#include "llm/chat_client.h"
#include "teach/session_summary.h"
#include "teach/teacher.h"

namespace intentstream::teach {

struct LlmTeacherOptions {
  // Asks per session when an answer is invalid (not JSON, unknown ids). Default 2.
  int answer_attempts = 2;
  // Time limit for one session, all asks and retries together, ms. Default 120000.
  int64_t session_deadline_ms = 120'000;
  // JSON-lines answer cache (read at start, appended to); empty: memory only.
  std::string cache_path;
  // At most this many intents per session (longer answers are cut). Default 3.
  size_t max_labels = 3;
  SummaryOptions summary;
};

// Why a session fell back to the rule teacher.
enum class Fallback : uint8_t {
  kNotJson,        // the answer was not a JSON object
  kBadShape,       // JSON, but no "intents" list of strings
  kUnknownIntent,  // an id that is not in the taxonomy
  kTimeout,        // the endpoint did not answer in time
  kHttpError,      // 4xx / 5xx after the retries
  kConnection,     // could not connect
  kBadResponse,    // not a chat-completions body
  kDeadline,       // the session's time limit ran out
};
inline constexpr size_t kFallbackKinds = 8;
const char* FallbackName(Fallback f);

struct LlmTeacherCounters {
  uint64_t sessions = 0;
  uint64_t answered = 0;         // labelled from a fresh, valid answer
  uint64_t cache_hits = 0;       // labelled from the cache
  uint64_t invalid_answers = 0;  // answers that failed validation (may be re-asked)
  uint64_t fallbacks = 0;
  std::array<uint64_t, kFallbackKinds> fallback_by_reason{};
};

// The answer check, on its own (for tests and the proposal tool).
struct CheckedAnswer {
  bool ok = false;
  std::vector<int> intents;
  Fallback problem = Fallback::kNotJson;
  std::string error;
};
CheckedAnswer CheckAnswer(const std::string& content, const catalog::Catalog& catalog,
                          size_t max_labels);
// The JSON Schema of an answer (ids as an enum), as text.
std::string AnswerSchema(const catalog::Catalog& catalog);
// The system message: the task and the taxonomy.
std::string SystemPrompt(const catalog::Catalog& catalog);
inline constexpr const char* kPromptVersion = "label-v1";

class LlmTeacher final : public Teacher {
 public:
  // `client` and `fallback` must outlive the teacher. Throws std::runtime_error when the
  // cache file exists but cannot be read.
  LlmTeacher(std::shared_ptr<const catalog::Catalog> catalog, llm::ChatClient* client,
             const RuleTeacher* fallback, LlmTeacherOptions options, Logger log);
  std::string name() const override;
  TeacherLabel Label(const Session& session) override;
  const LlmTeacherCounters& counters() const { return counters_; }

 private:
  TeacherLabel Fall(const Session& session, Fallback why, const std::string& detail);
  void Remember(const std::string& key, const std::vector<int>& intents);

  std::shared_ptr<const catalog::Catalog> catalog_;
  llm::ChatClient* client_;
  const RuleTeacher* fallback_;
  LlmTeacherOptions options_;
  Logger log_;
  decide::IntentMatcher matcher_;
  std::string system_prompt_, schema_;
  std::unordered_map<std::string, std::vector<int>> cache_;
  LlmTeacherCounters counters_;
};

}  // namespace intentstream::teach
