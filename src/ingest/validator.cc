#include "ingest/validator.h"

#include "ingest/printable.h"
#include "ingest/session_event.h"

namespace intentstream::ingest {

namespace {

// A field's name as a detail spells it: "url_path", "products_held[3]",
// "events[2].category". Built only when a check fails.
struct Field {
  Field(std::string_view name, int index = -1, std::string_view member = {})
      : name(name), index(index), member(member) {}

  std::string_view name;
  int index;
  std::string_view member;

  std::string str() const {
    std::string s(name);
    if (index >= 0) s += "[" + std::to_string(index) + "]";
    if (!member.empty()) s += "." + std::string(member);
    return s;
  }
};

class Checker {
 public:
  Checker(const ValidationOptions& opts, int64_t now_ms) : opts_(opts), now_ms_(now_ms) {}

  // An id: at most max_id_bytes, no control characters; `required`: not empty.
  std::optional<Rejection> Id(Field f, const std::string& value, bool required) const {
    if (value.empty()) {
      if (!required) return std::nullopt;
      return Reject(v1::DEAD_LETTER_REASON_MISSING_FIELD, f.str() + " is empty");
    }
    if (auto r = Bytes(f, value, opts_.max_id_bytes)) return r;
    for (char c : value) {
      if (static_cast<unsigned char>(c) < 0x20) {
        return Reject(v1::DEAD_LETTER_REASON_INVALID_FIELD,
                      f.str() + " contains a control character");
      }
    }
    return std::nullopt;
  }

  std::optional<Rejection> Bytes(Field f, const std::string& value, size_t limit) const {
    if (value.size() <= limit) return std::nullopt;
    return Reject(v1::DEAD_LETTER_REASON_OVERSIZE, f.str() + " has " +
                                                       std::to_string(value.size()) +
                                                       " bytes, limit " + std::to_string(limit));
  }
  std::optional<Rejection> Text(Field f, const std::string& value) const {
    return Bytes(f, value, opts_.max_text_bytes);
  }
  std::optional<Rejection> Label(Field f, const std::string& value) const {
    return Bytes(f, value, opts_.max_label_bytes);
  }

  std::optional<Rejection> Count(Field f, int items, size_t limit) const {
    if (static_cast<size_t>(items) <= limit) return std::nullopt;
    return Reject(v1::DEAD_LETTER_REASON_OVERSIZE, f.str() + " has " + std::to_string(items) +
                                                       " items, limit " + std::to_string(limit));
  }

  // A repeated string field: at most max_list_items, each element non-empty and within
  // `limit` bytes (ids also without control characters).
  template <typename Items>
  std::optional<Rejection> List(std::string_view name, const Items& items, bool ids) const {
    if (auto r = Count({name}, items.size(), opts_.max_list_items)) return r;
    for (int i = 0; i < items.size(); ++i) {
      const Field f{name, i};
      if (items[i].empty())
        return Reject(v1::DEAD_LETTER_REASON_INVALID_FIELD, f.str() + " is empty");
      if (auto r = ids ? Id(f, items[i], true) : Label(f, items[i])) return r;
    }
    return std::nullopt;
  }

  std::optional<Rejection> AtMost(Field f, uint64_t value, uint64_t limit) const {
    if (value <= limit) return std::nullopt;
    return Reject(
        v1::DEAD_LETTER_REASON_INVALID_FIELD,
        f.str() + " " + std::to_string(value) + " above the limit " + std::to_string(limit));
  }

  // A Timestamp: present, inside protobuf's valid range (checked before any arithmetic),
  // then within the allowed skew of the processor clock.
  std::optional<Rejection> Time(Field f, bool present,
                                const google::protobuf::Timestamp& ts) const {
    if (!present) return Reject(v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP, f.str() + " is missing");
    if (ts.seconds() < kMinTimestampSeconds || ts.seconds() > kMaxTimestampSeconds) {
      return Reject(v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP,
                    f.str() + " seconds " + std::to_string(ts.seconds()) +
                        " outside the Timestamp range [" + std::to_string(kMinTimestampSeconds) +
                        ", " + std::to_string(kMaxTimestampSeconds) + "]");
    }
    if (ts.nanos() < 0 || ts.nanos() > 999'999'999) {
      return Reject(v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP,
                    f.str() + " nanos " + std::to_string(ts.nanos()) + " outside [0, 999999999]");
    }
    const int64_t ms = TimestampToMillis(ts);
    if (ms - opts_.max_future_skew_ms > now_ms_) {
      return Reject(v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP,
                    f.str() + " is " + std::to_string((ms - now_ms_) / 1000) + " s in the future");
    }
    if (ms + opts_.max_event_age_ms < now_ms_) {
      return Reject(v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP,
                    f.str() + " is older than the allowed event age");
    }
    return std::nullopt;
  }

  // Unix milliseconds (internal formats): inside the valid Timestamp range.
  std::optional<Rejection> Millis(Field f, int64_t ms) const {
    if (ms >= kMinTimestampMillis && ms <= kMaxTimestampMillis) return std::nullopt;
    return Reject(v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP,
                  f.str() + " " + std::to_string(ms) + " outside the Timestamp range [" +
                      std::to_string(kMinTimestampMillis) + ", " +
                      std::to_string(kMaxTimestampMillis) + "]");
  }

  // `required`: UNSPECIFIED (0) is a missing field.
  template <typename IsValid>
  std::optional<Rejection> Enum(Field f, int value, IsValid is_valid, bool required) const {
    if (!is_valid(value)) {
      return Reject(v1::DEAD_LETTER_REASON_UNKNOWN_ENUM,
                    f.str() + " has unknown value " + std::to_string(value));
    }
    if (required && value == 0)
      return Reject(v1::DEAD_LETTER_REASON_MISSING_FIELD, f.str() + " is missing");
    return std::nullopt;
  }

  // The Kafka key is required (co-partitioning needs it) and equals the keyed id.
  std::optional<Rejection> Key(std::string_view key, std::string_view id_field,
                               const std::string& id) const {
    if (key.empty()) return Reject(v1::DEAD_LETTER_REASON_MISSING_FIELD, "message key is empty");
    if (key == id) return std::nullopt;
    return Reject(v1::DEAD_LETTER_REASON_KEY_MISMATCH,
                  "message key '" + PrintableText(key, 64) + "' differs from " +
                      std::string(id_field) + " '" + PrintableText(id, 64) + "'");
  }

  uint32_t max_dwell_ms() const { return opts_.max_dwell_ms; }

 private:
  const ValidationOptions& opts_;
  int64_t now_ms_;
};

// Runs checks in order and returns the first rejection.
#define IS_CHECK(expr)                \
  do {                                \
    if (auto r = (expr); r) return r; \
  } while (0)

// One event of a hand-off's window, as the sending processor took it from its state.
std::optional<Rejection> ValidateHandoffEvent(const v1::SessionEvent& e, int i, const Checker& c) {
  IS_CHECK(c.Millis({"events", i, "time_ms"}, e.time_ms()));
  IS_CHECK(c.Enum({"events", i, "source"}, e.source(), v1::Source_IsValid, false));
  // event_type holds a WebEventType or an AppAction, as a uint32.
  const uint32_t type = e.event_type();
  const bool type_is_valid =
      type <= 0x7fffffffu &&
      (e.source() == v1::SOURCE_APP ? v1::AppAction_IsValid(static_cast<int>(type))
                                    : v1::WebEventType_IsValid(static_cast<int>(type)));
  if (!type_is_valid) {
    return Reject(
        v1::DEAD_LETTER_REASON_UNKNOWN_ENUM,
        Field{"events", i, "event_type"}.str() + " has unknown value " + std::to_string(type));
  }
  IS_CHECK(c.Text({"events", i, "category"}, e.category()));
  IS_CHECK(c.Id({"events", i, "product"}, e.product(), false));
  IS_CHECK(c.Count({"events", i, "query_term_hashes"}, e.query_term_hashes_size(), kMaxQueryTerms));
  IS_CHECK(c.AtMost({"events", i, "dwell_ms"}, e.dwell_ms(), c.max_dwell_ms()));
  IS_CHECK(c.Enum({"events", i, "device"}, e.device(), v1::Device_IsValid, false));
  IS_CHECK(c.Label({"events", i, "channel"}, e.channel()));
  return std::nullopt;
}

}  // namespace

Rejection Reject(v1::DeadLetterReason reason, std::string_view detail) {
  return Rejection{reason, PrintableText(detail, kMaxDeadLetterDetailBytes)};
}

std::optional<Rejection> Validate(const v1::WebEvent& e, std::string_view key,
                                  const ValidationOptions& o, int64_t now_ms) {
  const Checker c(o, now_ms);
  IS_CHECK(c.Id({"event_id"}, e.event_id(), true));
  IS_CHECK(c.Id({"anonymous_id"}, e.anonymous_id(), true));
  IS_CHECK(c.Key(key, "anonymous_id", e.anonymous_id()));
  IS_CHECK(c.Id({"session_id"}, e.session_id(), false));
  IS_CHECK(c.Time({"event_time"}, e.has_event_time(), e.event_time()));
  IS_CHECK(c.Enum({"event_type"}, e.event_type(), v1::WebEventType_IsValid, true));
  IS_CHECK(c.Text({"url_path"}, e.url_path()));
  IS_CHECK(c.Text({"referrer"}, e.referrer()));
  IS_CHECK(c.Text({"page_title"}, e.page_title()));
  IS_CHECK(c.Label({"page_category"}, e.page_category()));
  IS_CHECK(c.Text({"search_query"}, e.search_query()));
  IS_CHECK(c.AtMost({"dwell_ms"}, e.dwell_ms(), o.max_dwell_ms));
  IS_CHECK(c.Enum({"device"}, e.device(), v1::Device_IsValid, false));
  IS_CHECK(c.Label({"channel"}, e.channel()));
  IS_CHECK(c.Label({"utm_campaign"}, e.utm_campaign()));
  IS_CHECK(c.Id({"product_code"}, e.product_code(), false));
  return std::nullopt;
}

std::optional<Rejection> Validate(const v1::AppEvent& e, std::string_view key,
                                  const ValidationOptions& o, int64_t now_ms) {
  const Checker c(o, now_ms);
  IS_CHECK(c.Id({"event_id"}, e.event_id(), true));
  IS_CHECK(c.Id({"customer_id"}, e.customer_id(), true));
  IS_CHECK(c.Key(key, "customer_id", e.customer_id()));
  IS_CHECK(c.Id({"device_id"}, e.device_id(), false));
  IS_CHECK(c.Time({"event_time"}, e.has_event_time(), e.event_time()));
  IS_CHECK(c.Enum({"device"}, e.device(), v1::Device_IsValid, false));
  IS_CHECK(c.Label({"screen"}, e.screen()));
  IS_CHECK(c.Enum({"action"}, e.action(), v1::AppAction_IsValid, true));
  IS_CHECK(c.Id({"tile_id"}, e.tile_id(), false));
  IS_CHECK(c.Id({"offer_id"}, e.offer_id(), false));
  IS_CHECK(c.Id({"product_code"}, e.product_code(), false));
  IS_CHECK(c.AtMost({"dwell_ms"}, e.dwell_ms(), o.max_dwell_ms));
  IS_CHECK(c.Text({"search_query"}, e.search_query()));
  const bool tile_action = e.action() == v1::APP_ACTION_TILE_IMPRESSION ||
                           e.action() == v1::APP_ACTION_TILE_CLICK ||
                           e.action() == v1::APP_ACTION_TILE_DISMISS;
  if (tile_action && e.offer_id().empty()) {
    return Reject(v1::DEAD_LETTER_REASON_MISSING_FIELD, "offer_id is empty for a tile action");
  }
  return std::nullopt;
}

std::optional<Rejection> Validate(const v1::IdentityLink& e, std::string_view key,
                                  const ValidationOptions& o, int64_t now_ms) {
  const Checker c(o, now_ms);
  IS_CHECK(c.Id({"event_id"}, e.event_id(), true));
  IS_CHECK(c.Id({"anonymous_id"}, e.anonymous_id(), true));
  IS_CHECK(c.Id({"customer_id"}, e.customer_id(), true));
  IS_CHECK(c.Key(key, "anonymous_id", e.anonymous_id()));
  IS_CHECK(c.Time({"event_time"}, e.has_event_time(), e.event_time()));
  IS_CHECK(c.Enum({"method"}, e.method(), v1::LinkMethod_IsValid, false));
  return std::nullopt;
}

std::optional<Rejection> Validate(const v1::CustomerProfile& p, std::string_view key,
                                  const ValidationOptions& o, int64_t now_ms) {
  const Checker c(o, now_ms);
  IS_CHECK(c.Id({"customer_id"}, p.customer_id(), true));
  IS_CHECK(c.Key(key, "customer_id", p.customer_id()));
  IS_CHECK(c.Time({"updated_time"}, p.has_updated_time(), p.updated_time()));
  IS_CHECK(c.Enum({"age_band"}, p.age_band(), v1::AgeBand_IsValid, false));
  IS_CHECK(c.Enum({"income_band"}, p.income_band(), v1::IncomeBand_IsValid, false));
  IS_CHECK(c.AtMost({"tenure_months"}, p.tenure_months(), kMaxTenureMonths));
  IS_CHECK(c.List("products_held", p.products_held(), /*ids=*/true));
  IS_CHECK(c.List("opted_out_channels", p.opted_out_channels(), /*ids=*/false));
  IS_CHECK(c.Enum({"risk_appetite"}, p.risk_appetite(), v1::RiskAppetite_IsValid, false));
  if (p.credit_grade() > kMaxCreditGrade) {
    return Reject(v1::DEAD_LETTER_REASON_INVALID_FIELD,
                  "credit_grade " + std::to_string(p.credit_grade()) + " outside 0..10");
  }
  IS_CHECK(c.Label({"monitoring", -1, "gender"}, p.monitoring().gender()));
  return std::nullopt;
}

std::optional<Rejection> Validate(const v1::IdentityHandoff& h, std::string_view key,
                                  const ValidationOptions& o, int64_t now_ms) {
  const Checker c(o, now_ms);
  IS_CHECK(c.Id({"handoff_id"}, h.handoff_id(), true));
  IS_CHECK(c.Id({"anonymous_id"}, h.anonymous_id(), true));
  IS_CHECK(c.Id({"customer_id"}, h.customer_id(), true));
  IS_CHECK(c.Key(key, "customer_id", h.customer_id()));
  IS_CHECK(c.Millis({"link_time_ms"}, h.link_time_ms()));
  IS_CHECK(c.Millis({"event_time_ms"}, h.event_time_ms()));
  if (h.has_watermark()) {
    if (h.watermark().task() < 0) {
      return Reject(v1::DEAD_LETTER_REASON_INVALID_FIELD, "watermark.task is negative");
    }
    IS_CHECK(c.AtMost({"watermark", -1, "task"}, static_cast<uint64_t>(h.watermark().task()),
                      kMaxTasks));
    IS_CHECK(c.Millis({"watermark", -1, "watermark_ms"}, h.watermark().watermark_ms()));
  }
  IS_CHECK(c.Count({"events"}, h.events_size(), o.max_handoff_events));
  for (int i = 0; i < h.events_size(); ++i) IS_CHECK(ValidateHandoffEvent(h.events(i), i, c));
  return std::nullopt;
}

#undef IS_CHECK

}  // namespace intentstream::ingest
