#include "common/csv.h"

namespace intentstream::csv {

namespace {
constexpr int kEof = std::char_traits<char>::eof();
}  // namespace

Reader::Reader(std::istream& in, char delimiter, size_t max_record_bytes)
    : in_(in), delimiter_(delimiter), max_record_bytes_(max_record_bytes) {}

int Reader::Get() {
  const int c = in_.rdbuf()->sbumpc();
  if (c == '\n') ++line_;
  return c;
}

void Reader::SkipRestOfLine() {
  for (int c = Get(); c != kEof && c != '\n'; c = Get()) {
  }
}

Reader::Status Reader::Next(Record* record, std::string* error) {
  auto* buf = in_.rdbuf();
  // Blank lines are not records.
  for (;;) {
    const int c = buf->sgetc();
    if (c == kEof) return Status::kEnd;
    if (c == '\n') {
      Get();
      continue;
    }
    if (c == '\r') {
      buf->sbumpc();
      if (buf->sgetc() == '\n') {
        Get();
        continue;
      }
      buf->sungetc();
    }
    break;
  }
  record->fields.clear();
  record->line = line_ + 1;
  const auto malformed = [&](const std::string& why) {
    *error = why;
    return Status::kMalformed;
  };
  size_t bytes = 0;
  std::string field;
  for (;;) {
    field.clear();
    int c = Get();
    if (c == '"') {
      // Quoted field: runs to the closing quote; "" is a quote.
      for (;;) {
        c = Get();
        if (c == kEof) {
          return malformed("unterminated quoted field " +
                           std::to_string(record->fields.size() + 1));
        }
        if (++bytes > max_record_bytes_) {
          SkipRestOfLine();
          return malformed("record longer than " + std::to_string(max_record_bytes_) +
                           " bytes (an unbalanced quote?)");
        }
        if (c == '"') {
          if (buf->sgetc() == '"') {
            Get();
            field.push_back('"');
            continue;
          }
          break;
        }
        field.push_back(static_cast<char>(c));
      }
      c = Get();
      if (c == '\r' && buf->sgetc() == '\n') c = Get();
      if (c != delimiter_ && c != '\n' && c != kEof) {
        SkipRestOfLine();
        return malformed("text after the closing quote of field " +
                         std::to_string(record->fields.size() + 1));
      }
    } else {
      while (c != delimiter_ && c != '\n' && c != kEof) {
        if (c == '\r' && (buf->sgetc() == '\n' || buf->sgetc() == kEof)) {
          c = Get();
          break;
        }
        if (++bytes > max_record_bytes_) {
          SkipRestOfLine();
          return malformed("record longer than " + std::to_string(max_record_bytes_) + " bytes");
        }
        field.push_back(static_cast<char>(c));
        c = Get();
      }
    }
    record->fields.push_back(field);
    if (c != delimiter_) return Status::kRecord;  // end of line or of input
  }
}

bool ParseDelimiter(std::string_view text, char* delimiter) {
  if (text == "\\t" || text == "tab" || text == "\t") {
    *delimiter = '\t';
    return true;
  }
  if (text.size() != 1 || text[0] == '"' || text[0] == '\n' || text[0] == '\r') return false;
  *delimiter = text[0];
  return true;
}

}  // namespace intentstream::csv
