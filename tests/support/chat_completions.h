// A minimal OpenAI-compatible chat-completions client (decide::ChatClient over
// cpp-httplib and nlohmann-json) and a loopback server speaking the same API, for
// testing the rephraser against real HTTP. The processor's own client lives elsewhere;
// this adapter is only as big as the tests need.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "decide/rephrase.h"

namespace intentstream::testing {

class HttpChatClient final : public decide::ChatClient {
 public:
  HttpChatClient(int port, std::chrono::milliseconds timeout) : port_(port), timeout_(timeout) {}

  decide::ChatReply Complete(const std::vector<decide::ChatMessage>& messages,
                             const std::string& model) override {
    using decide::ChatStatus;
    nlohmann::json body;
    if (!model.empty()) body["model"] = model;
    body["messages"] = nlohmann::json::array();
    for (const auto& m : messages)
      body["messages"].push_back({{"role", m.role}, {"content", m.content}});
    httplib::Client client("127.0.0.1", port_);
    const auto secs = static_cast<time_t>(timeout_.count() / 1000);
    const auto usecs = static_cast<time_t>((timeout_.count() % 1000) * 1000);
    client.set_connection_timeout(secs, usecs);
    client.set_read_timeout(secs, usecs);
    client.set_write_timeout(secs, usecs);
    const auto res = client.Post("/v1/chat/completions", body.dump(), "application/json");
    if (!res) {
      const auto err = res.error();
      const bool timeout = err == httplib::Error::Read || err == httplib::Error::ConnectionTimeout;
      return {timeout ? ChatStatus::kTimeout : ChatStatus::kUnreachable, "",
              httplib::to_string(err)};
    }
    if (res->status >= 500) return {ChatStatus::kServerError, "", std::to_string(res->status)};
    if (res->status >= 400) return {ChatStatus::kClientError, "", std::to_string(res->status)};
    const auto j = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.contains("choices") || !j["choices"].is_array() ||
        j["choices"].empty() || !j["choices"][0].contains("message") ||
        !j["choices"][0]["message"].contains("content") ||
        !j["choices"][0]["message"]["content"].is_string()) {
      return {ChatStatus::kInvalidResponse, "", res->body.substr(0, 100)};
    }
    return {ChatStatus::kOk, j["choices"][0]["message"]["content"].get<std::string>(), ""};
  }

 private:
  int port_;
  std::chrono::milliseconds timeout_;
};

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
