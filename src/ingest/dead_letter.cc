#include "ingest/dead_letter.h"

namespace intentstream::ingest {

v1::DeadLetter MakeDeadLetter(const SourceRef& source, std::string_view payload,
                              std::string_view key, const Rejection& rejection, int64_t now_ms,
                              std::string_view processor_version) {
  v1::DeadLetter dl;
  dl.set_original_payload(payload.data(), payload.size());
  dl.set_original_key(key.data(), key.size());
  dl.set_source_topic(source.topic.data(), source.topic.size());
  dl.set_source_partition(source.partition.value);
  dl.set_source_offset(source.offset.value);
  dl.set_reason(rejection.reason);
  dl.set_detail(rejection.detail);
  dl.mutable_received_time()->set_seconds(now_ms / 1000);
  dl.mutable_received_time()->set_nanos(static_cast<int32_t>(now_ms % 1000) * 1000000);
  dl.set_processor_version(processor_version.data(), processor_version.size());
  return dl;
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
