// A whole CSV file with a header line, for the tabular mode: read with the project's
// one CSV reader (common/csv.h), then checked as a table (every row has the header's
// number of fields). Errors name the source, the line and the column.
#pragma once

#include <cstddef>
#include <istream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/csv.h"

namespace intentstream::model {

// A bad data file. what(): "<source>:<line>: column <column>: <message>" (line 0: the
// whole file, column 0: the whole line).
class DataFileError : public std::runtime_error {
 public:
  DataFileError(const std::string& source, size_t line, size_t column, const std::string& message);
  size_t line() const { return line_; }
  size_t column() const { return column_; }

 private:
  size_t line_;
  size_t column_;
};

struct CsvTable {
  std::vector<std::string> header;
  std::vector<csv::Record> rows;
  char delimiter = ',';
  // Index of a header name, or -1.
  int Column(std::string_view name) const;
};

// Reads a table from `in`; `source` names it in errors. `delimiter` 0 picks the most
// frequent of ',', ';' and tab on the header line. Throws DataFileError: the input is
// empty, a record is malformed, or a row is ragged (its line, expected and actual counts).
CsvTable ReadCsvTable(std::istream& in, const std::string& source, char delimiter = 0);
// The same from a file; an unreadable file is a DataFileError on line 0.
CsvTable ReadCsvTableFile(const std::string& path, char delimiter = 0);

// The delimiter ReadCsvTable picks for this header line.
char GuessCsvDelimiter(std::string_view header_line);

}  // namespace intentstream::model
