#include "teach/session_summary.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

namespace intentstream::teach {

namespace {

// "WEB_EVENT_TYPE_CALCULATOR_USE" -> "calculator use".
std::string TypeWords(const v1::SessionEvent& e) {
  std::string name = e.source() == v1::SOURCE_WEB
                         ? v1::WebEventType_Name(static_cast<v1::WebEventType>(e.event_type()))
                         : v1::AppAction_Name(static_cast<v1::AppAction>(e.event_type()));
  for (const char* prefix : {"WEB_EVENT_TYPE_", "APP_ACTION_"}) {
    if (name.rfind(prefix, 0) == 0) name = name.substr(std::string_view(prefix).size());
  }
  if (name.empty()) name = "event " + std::to_string(e.event_type());
  for (char& c : name) {
    c = c == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return name;
}

std::string Ago(int64_t ms) {
  char buf[48];
  const double minutes = static_cast<double>(ms) / 60'000.0;
  if (minutes < 90) {
    std::snprintf(buf, sizeof buf, "%.0f min before", std::max(0.0, minutes));
  } else if (minutes < 48 * 60) {
    std::snprintf(buf, sizeof buf, "%.1f hours before", minutes / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f days before", minutes / (24 * 60));
  }
  return buf;
}

std::string UtcMinute(int64_t ms, bool with_date) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, with_date ? "%Y-%m-%d %H:%M" : "%H:%M", &tm);
  return buf;
}

bool IsImpression(const v1::SessionEvent& e) {
  return e.source() == v1::SOURCE_APP && e.event_type() == v1::APP_ACTION_TILE_IMPRESSION;
}

// Lines for events [begin, end), impressions folded into the line before them and
// repeats counted.
void AppendLines(std::span<const v1::SessionEvent* const> events, size_t begin, size_t end,
                 int64_t end_ms, bool relative, const decide::IntentMatcher& matcher,
                 std::vector<std::string>* out) {
  std::string last;
  int repeats = 0;
  std::vector<std::string> tiles;
  auto flush = [&] {
    if (last.empty()) return;
    std::string line = last;
    if (!tiles.empty()) {
      line += "; tiles shown:";
      for (size_t i = 0; i < tiles.size(); ++i) line += (i ? ", " : " ") + tiles[i];
    }
    if (repeats > 1) line += " (x" + std::to_string(repeats) + ")";
    out->push_back("- " + line);
    last.clear();
    tiles.clear();
    repeats = 0;
  };
  for (size_t i = begin; i < end; ++i) {
    const v1::SessionEvent& e = *events[i];
    if (IsImpression(e)) {
      if (!e.product().empty()) tiles.push_back(e.product());
      continue;
    }
    std::string text = DescribeEvent(e, matcher);
    if (relative) text = Ago(end_ms - e.time_ms()) + ": " + text;
    if (text == last && tiles.empty()) {
      ++repeats;
      continue;
    }
    flush();
    last = std::move(text);
    repeats = 1;
  }
  flush();
}

}  // namespace

std::string DescribeEvent(const v1::SessionEvent& e, const decide::IntentMatcher& matcher) {
  std::string out = e.source() == v1::SOURCE_WEB ? "web " : "app ";
  out += TypeWords(e);
  if (e.query_term_hashes_size() > 0) {
    out += ":";
    int unknown = 0;
    for (uint32_t h : e.query_term_hashes()) {
      if (const std::string* term = matcher.TermOf(h)) {
        out += " \"" + *term + "\"";
      } else {
        ++unknown;
      }
    }
    if (unknown > 0) {
      out += " (+" + std::to_string(unknown) + (unknown == 1 ? " other term)" : " other terms)");
    }
    return out;
  }
  if (!e.category().empty()) out += " " + e.category();
  if (!e.product().empty()) out += " [" + e.product() + "]";
  return out;
}

std::string SummarizeSession(const Session& session, const decide::IntentMatcher& matcher,
                             const SummaryOptions& options) {
  const auto& events = session.events;
  size_t first = 0;  // first event of the session itself
  while (first < events.size() && events[first]->time_ms() < session.start_ms) ++first;
  std::vector<std::string> history, own;
  AppendLines(events, 0, first, session.end_ms, /*relative=*/true, matcher, &history);
  AppendLines(events, first, events.size(), session.end_ms, /*relative=*/false, matcher, &own);
  // Keep the session whole when possible; drop the oldest history first.
  const size_t budget = std::max<size_t>(options.max_lines, 2);
  if (own.size() > budget) own.resize(budget);
  const size_t room = budget - own.size();
  const size_t dropped = history.size() > room ? history.size() - room : 0;
  std::string out = "Customer session, " + UtcMinute(session.start_ms, true) + "-" +
                    UtcMinute(session.end_ms, false) + " UTC, " +
                    std::to_string(events.size() - first) + " events; " + std::to_string(first) +
                    " earlier events in view.\n";
  if (first > 0) {
    out += "Before this session (oldest first";
    if (dropped > 0) out += ", " + std::to_string(dropped) + " older lines left out";
    out += "):\n";
    for (size_t i = dropped; i < history.size(); ++i) out += history[i] + "\n";
  }
  out += "This session:\n";
  for (const auto& line : own) out += line + "\n";
  return out;
}

}  // namespace intentstream::teach
