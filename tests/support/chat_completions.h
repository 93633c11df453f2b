// The processor's own chat client pointed at a loopback chat-completions server
// (support/chat_server.h), for testing the rephraser against real HTTP.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "app/llm_chat_bridge.h"
#include "decide/rephrase.h"
#include "llm/chat_client.h"
#include "support/chat_server.h"

namespace intentstream::testing {

// The processor's own chat client (src/app/llm_chat_bridge.h on
// llm::ChatClient) pointed at a loopback server: no retries and no rate limit, so each
// failure is seen as it happens.
inline std::unique_ptr<app::LlmChatBridge> LoopbackChatClient(int port,
                                                              std::chrono::milliseconds timeout) {
  llm::ChatOptions o;
  o.url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  o.model = "loopback-model";
  o.timeout_ms = timeout.count();
  o.max_retries = 0;
  o.requests_per_second = 0;
  return std::make_unique<app::LlmChatBridge>(std::move(o));
}

}  // namespace intentstream::testing
