// Training and evaluation data: per-visitor timelines of SessionEvents read from event
// files, converted by the same ingest::ToSessionEvent the processor uses.
//
// Inputs:
// - a directory holding web-events.jsonl, app-events.jsonl and identity-links.jsonl
//   (one protobuf-JSON object per line, as the journey generator writes each split);
// - a CSV file (name ending in .csv) of any clickstream, with a column mapping.
// Web events are keyed by anonymous id, app events by customer id; identity links merge
// an anonymous history into its customer's timeline, as the processor's hand-off does.
// No torch includes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "intentstream/v1/state.pb.h"

namespace intentstream::model {

struct Timeline {
  std::string visitor_id;
  std::vector<v1::SessionEvent> events;  // ascending by (time_ms, event_key)
};

// How a CSV clickstream's time column is read.
enum class CsvTimeFormat {
  kAuto,              // a number is Unix milliseconds from 1e11 on (March 1973), else Unix seconds;
                      // anything else ISO 8601
  kUnixSeconds,       // "1709287200", "1709287200.25"
  kUnixMilliseconds,  // "1709287200250"
  kIso8601,           // "2024-03-01", "2024-03-01T10:00:00Z", "2024-03-01 10:00:00.250+01:00"
};

// Column mapping of a CSV clickstream (RFC 4180, common/csv.h). Columns are named by
// header name or by 0-based index; without a header, by index only.
struct CsvMapping {
  std::string visitor = "session_id";  // session or visitor id
  std::string time = "timestamp";
  std::string item = "item";  // page / item; becomes the category
  std::string type;           // optional event type column
  std::string product;        // optional product column
  char delimiter = ',';
  bool header = true;  // the first record names the columns
  CsvTimeFormat time_format = CsvTimeFormat::kAuto;
};

// Parses "auto", "unix-s", "unix-ms" or "iso"; false for anything else.
bool ParseCsvTimeFormat(const std::string& text, CsvTimeFormat* format);

struct DatasetSummary {
  int64_t files = 0;
  int64_t web_events = 0;
  int64_t app_events = 0;
  int64_t csv_rows = 0;
  int64_t identity_links = 0;
  int64_t merged_anonymous_ids = 0;  // anonymous timelines folded into a customer
  int64_t bad_lines = 0;             // unparseable lines, skipped and counted
  // "path:line: why" of the first kMaxBadLineReports bad lines, in reading order.
  std::vector<std::string> bad_line_reports;
  static constexpr size_t kMaxBadLineReports = 20;
  void AddBadLine(const std::string& path, int64_t line, const std::string& why);
  int64_t visitors = 0;
  int64_t events = 0;
  std::string Describe() const;
};

// Reads every path (directory or .csv). Throws std::runtime_error naming the path when a
// path is neither, or a CSV column is missing. Lines that cannot be read are skipped,
// counted and reported (summary->bad_line_reports) with their line numbers. Timelines
// are sorted by visitor id.
std::vector<Timeline> LoadTimelines(const std::vector<std::string>& paths, const CsvMapping& csv,
                                    DatasetSummary* summary);

// Splits a timeline into sessions by an inactivity gap: [begin, end) index ranges.
std::vector<std::pair<size_t, size_t>> Sessionize(const Timeline& timeline, int64_t gap_ms);

// Parses a CSV timestamp into Unix milliseconds; returns false when it is not of the form.
bool ParseCsvTime(std::string_view text, int64_t* ms, CsvTimeFormat format = CsvTimeFormat::kAuto);

}  // namespace intentstream::model
