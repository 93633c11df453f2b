#include "sim/stats_report.h"

#include <cstdio>

#include "intentstream/v1/events.pb.h"

namespace intentstream::sim {

namespace {
void Line(std::string* out, const char* fmt, auto... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, args...);
  out->append(buf);
}
double Ratio(uint64_t a, uint64_t b) {
  return b == 0 ? 0.0 : static_cast<double>(a) / b;
}
}  // namespace

std::string FormatStats(const WorldStats& s) {
  std::string out;
  uint64_t total = 0;
  for (uint64_t n : s.records_by_topic) total += n;
  Line(&out, "%-42s %12s %8s\n", "records by topic and type", "count", "share");
  Line(&out, "%-42s %12s %8s\n", "------------------------------------------", "------------",
       "--------");
  auto row = [&](const std::string& name, uint64_t n) {
    Line(&out, "%-42s %12llu %7.2f%%\n", name.c_str(), static_cast<unsigned long long>(n),
         100.0 * Ratio(n, total));
  };
  for (size_t t = 0; t < kTopicCount; ++t) {
    row(std::string(TopicName(static_cast<Topic>(t))), s.records_by_topic[t]);
    if (t == static_cast<size_t>(Topic::kWeb)) {
      for (int k = 1; k <= v1::WebEventType_MAX; ++k) {
        if (s.web_by_type[k]) row("  " + v1::WebEventType_Name(k), s.web_by_type[k]);
      }
    } else if (t == static_cast<size_t>(Topic::kApp)) {
      for (int k = 1; k <= v1::AppAction_MAX; ++k) {
        if (s.app_by_type[k]) row("  " + v1::AppAction_Name(k), s.app_by_type[k]);
      }
    } else if (t == static_cast<size_t>(Topic::kLink)) {
      for (int k = 1; k <= v1::LinkMethod_MAX; ++k) {
        if (s.link_by_method[k]) row("  " + v1::LinkMethod_Name(k), s.link_by_method[k]);
      }
    }
  }
  row("total", total);
  out += "\n";
  const uint64_t human_web = s.web_sessions - s.bot_sessions;
  Line(&out, "%-42s %12llu\n", "web sessions (humans)", static_cast<unsigned long long>(human_web));
  Line(&out, "%-42s %12llu\n", "web sessions (bots)",
       static_cast<unsigned long long>(s.bot_sessions));
  Line(&out, "%-42s %12llu\n", "app sessions", static_cast<unsigned long long>(s.app_sessions));
  Line(&out, "%-42s %12.2f\n", "web sessions per anonymous id",
       Ratio(s.web_sessions, s.anonymous_ids));
  Line(&out, "%-42s %12.2f\n", "app sessions per active app customer",
       Ratio(s.app_sessions, s.customers_with_app_sessions));
  Line(&out, "%-42s %11.2f%%\n", "anonymous ids linked to a customer",
       100.0 * Ratio(s.linked_anonymous_ids, s.anonymous_ids));
  Line(&out, "%-42s %11.2f%%\n", "human web sessions ending in a link",
       100.0 * Ratio(s.linked_web_sessions, human_web));
  out += "\n";
  Line(&out, "%-22s %10s %12s %10s\n", "intent", "episodes", "conversions", "rate");
  Line(&out, "%-22s %10s %12s %10s\n", "----------------------", "----------", "------------",
       "----------");
  uint64_t episodes = 0, conversions = 0;
  for (size_t i = 0; i < kIntentCount; ++i) {
    const auto intent = static_cast<Intent>(i);
    const std::string name(IntentName(intent));
    episodes += s.episodes[i];
    conversions += s.conversions[i];
    if (intent == Intent::kEverydayServicing) {
      Line(&out, "%-22s %10s %12llu %10s\n", name.c_str(), "-",
           static_cast<unsigned long long>(s.conversions[i]), "(impulse)");
    } else {
      Line(&out, "%-22s %10llu %12llu %9.1f%%\n", name.c_str(),
           static_cast<unsigned long long>(s.episodes[i]),
           static_cast<unsigned long long>(s.conversions[i]),
           100.0 * Ratio(s.conversions[i], s.episodes[i]));
    }
  }
  Line(&out, "%-22s %10llu %12llu\n", "all", static_cast<unsigned long long>(episodes),
       static_cast<unsigned long long>(conversions));
  return out;
}

}  // namespace intentstream::sim
