// A loopback server speaking the OpenAI-compatible chat-completions API, and the
// processor's own client pointed at it, for testing the rephraser against real HTTP.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "decide/rephrase.h"
#include "llm/chat_client.h"
#include "llm_chat_bridge.h"

namespace intentstream::testing {

// The processor's own chat client (tools/intentstream/llm_chat_bridge.h on
// llm::ChatClient) pointed at a loopback server: no retries and no rate limit, so each
// failure is seen as it happens.
inline std::unique_ptr<tools::LlmChatBridge> LoopbackChatClient(int port,
                                                                std::chrono::milliseconds timeout) {
  llm::ChatOptions o;
  o.url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  o.model = "loopback-model";
  o.timeout_ms = timeout.count();
  o.max_retries = 0;
  o.requests_per_second = 0;
  return std::make_unique<tools::LlmChatBridge>(std::move(o));
}

// POST /v1/chat/completions on a loopback port; `answer` gets the user message and
// returns (status, body), or sleeps for a timeout.
class ChatServer {
 public:
  using Answer = std::function<std::pair<int, std::string>(const std::string& user)>;

  explicit ChatServer(Answer answer) : answer_(std::move(answer)) {
    server_.Post("/v1/chat/completions",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   ++requests_;
                   const auto j = nlohmann::json::parse(req.body, nullptr, false);
                   std::string user;
                   if (!j.is_discarded() && j.contains("messages")) {
                     for (const auto& m : j["messages"]) {
                       if (m.value("role", "") == "user") user = m.value("content", "");
                     }
                   }
                   const auto [status, body] = answer_(user);
                   res.status = status;
                   res.set_content(body, "application/json");
                 });
    port_ = server_.bind_to_any_port("127.0.0.1");
    // Bound and listening already: connections wait in the backlog until the loop runs.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~ChatServer() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  int requests() const { return requests_.load(); }

  // A chat-completions answer with this content.
  static std::string Completion(const std::string& content) {
    nlohmann::json j = {{"id", "chatcmpl-test"},
                        {"object", "chat.completion"},
                        {"choices",
                         {{{"index", 0},
                           {"message", {{"role", "assistant"}, {"content", content}}},
                           {"finish_reason", "stop"}}}}};
    return j.dump();
  }

 private:
  Answer answer_;
  httplib::Server server_;
  int port_ = 0;
  std::atomic<int> requests_{0};
  std::thread thread_;
};

}  // namespace intentstream::testing
