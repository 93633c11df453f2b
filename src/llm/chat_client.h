// A client for any OpenAI-compatible chat-completions endpoint (llama.cpp's server,
// vLLM, Ollama, hosted APIs): POST <url>/chat/completions with the model, the messages
// and, where the server supports it, a response format that asks for JSON (a JSON
// schema, or any JSON object). The answer's first choice is returned as text; what it
// means is the caller's business (the LLM teacher validates it, a message rephraser
// checks its citations).
//
// What it does for the caller: per-request time limits (connect, read, write), retries
// with doubling back-off on timeouts, connection errors, 429 and 5xx (never on other
// 4xx), a rate limit (requests per second, measured between request starts), a
// fallback from a JSON schema to a plain JSON object (and to none) when a server
// refuses the response format with a 400, and counters of what happened. TLS (https)
// verifies the server against the system's CA bundle (or `ca_file`).
//
// No torch, no JSON library in this header. Not thread-safe: one client per thread.
// Complete() blocks for at most about (max_retries + 1) x timeout_ms plus the back-off.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"

namespace intentstream::llm {

enum class ResponseFormat : uint8_t {
  kJsonSchema,  // response_format {"type": "json_schema", ...}: llama.cpp, vLLM, OpenAI
  kJsonObject,  // response_format {"type": "json_object"}: Ollama and older servers
  kNone,        // no response_format: the prompt alone asks for JSON
};

struct ChatOptions {
  // Base URL of the API, e.g. "http://127.0.0.1:8080/v1" (the client appends
  // "/chat/completions"). Key llm.url; required.
  std::string url;
  // Model name the server knows. Key llm.model; required.
  std::string model;
  // Bearer token, read from llm.api_key_file or the INTENTSTREAM_LLM_API_KEY
  // environment variable; empty: no Authorization header (a local server).
  std::string api_key;
  // Time limit of one request (connect, send, and each read of the answer), ms.
  // Key llm.timeout_ms. Default 30000.
  int64_t timeout_ms = 30'000;
  // Retries after a timeout, a connection error, 429 or 5xx. Key llm.max_retries.
  // Default 2.
  int max_retries = 2;
  // First back-off before a retry, ms; doubles each time. Key llm.retry_backoff_ms.
  // Default 500.
  int64_t retry_backoff_ms = 500;
  // At most this many requests per second; 0 = no limit. Key
  // llm.requests_per_second. Default 2.
  double requests_per_second = 2;
  // json_schema, json_object or none. Key llm.response_format. Default json_schema.
  ResponseFormat response_format = ResponseFormat::kJsonSchema;
  // Sampling temperature. Key llm.temperature. Default 0 (reproducible labels).
  double temperature = 0;
  // Longest answer, tokens. Key llm.max_tokens. Default 512.
  int max_tokens = 512;
  // CA bundle for https; empty: the system's. Key llm.ca_file.
  std::string ca_file;

  // Throws ConfigError naming the key.
  void Validate() const;
};

// The option table (keys llm.*), for the tools' --config / --set and `help-config`.
const std::vector<OptionSpec<ChatOptions>>& ChatOptionSpecs();
// Applies llm.* properties (others are ignored) and the API key from the environment.
// Throws ConfigError naming the key.
ChatOptions LoadChatOptions(const std::map<std::string, std::string>& properties);

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

struct ChatRequest {
  std::vector<ChatMessage> messages;
  // A JSON Schema (as JSON text) the answer must follow, for kJsonSchema; empty: none.
  std::string json_schema;
  std::string schema_name = "answer";
};

enum class ChatError : uint8_t {
  kNone,
  kTimeout,      // no (complete) answer within timeout_ms
  kConnection,   // could not connect (refused, DNS, TLS handshake)
  kHttpStatus,   // the server answered with a status other than 200
  kBadResponse,  // 200, but not a chat-completions body with a message
};
const char* ChatErrorName(ChatError error);

struct ChatResult {
  bool ok = false;
  std::string content;  // the first choice's message content (ok only)
  ChatError error = ChatError::kNone;
  int http_status = 0;
  std::string detail;  // readable reason when !ok
  int attempts = 0;
  double seconds = 0;  // wall time including retries and waits
};

struct ChatCounters {
  uint64_t requests = 0;  // HTTP requests sent (attempts)
  uint64_t ok = 0;        // calls that returned an answer
  uint64_t failed = 0;    // calls that gave up
  uint64_t retries = 0;
  uint64_t timeouts = 0;
  uint64_t http_errors = 0;
  uint64_t format_downgrades = 0;  // response formats the server refused
};

class ChatClient {
 public:
  // Throws ConfigError for bad options.
  explicit ChatClient(ChatOptions options);
  ~ChatClient();
  ChatClient(const ChatClient&) = delete;
  ChatClient& operator=(const ChatClient&) = delete;

  ChatResult Complete(const ChatRequest& request);

  const ChatOptions& options() const { return options_; }
  const ChatCounters& counters() const { return counters_; }
  // The response format in use (after any downgrade).
  ResponseFormat response_format() const { return format_; }

 private:
  struct Http;
  ChatResult Attempt(const ChatRequest& request);
  void WaitForRateLimit();

  ChatOptions options_;
  ResponseFormat format_;
  std::unique_ptr<Http> http_;
  ChatCounters counters_;
  std::chrono::steady_clock::time_point last_start_{};
  bool started_ = false;
};

}  // namespace intentstream::llm
