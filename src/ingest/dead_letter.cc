#include "ingest/dead_letter.h"

#include "ingest/digest.h"
#include "ingest/printable.h"

namespace intentstream::ingest {

namespace {
// Kafka topic names are at most 249 characters; the version is a short string. Both are
// cut so that MaxDeadLetterBytes() holds for any caller.
constexpr size_t kMaxTopicBytes = 255;
constexpr size_t kMaxVersionBytes = 128;
constexpr size_t kFixedFieldsAllowance = 2048;
static_assert(kMaxTopicBytes + kMaxVersionBytes + 64 + 200 < kFixedFieldsAllowance);
}  // namespace

v1::DeadLetter MakeDeadLetter(const SourceRef& source, std::string_view payload,
                              std::string_view key, const Rejection& rejection, int64_t now_ms,
                              std::string_view processor_version,
                              const ValidationOptions& options) {
  v1::DeadLetter dl;
  const std::string_view kept_payload = payload.substr(0, options.max_dead_letter_payload_bytes);
  dl.set_original_payload(kept_payload.data(), kept_payload.size());
  dl.set_payload_truncated(kept_payload.size() < payload.size());
  dl.set_original_size_bytes(payload.size());
  dl.set_payload_sha256(Sha256Hex(payload));
  const std::string_view kept_key = key.substr(0, options.max_dead_letter_key_bytes);
  dl.set_original_key(kept_key.data(), kept_key.size());
  dl.set_key_truncated(kept_key.size() < key.size());
  dl.set_original_key_size_bytes(key.size());
  dl.set_source_topic(PrintableText(source.topic, kMaxTopicBytes));
  dl.set_source_partition(source.partition.value);
  dl.set_source_offset(source.offset.value);
  dl.set_reason(rejection.reason);
  dl.set_detail(PrintableText(rejection.detail, kMaxDeadLetterDetailBytes));
  // Floor division, so a clock before 1970 still gives nanos in [0, 1e9).
  const int64_t seconds = now_ms / 1000 - (now_ms % 1000 < 0 ? 1 : 0);
  dl.mutable_received_time()->set_seconds(seconds);
  dl.mutable_received_time()->set_nanos(static_cast<int32_t>(now_ms - seconds * 1000) * 1000000);
  dl.set_processor_version(PrintableText(processor_version, kMaxVersionBytes));
  return dl;
}

size_t MaxDeadLetterBytes(const ValidationOptions& options) {
  // Each capped field costs its bytes plus a tag and a length varint (<= 11 bytes).
  return options.max_dead_letter_payload_bytes + options.max_dead_letter_key_bytes +
         kMaxDeadLetterDetailBytes + kFixedFieldsAllowance;
}

std::string_view DeadLetterReasonLabel(v1::DeadLetterReason reason) {
  switch (reason) {
    case v1::DEAD_LETTER_REASON_UNDECODABLE:
      return "undecodable";
    case v1::DEAD_LETTER_REASON_INVALID_JSON:
      return "invalid_json";
    case v1::DEAD_LETTER_REASON_TRUNCATED:
      return "truncated";
    case v1::DEAD_LETTER_REASON_UNKNOWN_ENUM:
      return "unknown_enum";
    case v1::DEAD_LETTER_REASON_MISSING_FIELD:
      return "missing_field";
    case v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP:
      return "invalid_timestamp";
    case v1::DEAD_LETTER_REASON_OVERSIZE:
      return "oversize";
    case v1::DEAD_LETTER_REASON_INVALID_FIELD:
      return "invalid_field";
    case v1::DEAD_LETTER_REASON_KEY_MISMATCH:
      return "key_mismatch";
    case v1::DEAD_LETTER_REASON_WRONG_PARTITION:
      return "wrong_partition";
    case v1::DEAD_LETTER_REASON_UNDELIVERABLE_OUTPUT:
      return "undeliverable_output";
    case v1::DEAD_LETTER_REASON_UNSPECIFIED:
    case v1::DeadLetterReason_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::DeadLetterReason_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
  return "unspecified";
}

}  // namespace intentstream::ingest
