// Optional rephrasing of template messages by a chat-completions model, kept off the
// per-event path (ARCHITECTURE §5, step 8).
//
// A background thread renders, for every offer x persona x intent it serves, the message
// a visitor without search terms gets, asks the model to rephrase its body (the risk
// warnings are never sent: they stay verbatim), checks the answer (message_check.h
// CheckRephrase: every citation marker kept, no marker added, every number in a
// sentence found in the passages that sentence cites, no uncited fact, no forbidden
// phrase, not too long) and publishes the accepted ones. A decision looks its tile up
// in the published table (one snapshot per step) and uses the rephrase only when the
// rendered body it would show is the one that was rephrased; otherwise, and for every
// refusal, failure or timeout of the endpoint, the template text. Each outcome is
// counted by reason (DecisionMetrics::Rephrase). Everything is redone every
// `refresh_ms` and when the catalogue changes.
//
// The model is reached through ChatClient, a small interface of this stage: the
// program's main hands an implementation in (an OpenAI-compatible HTTP client); the
// stage links no HTTP library.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "catalog/catalog.h"
#include "common/logging.h"
#include "decide/decision_metrics.h"
#include "decide/message_check.h"
#include "decide/options.h"

namespace intentstream::decide {

struct ChatMessage {
  std::string role;  // "system", "user"
  std::string content;
};

enum class ChatStatus { kOk, kTimeout, kServerError, kClientError, kUnreachable, kInvalidResponse };

struct ChatReply {
  ChatStatus status = ChatStatus::kOk;
  std::string text;    // the model's message (kOk)
  std::string detail;  // what went wrong, for the log
};

// One chat-completions request. Implementations bound every call by their own timeout
// and report failures as a status, never by throwing. Called from one background
// thread at a time.
class ChatClient {
 public:
  virtual ~ChatClient() = default;
  virtual ChatReply Complete(const std::vector<ChatMessage>& messages,
                             const std::string& model) = 0;
};

// What the prompt asks of the model; exposed so that tests and adapters see it.
std::vector<ChatMessage> RephrasePrompt(std::string_view body, std::string_view persona,
                                        std::string_view intent, size_t max_bytes);

// The accepted rephrases of one catalogue version. Immutable once published.
struct RephraseTable {
  struct Entry {
    std::string source;  // the rendered body that was rephrased
    std::string text;    // the accepted rephrase of it
  };
  std::string catalogue_version;
  std::map<std::tuple<int, std::string, int>, Entry> entries;  // (offer, persona, intent)

  // The rephrase of this body, or nullptr.
  const std::string* Find(int offer, const std::string& persona, int intent,
                          std::string_view body) const;
};

class Rephraser {
 public:
  // Starts the background thread. `client` and `metrics` (may be null) must outlive this.
  Rephraser(const DecisionOptions& options, ChatClient& client, DecisionMetrics* metrics,
            const Logger& log);
  // Stops the thread; waits for a request in flight (bounded by the client's timeout).
  ~Rephraser();
  Rephraser(const Rephraser&) = delete;
  Rephraser& operator=(const Rephraser&) = delete;

  // A catalogue (and the personas of the offer model, or {"all"}) to rephrase for; the
  // current table is dropped at once, so no rephrase of an older version is shown.
  void SetCatalog(std::shared_ptr<const catalog::Catalog> catalog,
                  std::vector<std::string> personas);

  // The table as published now (never null). Cheap: a lock and a shared_ptr copy.
  std::shared_ptr<const RephraseTable> Snapshot() const;

  // Completed passes over every offer x persona x intent since the start (for tests).
  uint64_t passes() const;

 private:
  void Run();
  void Pass(const std::shared_ptr<const catalog::Catalog>& catalog,
            const std::vector<std::string>& personas);
  void Publish(std::shared_ptr<const RephraseTable> table);

  DecisionOptions options_;
  ChatClient& client_;
  DecisionMetrics* metrics_;
  Logger log_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  uint64_t generation_ = 0;  // bumped by SetCatalog
  uint64_t passes_ = 0;
  std::shared_ptr<const catalog::Catalog> catalog_;
  std::vector<std::string> personas_;
  std::shared_ptr<const RephraseTable> table_;
  std::thread thread_;  // last: starts after everything above exists
};

}  // namespace intentstream::decide
