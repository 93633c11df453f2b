#include "model/dataset.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "common/hash.h"
#include "ingest/session_event.h"

namespace intentstream::model {

namespace {

namespace fs = std::filesystem;

template <typename Message>
int64_t ReadJsonLines(const fs::path& path, DatasetSummary* summary,
                      const std::function<void(const Message&)>& sink) {
  std::ifstream in(path);
  if (!in) return 0;
  ++summary->files;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // newer producers may add fields
  int64_t n = 0;
  std::string line;
  Message msg;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    msg.Clear();
    if (!google::protobuf::util::JsonStringToMessage(line, &msg, options).ok()) {
      ++summary->bad_lines;
      continue;
    }
    sink(msg);
    ++n;
  }
  return n;
}

std::vector<std::string> SplitCsvLine(const std::string& line, char delim) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == delim) {
      out.push_back(std::move(cur));
      cur.clear();
    } else if (c != '\r') {
      cur.push_back(c);
    }
  }
  out.push_back(std::move(cur));
  return out;
}

int ColumnIndex(const std::vector<std::string>& header, const std::string& name,
                const std::string& path) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit)) {
    const int i = std::stoi(name);
    if (i < static_cast<int>(header.size())) return i;
  }
  throw std::runtime_error(path + ": CSV has no column '" + name + "' (header: " + [&] {
    std::string h;
    for (const auto& c : header) h += (h.empty() ? "" : ",") + c;
    return h;
  }() + ")");
}

// CSV event types: numbers are taken as they are; common names map to the web event
// types; anything else gets a stable small id.
uint32_t CsvEventType(const std::string& s) {
  if (s.empty()) return 1;
  if (std::all_of(s.begin(), s.end(), ::isdigit)) return static_cast<uint32_t>(std::stoul(s) % 16);
  static const std::map<std::string, uint32_t> kNames{
      {"view", 1},       {"page_view", 1},  {"pageview", 1},    {"search", 2},      {"click", 3},
      {"addtocart", 3},  {"form_start", 4}, {"form_submit", 5}, {"transaction", 5}, {"purchase", 5},
      {"calculator", 6}, {"download", 7},   {"chat", 8}};
  std::string lower;
  for (char c : s) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  const auto it = kNames.find(lower);
  return it != kNames.end() ? it->second : 9 + Fnv1a32(lower) % 7;
}

void ReadCsv(const std::string& path, const CsvMapping& m, DatasetSummary* summary,
             std::map<std::string, Timeline>* timelines) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  ++summary->files;
  std::string line;
  if (!std::getline(in, line)) return;
  const auto header = SplitCsvLine(line, m.delimiter);
  const int vc = ColumnIndex(header, m.visitor, path);
  const int tc = ColumnIndex(header, m.time, path);
  const int ic = ColumnIndex(header, m.item, path);
  const int yc = m.type.empty() ? -1 : ColumnIndex(header, m.type, path);
  const int pc = m.product.empty() ? -1 : ColumnIndex(header, m.product, path);
  int64_t row = 0;
  while (std::getline(in, line)) {
    ++row;
    if (line.empty()) continue;
    const auto f = SplitCsvLine(line, m.delimiter);
    const int need = std::max({vc, tc, ic, yc, pc});
    int64_t ms = 0;
    if (static_cast<int>(f.size()) <= need || f[vc].empty() || !ParseCsvTime(f[tc], &ms)) {
      ++summary->bad_lines;
      continue;
    }
    v1::SessionEvent e;
    e.set_event_key(Fnv1a64(path + '\x1f' + std::to_string(row)));
    e.set_time_ms(ms);
    e.set_source(v1::SOURCE_WEB);
    e.set_event_type(yc >= 0 ? CsvEventType(f[yc]) : 1);
    e.set_category(f[ic]);
    if (pc >= 0) e.set_product(f[pc]);
    auto& tl = (*timelines)[f[vc]];
    tl.visitor_id = f[vc];
    tl.events.push_back(std::move(e));
    ++summary->csv_rows;
  }
}

}  // namespace

bool ParseCsvTime(const std::string& text, int64_t* ms) {
  if (text.empty()) return false;
  char* end = nullptr;
  const double x = std::strtod(text.c_str(), &end);
  if (end != nullptr && *end == '\0') {
    // Milliseconds from 1973 on; seconds before (good for any clickstream date).
    *ms = x > 1e11 ? static_cast<int64_t>(x) : static_cast<int64_t>(x * 1000.0);
    return true;
  }
  std::tm tm{};
  int frac_ms = 0;
  int y, mo, d, h = 0, mi = 0;
  double s = 0;
  char sep = 0;
  const int got = std::sscanf(text.c_str(), "%d-%d-%d%c%d:%d:%lf", &y, &mo, &d, &sep, &h, &mi, &s);
  if (got != 3 && got != 7) return false;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = static_cast<int>(s);
  frac_ms = static_cast<int>((s - tm.tm_sec) * 1000.0);
  *ms = static_cast<int64_t>(timegm(&tm)) * 1000 + frac_ms;
  return true;
}

std::vector<Timeline> LoadTimelines(const std::vector<std::string>& paths, const CsvMapping& csv,
                                    DatasetSummary* summary) {
  std::map<std::string, Timeline> timelines;
  std::map<std::string, std::string> anon_to_customer;
  for (const auto& p : paths) {
    if (fs::is_directory(p)) {
      const fs::path dir(p);
      const int64_t before = summary->files;
      summary->web_events += ReadJsonLines<v1::WebEvent>(
          dir / "web-events.jsonl", summary, [&](const v1::WebEvent& e) {
            auto& tl = timelines[e.anonymous_id()];
            tl.visitor_id = e.anonymous_id();
            tl.events.push_back(ingest::ToSessionEvent(e));
          });
      summary->app_events += ReadJsonLines<v1::AppEvent>(
          dir / "app-events.jsonl", summary, [&](const v1::AppEvent& e) {
            auto& tl = timelines[e.customer_id()];
            tl.visitor_id = e.customer_id();
            tl.events.push_back(ingest::ToSessionEvent(e));
          });
      summary->identity_links += ReadJsonLines<v1::IdentityLink>(
          dir / "identity-links.jsonl", summary, [&](const v1::IdentityLink& l) {
            anon_to_customer.emplace(l.anonymous_id(), l.customer_id());
          });
      if (summary->files == before) {
        throw std::runtime_error(p +
                                 ": no web-events.jsonl, app-events.jsonl or "
                                 "identity-links.jsonl in this directory");
      }
    } else if (p.size() > 4 && p.compare(p.size() - 4, 4, ".csv") == 0) {
      ReadCsv(p, csv, summary, &timelines);
    } else {
      throw std::runtime_error(p + ": neither an event directory nor a .csv file");
    }
  }
  // Fold linked anonymous histories into their customers, as the identity hand-off does.
  for (const auto& [anon, customer] : anon_to_customer) {
    const auto it = timelines.find(anon);
    if (it == timelines.end() || anon == customer) continue;
    auto& target = timelines[customer];
    target.visitor_id = customer;
    for (auto& e : it->second.events) target.events.push_back(std::move(e));
    timelines.erase(it);
    ++summary->merged_anonymous_ids;
  }
  std::vector<Timeline> out;
  out.reserve(timelines.size());
  for (auto& [id, tl] : timelines) {
    std::sort(tl.events.begin(), tl.events.end(), [](const auto& a, const auto& b) {
      return a.time_ms() != b.time_ms() ? a.time_ms() < b.time_ms() : a.event_key() < b.event_key();
    });
    // Idempotent on event ids, as the processor is.
    tl.events.erase(
        std::unique(tl.events.begin(), tl.events.end(),
                    [](const auto& a, const auto& b) { return a.event_key() == b.event_key(); }),
        tl.events.end());
    summary->events += static_cast<int64_t>(tl.events.size());
    out.push_back(std::move(tl));
  }
  summary->visitors = static_cast<int64_t>(out.size());
  return out;
}

std::vector<std::pair<size_t, size_t>> Sessionize(const Timeline& tl, int64_t gap_ms) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t begin = 0;
  for (size_t i = 1; i <= tl.events.size(); ++i) {
    if (i == tl.events.size() || tl.events[i].time_ms() - tl.events[i - 1].time_ms() > gap_ms) {
      if (i > begin) out.emplace_back(begin, i);
      begin = i;
    }
  }
  return out;
}

std::string DatasetSummary::Describe() const {
  std::ostringstream os;
  os << "files=" << files << " web_events=" << web_events << " app_events=" << app_events
     << " csv_rows=" << csv_rows << " identity_links=" << identity_links
     << " merged_anonymous_ids=" << merged_anonymous_ids << " bad_lines=" << bad_lines
     << " visitors=" << visitors << " events=" << events;
  return os.str();
}

}  // namespace intentstream::model
