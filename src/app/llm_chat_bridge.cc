#include "app/llm_chat_bridge.h"

#include <utility>

namespace intentstream::app {

namespace {

llm::ChatOptions ForRephrasing(llm::ChatOptions o) {
  o.response_format = llm::ResponseFormat::kNone;
  return o;
}

}  // namespace

LlmChatBridge::LlmChatBridge(llm::ChatOptions options)
    : base_(ForRephrasing(std::move(options))), client_(std::make_unique<llm::ChatClient>(base_)) {}

decide::ChatStatus StatusOf(const llm::ChatResult& result) {
  switch (result.error) {
    case llm::ChatError::kNone:
      return decide::ChatStatus::kOk;
    case llm::ChatError::kTimeout:
      return decide::ChatStatus::kTimeout;
    case llm::ChatError::kConnection:
      return decide::ChatStatus::kUnreachable;
    case llm::ChatError::kHttpStatus:
      return result.http_status >= 500 || result.http_status == 429
                 ? decide::ChatStatus::kServerError
                 : decide::ChatStatus::kClientError;
    case llm::ChatError::kBadResponse:
      return decide::ChatStatus::kInvalidResponse;
  }
  return decide::ChatStatus::kInvalidResponse;
}

decide::ChatReply LlmChatBridge::Complete(const std::vector<decide::ChatMessage>& messages,
                                          const std::string& model) {
  if (!model.empty() && model != client_->options().model) {
    llm::ChatOptions o = base_;
    o.model = model;
    client_ = std::make_unique<llm::ChatClient>(std::move(o));
  }
  llm::ChatRequest request;
  for (const auto& m : messages) request.messages.push_back({m.role, m.content});
  const llm::ChatResult r = client_->Complete(request);
  decide::ChatReply reply;
  reply.status = r.ok ? decide::ChatStatus::kOk : StatusOf(r);
  reply.text = r.content;
  reply.detail = r.detail;
  return reply;
}

}  // namespace intentstream::app
