// A loopback server speaking the OpenAI-compatible chat-completions API
// (POST /v1/chat/completions): no LLM runs in tests, so clients are tested against this.
// Answers are scripted either on the whole request (`Reply`) or on the user message
// alone (`Answer`); every request body and Authorization header is recorded.
#pragma once

#include <httplib.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace intentstream::testing {

class ChatServer {
 public:
  using Reply = std::function<void(const nlohmann::json& request, httplib::Response& res)>;
  // Gets the last user message; returns (status, body).
  using Answer = std::function<std::pair<int, std::string>(const std::string& user)>;

  explicit ChatServer(Reply reply) : reply_(std::move(reply)) { Start(); }
  explicit ChatServer(Answer answer)
      : reply_([answer = std::move(answer)](const nlohmann::json& request, httplib::Response& res) {
          const auto [status, body] = answer(UserMessage(request));
          res.status = status;
          res.set_content(body, "application/json");
        }) {
    Start();
  }
  ~ChatServer() {
    server_.stop();
    thread_.join();
  }
  ChatServer(const ChatServer&) = delete;
  ChatServer& operator=(const ChatServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  int requests_served() const { return served_.load(); }
  std::vector<nlohmann::json> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<std::string> auth() {
    std::lock_guard<std::mutex> lock(mu_);
    return auth_;
  }

  // A chat-completions answer body with this content.
  static std::string Completion(const std::string& content) {
    const nlohmann::json j = {
        {"id", "chatcmpl-test"},
        {"object", "chat.completion"},
        {"choices",
         nlohmann::json::array({{{"index", 0},
                                 {"message", {{"role", "assistant"}, {"content", content}}},
                                 {"finish_reason", "stop"}}})}};
    return j.dump();
  }
  // Sets `res` to a 200 answer with this content.
  static void Complete(httplib::Response& res, const std::string& content) {
    res.set_content(Completion(content), "application/json");
  }

 private:
  static std::string UserMessage(const nlohmann::json& request) {
    std::string user;
    if (request.is_object() && request.contains("messages") && request["messages"].is_array()) {
      for (const auto& m : request["messages"]) {
        if (m.is_object() && m.value("role", "") == "user") user = m.value("content", "");
      }
    }
    return user;
  }

  void Start() {
    server_.Post("/v1/chat/completions",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   const auto body = nlohmann::json::parse(req.body, nullptr, false);
                   {
                     std::lock_guard<std::mutex> lock(mu_);
                     requests_.push_back(body);
                     auth_.push_back(req.get_header_value("Authorization"));
                   }
                   ++served_;
                   reply_(body, res);
                 });
    port_ = server_.bind_to_any_port("127.0.0.1");
    // Bound and listening already: connections wait in the backlog until the loop runs.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }

  Reply reply_;
  httplib::Server server_;
  int port_ = 0;
  std::atomic<int> served_{0};
  std::thread thread_;
  std::mutex mu_;
  std::vector<nlohmann::json> requests_;
  std::vector<std::string> auth_;
};

}  // namespace intentstream::testing
