// CSV records as RFC 4180 defines them, read from a stream: fields separated by a
// one-character delimiter (',' by default; ';' and tab are common), records ended by LF
// or CRLF, and a field in double quotes may hold the delimiter, line breaks and quotes
// (written twice). Every record carries the line it starts on, so a caller can name the
// line of a bad value; a malformed record is an error value naming its line, and reading
// goes on at the next line.
//
// Leniencies (what real exports do): a quote inside an unquoted field is kept as text;
// blank lines are skipped; the last record needs no line break.
//
// Thread-safety: a Reader is used by one thread; it does not own the stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace intentstream::csv {

struct Record {
  std::vector<std::string> fields;
  int64_t line = 0;  // 1-based line on which the record starts
};

class Reader {
 public:
  enum class Status {
    kRecord,     // *record holds the next record
    kEnd,        // no more input
    kMalformed,  // *error says why, record->line where; call Next() again to go on
  };

  // `max_record_bytes` bounds a record: an unbalanced quote would otherwise swallow the
  // rest of the file into one field. Default 1 MiB.
  explicit Reader(std::istream& in, char delimiter = ',', size_t max_record_bytes = 1 << 20);

  Status Next(Record* record, std::string* error);
  // Lines consumed so far (the line number of the last one read).
  int64_t line() const { return line_; }

 private:
  int Get();
  void SkipRestOfLine();

  std::istream& in_;
  char delimiter_;
  size_t max_record_bytes_;
  int64_t line_ = 0;
  bool at_line_start_ = true;
};

// "\t" and "tab" name the tab; any other one-character string is that character. Returns
// false for anything else (empty, or longer than one character).
bool ParseDelimiter(std::string_view text, char* delimiter);

}  // namespace intentstream::csv
