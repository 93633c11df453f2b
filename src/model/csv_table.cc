#include "model/csv_table.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace intentstream::model {

DataFileError::DataFileError(const std::string& source, size_t line, size_t column,
                             const std::string& message)
    : std::runtime_error(source + ":" + std::to_string(line) + ": " +
                         (column > 0 ? "column " + std::to_string(column) + ": " : "") + message),
      line_(line),
      column_(column) {}

int CsvTable::Column(std::string_view name) const {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return -1;
}

char GuessCsvDelimiter(std::string_view header_line) {
  size_t counts[3] = {0, 0, 0};
  const char candidates[3] = {',', ';', '\t'};
  bool quoted = false;
  for (char c : header_line) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    for (int i = 0; i < 3; ++i) counts[i] += c == candidates[i];
  }
  int best = 0;
  for (int i = 1; i < 3; ++i) {
    if (counts[i] > counts[best]) best = i;
  }
  return candidates[best];
}

CsvTable ReadCsvTable(std::istream& in, const std::string& source, char delimiter) {
  // Read it whole: the delimiter guess needs the header line before the reader starts.
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  CsvTable table;
  table.delimiter = delimiter != 0 ? delimiter : GuessCsvDelimiter(text.substr(0, text.find('\n')));
  std::istringstream body(text);
  csv::Reader reader(body, table.delimiter);
  csv::Record record;
  std::string error;
  bool have_header = false;
  for (;;) {
    const auto status = reader.Next(&record, &error);
    if (status == csv::Reader::Status::kEnd) break;
    if (status == csv::Reader::Status::kMalformed) {
      throw DataFileError(source, static_cast<size_t>(record.line), 0, error);
    }
    if (!have_header) {
      table.header = std::move(record.fields);
      have_header = true;
      continue;
    }
    if (record.fields.size() != table.header.size()) {
      // The column named is the first one missing, or the first one too many.
      const size_t found = record.fields.size(), expected = table.header.size();
      throw DataFileError(source, static_cast<size_t>(record.line), std::min(found, expected) + 1,
                          "expected " + std::to_string(expected) +
                              " fields (as in the header), found " + std::to_string(found));
    }
    table.rows.push_back(std::move(record));
  }
  if (!have_header) throw DataFileError(source, 0, 0, "empty file (no header line)");
  return table;
}

CsvTable ReadCsvTableFile(const std::string& path, char delimiter) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataFileError(path, 0, 0, "cannot open for reading");
  return ReadCsvTable(in, path, delimiter);
}

}  // namespace intentstream::model
