#include "sim/options.h"

#include <sstream>

#include "sim/catalog.h"

namespace intentstream::sim {

namespace {
template <typename T>
std::string Bad(const char* flag, const char* rule, T got) {
  std::ostringstream out;
  out << flag << " must be " << rule << " (got " << got << ")";
  return out.str();
}
}  // namespace

std::string WorldOptions::Validate() const {
  if (customers < 1) return Bad("--customers", ">= 1", customers);
  if (customers > 100'000'000) return Bad("--customers", "<= 100000000", customers);
  if (!(prospect_ratio >= 0 && prospect_ratio <= 100))
    return Bad("--prospect-ratio", "in [0, 100]", prospect_ratio);
  if (!(bot_ratio >= 0 && bot_ratio <= 10)) return Bad("--bot-ratio", "in [0, 10]", bot_ratio);
  if (days < 1 || days > 3650) return Bad("--days", "in [1, 3650]", days);
  if (start_time_ms < 0) return Bad("--start-time-ms", ">= 0", start_time_ms);
  if (!(intent_start_rate >= 0 && intent_start_rate <= 1))
    return Bad("--intent-rate", "in [0, 1]", intent_start_rate);
  if (!(app_sessions_per_day >= 0 && app_sessions_per_day <= 50))
    return Bad("--app-sessions-per-day", "in [0, 50]", app_sessions_per_day);
  if (!(web_sessions_per_day >= 0 && web_sessions_per_day <= 50))
    return Bad("--web-sessions-per-day", "in [0, 50]", web_sessions_per_day);
  if (!(activity_sigma >= 0 && activity_sigma <= 3))
    return Bad("--activity-sigma", "in [0, 3]", activity_sigma);
  if (max_records < 0) return Bad("--max-events", ">= 0", max_records);
  for (const auto& name : intents) {
    if (!IntentFromName(name)) {
      std::string known;
      for (const auto& spec : Intents()) {
        if (!known.empty()) known += ", ";
        known += spec.name;
      }
      return "--intents: unknown intent \"" + name + "\" (known: " + known + ")";
    }
  }
  return "";
}

int64_t StartEndingAtLastMidnight(int64_t now_ms, int32_t days) {
  constexpr int64_t kDayMs = 86'400'000;
  return (now_ms / kDayMs) * kDayMs - static_cast<int64_t>(days) * kDayMs;
}

}  // namespace intentstream::sim
