#include "ingest/decoder.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include <cctype>

#include "ingest/wire_format_check.h"

namespace intentstream::ingest {

namespace {

using google::protobuf::Message;

Rejection Reject(v1::DeadLetterReason reason, std::string detail) {
  return Rejection{reason, std::move(detail)};
}

bool LooksLikeJson(std::string_view payload) {
  for (char c : payload) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    return c == '{';
  }
  return false;
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

std::optional<Rejection> ParseJson(std::string_view payload, Message* msg) {
  google::protobuf::util::JsonParseOptions opts;
  // Strict: a misspelt field or an enum name outside the contract is an error, not a
  // silently defaulted value. (Binary input stays forward compatible.)
  opts.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(payload.data(), payload.size()), msg, opts);
  if (status.ok()) return std::nullopt;
  const std::string text(status.message());
  return Reject(NamesUnknownEnumValue(text) ? v1::DEAD_LETTER_REASON_UNKNOWN_ENUM
                                            : v1::DEAD_LETTER_REASON_INVALID_JSON,
                "JSON: " + text);
}

std::optional<Rejection> ParseBinary(std::string_view payload, Message* msg) {
  if (msg->ParseFromArray(payload.data(), static_cast<int>(payload.size()))) return std::nullopt;
  switch (CheckWireFormat(payload)) {
    case WireFormatVerdict::kTruncated:
      return Reject(v1::DEAD_LETTER_REASON_TRUNCATED,
                    "binary protobuf ends in the middle of a field (" +
                        std::to_string(payload.size()) + " bytes)");
    case WireFormatVerdict::kMalformed:
      return Reject(v1::DEAD_LETTER_REASON_UNDECODABLE,
                    "neither JSON nor valid binary protobuf for " + msg->GetTypeName());
    case WireFormatVerdict::kWellFormed:
      break;
  }
  // Well-formed wire format that the message rejects: a string field that is not UTF-8
  // or a field whose wire type contradicts the schema.
  return Reject(v1::DEAD_LETTER_REASON_INVALID_FIELD,
                "binary protobuf does not match " + msg->GetTypeName() +
                    " (wrong wire type or a string field that is not UTF-8)");
}

class Checker {
 public:
  Checker(const ValidationOptions& opts, int64_t now_ms) : opts_(opts), now_ms_(now_ms) {}

  std::optional<Rejection> RequiredId(std::string_view field, const std::string& value) const {
    if (value.empty())
      return Reject(v1::DEAD_LETTER_REASON_MISSING_FIELD, std::string(field) + " is empty");
    if (value.size() > opts_.max_id_bytes) {
      return Reject(v1::DEAD_LETTER_REASON_OVERSIZE,
                    std::string(field) + " has " + std::to_string(value.size()) + " bytes, limit " +
                        std::to_string(opts_.max_id_bytes));
    }
    for (char c : value) {
      if (static_cast<unsigned char>(c) < 0x20) {
        return Reject(v1::DEAD_LETTER_REASON_INVALID_FIELD,
                      std::string(field) + " contains a control character");
      }
    }
    return std::nullopt;
  }

  std::optional<Rejection> OptionalId(std::string_view field, const std::string& value) const {
    if (value.empty()) return std::nullopt;
    return RequiredId(field, value);
  }

  std::optional<Rejection> Text(std::string_view field, const std::string& value) const {
    if (value.size() > opts_.max_text_bytes) {
      return Reject(v1::DEAD_LETTER_REASON_OVERSIZE,
                    std::string(field) + " has " + std::to_string(value.size()) + " bytes, limit " +
                        std::to_string(opts_.max_text_bytes));
    }
    return std::nullopt;
  }

  std::optional<Rejection> Time(std::string_view field, bool present,
                                const google::protobuf::Timestamp& ts) const {
    if (!present)
      return Reject(v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP, std::string(field) + " is missing");
    if (ts.nanos() < 0 || ts.nanos() > 999999999) {
      return Reject(v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP,
                    std::string(field) + " has invalid nanos");
    }
    const int64_t ms = ts.seconds() * 1000 + ts.nanos() / 1000000;
    if (ms > now_ms_ + opts_.max_future_skew_ms) {
      return Reject(
          v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP,
          std::string(field) + " is " + std::to_string((ms - now_ms_) / 1000) + " s in the future");
    }
    if (ms < now_ms_ - opts_.max_event_age_ms) {
      return Reject(v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP,
                    std::string(field) + " is older than the allowed event age");
    }
    return std::nullopt;
  }

  // `required`: UNSPECIFIED (0) is a missing field.
  template <typename IsValid>
  std::optional<Rejection> Enum(std::string_view field, int value, IsValid is_valid,
                                bool required) const {
    if (!is_valid(value)) {
      return Reject(v1::DEAD_LETTER_REASON_UNKNOWN_ENUM,
                    std::string(field) + " has unknown value " + std::to_string(value));
    }
    if (required && value == 0)
      return Reject(v1::DEAD_LETTER_REASON_MISSING_FIELD, std::string(field) + " is missing");
    return std::nullopt;
  }

  std::optional<Rejection> Key(std::string_view key, std::string_view id_field,
                               const std::string& id) const {
    if (key.empty() || key == id) return std::nullopt;
    return Reject(v1::DEAD_LETTER_REASON_KEY_MISMATCH,
                  "message key '" + std::string(key.substr(0, 64)) + "' differs from " +
                      std::string(id_field) + " '" + id.substr(0, 64) + "'");
  }

 private:
  const ValidationOptions& opts_;
  int64_t now_ms_;
};

// Runs checks in order and returns the first rejection.
#define IS_CHECK(expr)                \
  do {                                \
    if (auto r = (expr); r) return r; \
  } while (0)

std::optional<Rejection> Validate(const v1::WebEvent& e, std::string_view key, const Checker& c) {
  IS_CHECK(c.RequiredId("event_id", e.event_id()));
  IS_CHECK(c.RequiredId("anonymous_id", e.anonymous_id()));
  IS_CHECK(c.Key(key, "anonymous_id", e.anonymous_id()));
  IS_CHECK(c.Time("event_time", e.has_event_time(), e.event_time()));
  IS_CHECK(c.Enum("event_type", e.event_type(), v1::WebEventType_IsValid, true));
  IS_CHECK(c.Enum("device", e.device(), v1::Device_IsValid, false));
  IS_CHECK(c.Text("url_path", e.url_path()));
  IS_CHECK(c.Text("referrer", e.referrer()));
  IS_CHECK(c.Text("page_title", e.page_title()));
  IS_CHECK(c.Text("search_query", e.search_query()));
  IS_CHECK(c.OptionalId("product_code", e.product_code()));
  return std::nullopt;
}

std::optional<Rejection> Validate(const v1::AppEvent& e, std::string_view key, const Checker& c) {
  IS_CHECK(c.RequiredId("event_id", e.event_id()));
  IS_CHECK(c.RequiredId("customer_id", e.customer_id()));
  IS_CHECK(c.Key(key, "customer_id", e.customer_id()));
  IS_CHECK(c.Time("event_time", e.has_event_time(), e.event_time()));
  IS_CHECK(c.Enum("action", e.action(), v1::AppAction_IsValid, true));
  IS_CHECK(c.Enum("device", e.device(), v1::Device_IsValid, false));
  IS_CHECK(c.Text("screen", e.screen()));
  IS_CHECK(c.Text("search_query", e.search_query()));
  IS_CHECK(c.OptionalId("tile_id", e.tile_id()));
  IS_CHECK(c.OptionalId("offer_id", e.offer_id()));
  IS_CHECK(c.OptionalId("product_code", e.product_code()));
  const bool tile_action = e.action() == v1::APP_ACTION_TILE_IMPRESSION ||
                           e.action() == v1::APP_ACTION_TILE_CLICK ||
                           e.action() == v1::APP_ACTION_TILE_DISMISS;
  if (tile_action && e.offer_id().empty()) {
    return Reject(v1::DEAD_LETTER_REASON_MISSING_FIELD, "offer_id is empty for a tile action");
  }
  return std::nullopt;
}

std::optional<Rejection> Validate(const v1::IdentityLink& e, std::string_view key,
                                  const Checker& c) {
  IS_CHECK(c.RequiredId("event_id", e.event_id()));
  IS_CHECK(c.RequiredId("anonymous_id", e.anonymous_id()));
  IS_CHECK(c.RequiredId("customer_id", e.customer_id()));
  IS_CHECK(c.Key(key, "anonymous_id", e.anonymous_id()));
  IS_CHECK(c.Time("event_time", e.has_event_time(), e.event_time()));
  IS_CHECK(c.Enum("method", e.method(), v1::LinkMethod_IsValid, false));
  return std::nullopt;
}

std::optional<Rejection> Validate(const v1::CustomerProfile& p, std::string_view key,
                                  const Checker& c) {
  IS_CHECK(c.RequiredId("customer_id", p.customer_id()));
  IS_CHECK(c.Key(key, "customer_id", p.customer_id()));
  IS_CHECK(c.Time("updated_time", p.has_updated_time(), p.updated_time()));
  IS_CHECK(c.Enum("age_band", p.age_band(), v1::AgeBand_IsValid, false));
  IS_CHECK(c.Enum("income_band", p.income_band(), v1::IncomeBand_IsValid, false));
  IS_CHECK(c.Enum("risk_appetite", p.risk_appetite(), v1::RiskAppetite_IsValid, false));
  if (p.credit_grade() > 10) {
    return Reject(v1::DEAD_LETTER_REASON_INVALID_FIELD,
                  "credit_grade " + std::to_string(p.credit_grade()) + " outside 0..10");
  }
  return std::nullopt;
}

std::optional<Rejection> Validate(const v1::IdentityHandoff& h, std::string_view key,
                                  const Checker& c) {
  IS_CHECK(c.RequiredId("handoff_id", h.handoff_id()));
  IS_CHECK(c.RequiredId("anonymous_id", h.anonymous_id()));
  IS_CHECK(c.RequiredId("customer_id", h.customer_id()));
  IS_CHECK(c.Key(key, "customer_id", h.customer_id()));
  return std::nullopt;
}

#undef IS_CHECK

template <typename M>
std::optional<Rejection> DecodeAs(std::string_view payload, std::string_view key, const Checker& c,
                                  M* msg) {
  msg->Clear();
  auto parsed = LooksLikeJson(payload) ? ParseJson(payload, msg) : ParseBinary(payload, msg);
  if (parsed) return parsed;
  return Validate(*msg, key, c);
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
  const Checker checker(options_, now_ms);
  switch (kind) {
    case TopicKind::kWeb:
      return DecodeAs(payload, key, checker, &out->web);
    case TopicKind::kApp:
      return DecodeAs(payload, key, checker, &out->app);
    case TopicKind::kLink:
      return DecodeAs(payload, key, checker, &out->link);
    case TopicKind::kProfile:
      return DecodeAs(payload, key, checker, &out->profile);
    case TopicKind::kHandoff:
      return DecodeAs(payload, key, checker, &out->handoff);
  }
  return Reject(v1::DEAD_LETTER_REASON_UNSPECIFIED, "unknown topic kind");
}

}  // namespace intentstream::ingest
