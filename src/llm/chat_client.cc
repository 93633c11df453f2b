#include "llm/chat_client.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace intentstream::llm {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kApiKeyVariable = "INTENTSTREAM_LLM_API_KEY";

double ParseDouble(const std::string& key, const std::string& value, double min, double max) {
  char* end = nullptr;
  const double v = std::strtod(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size() || !(v >= min && v <= max)) {
    std::ostringstream msg;
    msg << "expected a number in [" << min << ", " << max << "], got '" << value << "'";
    throw ConfigError(key, msg.str());
  }
  return v;
}

std::string ReadFileTrimmed(const std::string& key, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(key, "cannot read '" + path + "'");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  if (s.empty()) throw ConfigError(key, "'" + path + "' is empty");
  return s;
}

// "https://host:8443/v1" -> ("https://host:8443", "/v1").
bool SplitUrl(const std::string& url, std::string* origin, std::string* path) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return false;
  const std::string s = url.substr(0, scheme);
  if (s != "http" && s != "https") return false;
  const size_t slash = url.find('/', scheme + 3);
  *origin = url.substr(0, slash);
  *path = slash == std::string::npos ? "" : url.substr(slash);
  while (!path->empty() && path->back() == '/') path->pop_back();
  return origin->size() > scheme + 3;
}

std::string Excerpt(const std::string& s, size_t max = 200) {
  std::string out = s.size() > max ? s.substr(0, max) + "..." : s;
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

const char* ChatErrorName(ChatError error) {
  switch (error) {
    case ChatError::kNone:
      return "none";
    case ChatError::kTimeout:
      return "timeout";
    case ChatError::kConnection:
      return "connection";
    case ChatError::kHttpStatus:
      return "http_status";
    case ChatError::kBadResponse:
      return "bad_response";
  }
  return "?";
}

void ChatOptions::Validate() const {
  std::string origin, path;
  if (url.empty()) throw ConfigError("llm.url", "required (e.g. http://127.0.0.1:8080/v1)");
  if (!SplitUrl(url, &origin, &path)) {
    throw ConfigError("llm.url",
                      "expected http://host[:port][/path] or https://..., got '" + url + "'");
  }
  if (model.empty()) throw ConfigError("llm.model", "required (the model name the server knows)");
  if (timeout_ms < 1) throw ConfigError("llm.timeout_ms", "must be >= 1");
  if (max_retries < 0) throw ConfigError("llm.max_retries", "must be >= 0");
  if (!(requests_per_second >= 0)) throw ConfigError("llm.requests_per_second", "must be >= 0");
}

const std::vector<OptionSpec<ChatOptions>>& ChatOptionSpecs() {
  using O = ChatOptions;
  static const std::vector<OptionSpec<O>> specs = {
      {"llm.url", "",
       "Base URL of the OpenAI-compatible API (the client POSTs to <url>/chat/completions)",
       [](O& o, const std::string&, const std::string& v) { o.url = v; }},
      {"llm.model", "", "Model name the server knows",
       [](O& o, const std::string&, const std::string& v) { o.model = v; }},
      {"llm.api_key_file", "",
       "File holding the API key (bearer token); INTENTSTREAM_LLM_API_KEY overrides it; none: no "
       "key",
       [](O& o, const std::string& k, const std::string& v) {
         if (!v.empty()) o.api_key = ReadFileTrimmed(k, v);
       }},
      {"llm.timeout_ms", "30000", "Time limit of one request, ms",
       [](O& o, const std::string& k, const std::string& v) {
         o.timeout_ms = ParseInt(k, v, 1, 3'600'000);
       }},
      {"llm.max_retries", "2", "Retries after a timeout, connection error, 429 or 5xx",
       [](O& o, const std::string& k, const std::string& v) {
         o.max_retries = static_cast<int>(ParseInt(k, v, 0, 100));
       }},
      {"llm.retry_backoff_ms", "500", "First back-off before a retry, ms (doubles each time)",
       [](O& o, const std::string& k, const std::string& v) {
         o.retry_backoff_ms = ParseInt(k, v, 0, 600'000);
       }},
      {"llm.requests_per_second", "2", "Rate limit, requests per second (0: none)",
       [](O& o, const std::string& k, const std::string& v) {
         o.requests_per_second = ParseDouble(k, v, 0, 1e6);
       }},
      {"llm.response_format", "json_schema",
       "json_schema, json_object or none (what the server is asked to return)",
       [](O& o, const std::string& k, const std::string& v) {
         if (v == "json_schema") {
           o.response_format = ResponseFormat::kJsonSchema;
         } else if (v == "json_object") {
           o.response_format = ResponseFormat::kJsonObject;
         } else if (v == "none") {
           o.response_format = ResponseFormat::kNone;
         } else {
           throw ConfigError(k, "expected json_schema, json_object or none, got '" + v + "'");
         }
       }},
      {"llm.temperature", "0", "Sampling temperature",
       [](O& o, const std::string& k, const std::string& v) {
         o.temperature = ParseDouble(k, v, 0, 2);
       }},
      {"llm.max_tokens", "512", "Longest answer, tokens",
       [](O& o, const std::string& k, const std::string& v) {
         o.max_tokens = static_cast<int>(ParseInt(k, v, 1, 1'000'000));
       }},
      {"llm.ca_file", "", "CA bundle for https (empty: the system's)",
       [](O& o, const std::string&, const std::string& v) { o.ca_file = v; }},
  };
  return specs;
}

ChatOptions LoadChatOptions(const std::map<std::string, std::string>& properties) {
  ChatOptions o;
  for (const auto& [key, value] : properties) {
    if (key.rfind("llm.", 0) != 0) continue;
    bool known = false;
    for (const auto& spec : ChatOptionSpecs()) {
      if (spec.key == key) {
        spec.apply(o, key, value);
        known = true;
      }
    }
    if (!known) throw ConfigError(key, "unknown key (see the llm.* keys in docs/intents.md)");
  }
  if (const char* key = std::getenv(kApiKeyVariable); key != nullptr && *key != '\0') {
    o.api_key = key;
  }
  o.Validate();
  return o;
}

struct ChatClient::Http {
  std::unique_ptr<httplib::Client> client;
  std::string path;  // "<prefix>/chat/completions"
};

ChatClient::ChatClient(ChatOptions options)
    : options_(std::move(options)), format_(options_.response_format), http_(new Http) {
  options_.Validate();
  std::string origin, prefix;
  SplitUrl(options_.url, &origin, &prefix);
  http_->client = std::make_unique<httplib::Client>(origin);
  http_->path = prefix + "/chat/completions";
  const auto timeout = std::chrono::milliseconds(options_.timeout_ms);
  http_->client->set_connection_timeout(timeout);
  http_->client->set_read_timeout(timeout);
  http_->client->set_write_timeout(timeout);
  http_->client->set_keep_alive(true);
  // On a kept-alive connection the request's header and body writes would otherwise wait
  // for the server's delayed ACK (~40 ms each), a cost a local server makes visible.
  http_->client->set_tcp_nodelay(true);
  if (!options_.api_key.empty()) http_->client->set_bearer_token_auth(options_.api_key);
  if (origin.rfind("https", 0) == 0) {
    http_->client->enable_server_certificate_verification(true);
    http_->client->set_ca_cert_path(options_.ca_file.empty() ? "/etc/ssl/certs/ca-certificates.crt"
                                                             : options_.ca_file);
  }
}

ChatClient::~ChatClient() = default;

void ChatClient::WaitForRateLimit() {
  if (options_.requests_per_second > 0 && started_) {
    const auto gap = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(1.0 / options_.requests_per_second));
    const auto next = last_start_ + gap;
    if (Clock::now() < next) std::this_thread::sleep_until(next);
  }
  started_ = true;
  last_start_ = Clock::now();
}

ChatResult ChatClient::Attempt(const ChatRequest& request) {
  ChatResult r;
  json body = {{"model", options_.model},
               {"temperature", options_.temperature},
               {"max_tokens", options_.max_tokens},
               {"stream", false}};
  json messages = json::array();
  for (const auto& m : request.messages) {
    messages.push_back({{"role", m.role}, {"content", m.content}});
  }
  body["messages"] = std::move(messages);
  if (format_ == ResponseFormat::kJsonSchema && !request.json_schema.empty()) {
    json schema = json::parse(request.json_schema, nullptr, /*allow_exceptions=*/false);
    if (!schema.is_discarded()) {
      body["response_format"] = {
          {"type", "json_schema"},
          {"json_schema", {{"name", request.schema_name}, {"strict", true}, {"schema", schema}}}};
    }
  } else if (format_ != ResponseFormat::kNone) {
    body["response_format"] = {{"type", "json_object"}};
  }
  ++counters_.requests;
  auto res = http_->client->Post(http_->path, body.dump(), "application/json");
  if (!res) {
    const auto e = res.error();
    r.error = e == httplib::Error::Read || e == httplib::Error::ConnectionTimeout ||
                      e == httplib::Error::Write
                  ? ChatError::kTimeout
                  : ChatError::kConnection;
    r.detail = httplib::to_string(e);
    if (r.error == ChatError::kTimeout) ++counters_.timeouts;
    return r;
  }
  r.http_status = res->status;
  if (res->status != 200) {
    ++counters_.http_errors;
    r.error = ChatError::kHttpStatus;
    r.detail = "HTTP " + std::to_string(res->status) + ": " + Excerpt(res->body);
    return r;
  }
  const json answer = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  const json* content = nullptr;
  if (answer.is_object() && answer.contains("choices") && answer["choices"].is_array() &&
      !answer["choices"].empty()) {
    const json& first = answer["choices"][0];
    if (first.is_object() && first.contains("message") && first["message"].is_object() &&
        first["message"].contains("content") && first["message"]["content"].is_string()) {
      content = &first["message"]["content"];
    }
  }
  if (content == nullptr) {
    r.error = ChatError::kBadResponse;
    r.detail = "not a chat-completions answer: " + Excerpt(res->body);
    return r;
  }
  r.ok = true;
  r.content = content->get<std::string>();
  return r;
}

ChatResult ChatClient::Complete(const ChatRequest& request) {
  const auto started = Clock::now();
  ChatResult r;
  int attempts = 0;
  int64_t backoff = options_.retry_backoff_ms;
  int retries_left = options_.max_retries;
  while (true) {
    WaitForRateLimit();
    r = Attempt(request);
    ++attempts;
    if (r.ok) break;
    // A server that refuses the response format: ask more plainly, at once.
    if (r.error == ChatError::kHttpStatus && r.http_status == 400 &&
        format_ != ResponseFormat::kNone) {
      format_ = format_ == ResponseFormat::kJsonSchema ? ResponseFormat::kJsonObject
                                                       : ResponseFormat::kNone;
      ++counters_.format_downgrades;
      continue;
    }
    const bool retriable =
        r.error == ChatError::kTimeout || r.error == ChatError::kConnection ||
        (r.error == ChatError::kHttpStatus && (r.http_status == 429 || r.http_status >= 500));
    if (!retriable || retries_left == 0) break;
    --retries_left;
    ++counters_.retries;
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
    backoff *= 2;
  }
  r.attempts = attempts;
  r.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  if (r.ok) {
    ++counters_.ok;
  } else {
    ++counters_.failed;
  }
  return r;
}

}  // namespace intentstream::llm
