#include "ingest/decoder.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <cctype>

#include "ingest/validator.h"
#include "ingest/wire_format_check.h"

namespace intentstream::ingest {

namespace {

using google::protobuf::Message;

bool IsJsonBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Which parser a payload goes to; see the rule in decoder.h.
enum class Format {
  kJson,          // starts with '{' or '[': a group tag, never binary in our contracts
  kJsonOrBinary,  // blanks, then '{' or '[': JSON, or binary whose first length is 91/123
  kBinary,        // anything else
};

Format FormatOf(std::string_view payload) {
  if (payload.front() == '{' || payload.front() == '[') return Format::kJson;
  for (char c : payload) {
    if (IsJsonBlank(c)) continue;
    return c == '{' || c == '[' ? Format::kJsonOrBinary : Format::kBinary;
  }
  return Format::kBinary;
}

// The JSON parser reports a bad enum name as `invalid value "X" for type
// type.googleapis.com/<full type name>`; it is an unknown enum when that type is one of
// our enums.
bool NamesUnknownEnumValue(const std::string& text) {
  constexpr std::string_view kTypePrefix = "type.googleapis.com/";
  const size_t at = text.find(kTypePrefix);
  if (text.find("invalid value") == std::string::npos || at == std::string::npos) return false;
  size_t end = at + kTypePrefix.size();
  while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) ||
                               text[end] == '.' || text[end] == '_')) {
    ++end;
  }
  const std::string type = text.substr(at + kTypePrefix.size(), end - at - kTypePrefix.size());
  return google::protobuf::DescriptorPool::generated_pool()->FindEnumTypeByName(type) != nullptr;
}

google::protobuf::util::Status ParseJsonInto(std::string_view payload, Message* msg) {
  google::protobuf::util::JsonParseOptions opts;
  // Strict: a misspelt field or an enum name outside the contract is an error, not a
  // silently defaulted value. (Binary input stays forward compatible.)
  opts.ignore_unknown_fields = false;
  return google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(payload.data(), payload.size()), msg, opts);
}

std::optional<Rejection> ParseJson(std::string_view payload, Message* msg) {
  const auto status = ParseJsonInto(payload, msg);
  if (status.ok()) return std::nullopt;
  const std::string text(status.message());
  return Reject(NamesUnknownEnumValue(text) ? v1::DEAD_LETTER_REASON_UNKNOWN_ENUM
                                            : v1::DEAD_LETTER_REASON_INVALID_JSON,
                "JSON: " + text);
}

// A complete JSON value (string, number, true, false, null, array, object)?
bool IsJsonValue(std::string_view payload) {
  google::protobuf::Value value;
  return ParseJsonInto(payload, &value).ok();
}

bool ParsesAsBinary(std::string_view payload, Message* msg) {
  msg->Clear();
  return msg->ParseFromArray(payload.data(), static_cast<int>(payload.size()));
}

// Why binary parsing failed, as a Rejection.
Rejection BinaryFailure(std::string_view payload, const Message& msg) {
  if (IsJsonValue(payload)) {
    return Reject(v1::DEAD_LETTER_REASON_INVALID_JSON,
                  "JSON: expected an object for " + msg.GetTypeName() + ", got another JSON value");
  }
  switch (CheckWireFormat(payload)) {
    case WireFormatVerdict::kTruncated:
      return Reject(v1::DEAD_LETTER_REASON_TRUNCATED,
                    "binary protobuf ends in the middle of a field (" +
                        std::to_string(payload.size()) + " bytes)");
    case WireFormatVerdict::kMalformed:
      return Reject(v1::DEAD_LETTER_REASON_UNDECODABLE,
                    "neither JSON nor valid binary protobuf for " + msg.GetTypeName());
    case WireFormatVerdict::kWellFormed:
      break;
  }
  // Well-formed wire format that the message rejects: a string field that is not UTF-8
  // or a field whose wire type contradicts the schema.
  return Reject(v1::DEAD_LETTER_REASON_INVALID_FIELD,
                "binary protobuf does not match " + msg.GetTypeName() +
                    " (wrong wire type or a string field that is not UTF-8)");
}

std::optional<Rejection> Parse(std::string_view payload, Message* msg) {
  switch (FormatOf(payload)) {
    case Format::kJson:
      return ParseJson(payload, msg);
    case Format::kJsonOrBinary: {
      auto json = ParseJson(payload, msg);
      if (!json || ParsesAsBinary(payload, msg)) return std::nullopt;
      return json;
    }
    case Format::kBinary:
      if (ParsesAsBinary(payload, msg)) return std::nullopt;
      return BinaryFailure(payload, *msg);
  }
  return Reject(v1::DEAD_LETTER_REASON_UNSPECIFIED, "unknown format");
}

template <typename M>
std::optional<Rejection> DecodeAs(std::string_view payload, std::string_view key,
                                  const ValidationOptions& options, int64_t now_ms, M* msg) {
  msg->Clear();
  if (auto parsed = Parse(payload, msg)) return parsed;
  return Validate(*msg, key, options, now_ms);
}

}  // namespace

std::string_view TopicKindName(TopicKind kind) {
  switch (kind) {
    case TopicKind::kWeb:
      return "web";
    case TopicKind::kApp:
      return "app";
    case TopicKind::kLink:
      return "link";
    case TopicKind::kProfile:
      return "profile";
    case TopicKind::kHandoff:
      return "handoff";
  }
  return "unknown";
}

std::optional<Rejection> Decoder::Decode(TopicKind kind, std::string_view payload,
                                         std::string_view key, int64_t now_ms,
                                         DecodedMessage* out) const {
  out->kind = kind;
  if (payload.size() > options_.max_payload_bytes) {
    return Reject(v1::DEAD_LETTER_REASON_OVERSIZE, "payload has " + std::to_string(payload.size()) +
                                                       " bytes, limit " +
                                                       std::to_string(options_.max_payload_bytes));
  }
  if (payload.empty()) return Reject(v1::DEAD_LETTER_REASON_UNDECODABLE, "empty payload");
  switch (kind) {
    case TopicKind::kWeb:
      return DecodeAs(payload, key, options_, now_ms, &out->web);
    case TopicKind::kApp:
      return DecodeAs(payload, key, options_, now_ms, &out->app);
    case TopicKind::kLink:
      return DecodeAs(payload, key, options_, now_ms, &out->link);
    case TopicKind::kProfile:
      return DecodeAs(payload, key, options_, now_ms, &out->profile);
    case TopicKind::kHandoff:
      return DecodeAs(payload, key, options_, now_ms, &out->handoff);
  }
  return Reject(v1::DEAD_LETTER_REASON_UNSPECIFIED, "unknown topic kind");
}

}  // namespace intentstream::ingest
