// The decision stage's ChatClient (decide/rephrase.h) on the project's one
// chat-completions client (llm/chat_client.h): the stage links no HTTP library, and the
// rephraser and the LLM teacher share the client's time limits, retries, rate limit and
// TLS. Rephrases are plain text, so no response format is asked for.
//
// Thread-safety: as llm::ChatClient, one caller at a time (the rephraser's thread).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "decide/rephrase.h"
#include "llm/chat_client.h"

namespace intentstream::app {

class LlmChatBridge final : public decide::ChatClient {
 public:
  // Throws ConfigError (naming the llm.* key) for bad options.
  explicit LlmChatBridge(llm::ChatOptions options);

  decide::ChatReply Complete(const std::vector<decide::ChatMessage>& messages,
                             const std::string& model) override;

  // A model other than llm.model for one request needs a client of its own.
  const llm::ChatOptions& options() const { return client_->options(); }

 private:
  llm::ChatOptions base_;
  std::unique_ptr<llm::ChatClient> client_;
};

// The status a failed llm call maps to (a 5xx is the server's, another status ours).
decide::ChatStatus StatusOf(const llm::ChatResult& result);

}  // namespace intentstream::app
