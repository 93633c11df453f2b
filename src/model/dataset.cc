#include "model/dataset.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "common/csv.h"
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
  int64_t line_number = 0;
  std::string line;
  Message msg;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty()) continue;
    msg.Clear();
    const auto status = google::protobuf::util::JsonStringToMessage(line, &msg, options);
    if (!status.ok()) {
      summary->AddBadLine(
          path.string(), line_number,
          "not a " + Message::descriptor()->name() + ": " + std::string(status.message()));
      continue;
    }
    sink(msg);
    ++n;
  }
  return n;
}

std::string JoinFields(const std::vector<std::string>& fields) {
  std::string h;
  for (const auto& c : fields) h += (h.empty() ? "" : ",") + c;
  return h;
}

bool IsIndex(const std::string& name) {
  return !name.empty() && name.size() < 7 && std::all_of(name.begin(), name.end(), ::isdigit);
}

// The column of `name` (a header name, else a 0-based index); `flag` names the option.
int ColumnIndex(const std::vector<std::string>* header, const std::string& name,
                const std::string& flag, const std::string& path) {
  if (header != nullptr) {
    for (size_t i = 0; i < header->size(); ++i) {
      if ((*header)[i] == name) return static_cast<int>(i);
    }
  }
  if (IsIndex(name)) {
    const int i = std::stoi(name);
    if (header == nullptr || i < static_cast<int>(header->size())) return i;
  }
  if (header == nullptr) {
    throw std::runtime_error(path + ": " + flag + " '" + name +
                             "' must be a 0-based column index: the CSV has no header");
  }
  throw std::runtime_error(path + ": CSV has no column '" + name + "' (" + flag +
                           "; header: " + JoinFields(*header) + ")");
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

const char* TimeFormatName(CsvTimeFormat f) {
  switch (f) {
    case CsvTimeFormat::kAuto:
      return "Unix seconds, Unix milliseconds or ISO 8601";
    case CsvTimeFormat::kUnixSeconds:
      return "Unix seconds";
    case CsvTimeFormat::kUnixMilliseconds:
      return "Unix milliseconds";
    case CsvTimeFormat::kIso8601:
      return "ISO 8601";
  }
  return "a time";
}

void ReadCsv(const std::string& path, const CsvMapping& m, DatasetSummary* summary,
             std::map<std::string, Timeline>* timelines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  ++summary->files;
  csv::Reader reader(in, m.delimiter);
  csv::Record record;
  std::string error;
  std::vector<std::string> header;
  if (m.header) {
    for (;;) {
      const auto status = reader.Next(&record, &error);
      if (status == csv::Reader::Status::kEnd) return;
      if (status == csv::Reader::Status::kRecord) break;
      throw std::runtime_error(path + ":" + std::to_string(record.line) + ": header: " + error);
    }
    header = record.fields;
  }
  const std::vector<std::string>* names = m.header ? &header : nullptr;
  const int vc = ColumnIndex(names, m.visitor, "--csv-visitor", path);
  const int tc = ColumnIndex(names, m.time, "--csv-time", path);
  const int ic = ColumnIndex(names, m.item, "--csv-item", path);
  const int yc = m.type.empty() ? -1 : ColumnIndex(names, m.type, "--csv-type", path);
  const int pc = m.product.empty() ? -1 : ColumnIndex(names, m.product, "--csv-product", path);
  const int need = std::max({vc, tc, ic, yc, pc});
  int64_t row = 0;
  for (;;) {
    const auto status = reader.Next(&record, &error);
    if (status == csv::Reader::Status::kEnd) break;
    if (status == csv::Reader::Status::kMalformed) {
      summary->AddBadLine(path, record.line, error);
      continue;
    }
    ++row;
    const auto& f = record.fields;
    int64_t ms = 0;
    if (static_cast<int>(f.size()) <= need) {
      summary->AddBadLine(
          path, record.line,
          std::to_string(f.size()) + " fields, the mapping needs " + std::to_string(need + 1) +
              " (delimiter '" +
              (m.delimiter == '\t' ? std::string("\\t") : std::string(1, m.delimiter)) + "')");
      continue;
    }
    if (f[vc].empty()) {
      summary->AddBadLine(path, record.line, "empty visitor id (column " + m.visitor + ")");
      continue;
    }
    if (!ParseCsvTime(f[tc], &ms, m.time_format)) {
      summary->AddBadLine(
          path, record.line,
          "time '" + f[tc] + "' (column " + m.time + ") is not " + TimeFormatName(m.time_format));
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

// Parses digits [p, p + n) as a number; false if any is not a digit.
bool Digits(std::string_view s, size_t p, size_t n, int* out) {
  if (p + n > s.size()) return false;
  int v = 0;
  for (size_t i = p; i < p + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// Days from 1970-01-01 of a proleptic Gregorian date (no time zone database needed).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// YYYY-MM-DD[(T| )hh:mm[:ss[.fraction]]][Z | (+|-)hh[:mm] | (+|-)hhmm]
bool ParseIso8601(std::string_view s, int64_t* ms) {
  int y, mo, d;
  if (!Digits(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d)) {
    return false;
  }
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1]) return false;
  int h = 0, mi = 0, sec = 0;
  int64_t frac_ms = 0;
  size_t p = 10;
  if (p < s.size() && (s[p] == 'T' || s[p] == 't' || s[p] == ' ')) {
    if (!Digits(s, p + 1, 2, &h) || p + 3 >= s.size() || s[p + 3] != ':' ||
        !Digits(s, p + 4, 2, &mi)) {
      return false;
    }
    p += 6;
    if (p < s.size() && s[p] == ':') {
      if (!Digits(s, p + 1, 2, &sec)) return false;
      p += 3;
      if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
        ++p;
        const size_t begin = p;
        int64_t scale = 100;
        while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
          frac_ms += (s[p] - '0') * scale;  // digits past milliseconds are dropped
          scale /= 10;
          ++p;
        }
        if (p == begin) return false;
      }
    }
    if (h > 23 || mi > 59 || sec > 60) return false;  // 60: a leap second
  }
  int64_t offset_min = 0;
  if (p < s.size()) {
    if ((s[p] == 'Z' || s[p] == 'z') && p + 1 == s.size()) {
      p = s.size();
    } else if (s[p] == '+' || s[p] == '-') {
      int oh = 0, om = 0;
      const int sign = s[p] == '-' ? -1 : 1;
      if (!Digits(s, p + 1, 2, &oh)) return false;
      size_t q = p + 3;
      if (q < s.size() && s[q] == ':') ++q;
      if (q < s.size() && !Digits(s, q, 2, &om)) return false;
      if (q < s.size()) q += 2;
      if (q != s.size() || oh > 23 || om > 59) return false;
      offset_min = sign * (oh * 60 + om);
      p = s.size();
    } else {
      return false;
    }
  }
  const int64_t seconds = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
  *ms = seconds * 1000 + frac_ms - offset_min * 60000;
  return true;
}

// A decimal number, all of `s` (no spaces, no exponent-only junk).
bool ParseNumber(std::string_view s, double* x) {
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  const auto r = std::from_chars(s.data(), end, *x);
  return r.ec == std::errc() && r.ptr == end && std::isfinite(*x);
}

}  // namespace

bool ParseCsvTimeFormat(const std::string& text, CsvTimeFormat* format) {
  static const std::map<std::string, CsvTimeFormat> kNames{
      {"auto", CsvTimeFormat::kAuto},
      {"unix-s", CsvTimeFormat::kUnixSeconds},
      {"unix-ms", CsvTimeFormat::kUnixMilliseconds},
      {"iso", CsvTimeFormat::kIso8601}};
  const auto it = kNames.find(text);
  if (it == kNames.end()) return false;
  *format = it->second;
  return true;
}

void DatasetSummary::AddBadLine(const std::string& path, int64_t line, const std::string& why) {
  ++bad_lines;
  if (bad_line_reports.size() < kMaxBadLineReports) {
    bad_line_reports.push_back(path + ":" + std::to_string(line) + ": " + why);
  }
}

bool ParseCsvTime(std::string_view text, int64_t* ms, CsvTimeFormat format) {
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  if (format == CsvTimeFormat::kIso8601) return ParseIso8601(text, ms);
  double x = 0;
  if (!ParseNumber(text, &x)) return format == CsvTimeFormat::kAuto && ParseIso8601(text, ms);
  const bool millis = format == CsvTimeFormat::kUnixMilliseconds ||
                      (format == CsvTimeFormat::kAuto && std::abs(x) >= 1e11);
  const double v = millis ? x : x * 1000.0;
  if (std::abs(v) > 1e15) return false;  // beyond year 33000: not a clickstream time
  *ms = static_cast<int64_t>(std::llround(v));
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
