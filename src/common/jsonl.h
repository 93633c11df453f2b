// JSON-lines files: one JSON value per line. LineReader yields the non-blank lines with
// their 1-based line numbers (so a caller can name the line of a bad record);
// MessageReader parses each line as a protobuf message with protobuf's JSON mapping and
// names file and line when one does not parse.
//
// Header-only: MessageReader is a template over the message type, and common/ does not
// link protobuf; the targets that use it already do.
//
// Thread-safety: a reader is used by one thread.
#pragma once

#include <google/protobuf/util/json_util.h>

#include <cstdint>
#include <fstream>
#include <istream>
#include <string>
#include <string_view>
#include <utility>

namespace intentstream::jsonl {

class LineReader {
 public:
  explicit LineReader(std::istream& in) : in_(in) {}

  // The next line holding anything but blanks; false at the end of the input.
  bool Next(std::string_view* line) {
    while (std::getline(in_, line_)) {
      ++line_no_;
      if (line_.find_first_not_of(" \t\r") == std::string::npos) continue;
      *line = line_;
      return true;
    }
    return false;
  }
  // The number of the line Next() returned last.
  int64_t line() const { return line_no_; }

 private:
  std::istream& in_;
  std::string line_;
  int64_t line_no_ = 0;
};

template <typename Msg>
class MessageReader {
 public:
  enum class Status {
    kMessage,    // message() holds the next record
    kEnd,        // no more input
    kMalformed,  // *error names file, line and why; Next() goes on at the next line
  };

  // `name` is how errors name the file. Unknown fields are ignored: a newer writer may
  // add fields.
  MessageReader(const std::string& path, std::string name)
      : file_(path), name_(std::move(name)), lines_(file_) {
    options_.ignore_unknown_fields = true;
  }
  // False when the file could not be opened.
  bool is_open() const { return file_.is_open(); }

  Status Next(std::string* error) {
    std::string_view line;
    if (!lines_.Next(&line)) return Status::kEnd;
    msg_.Clear();
    const auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(line.data(), line.size()), &msg_, options_);
    if (status.ok()) return Status::kMessage;
    *error = name_ + ":" + std::to_string(lines_.line()) + ": not a valid " +
             msg_.GetDescriptor()->name() + ": " + std::string(status.message());
    return Status::kMalformed;
  }
  const Msg& message() const { return msg_; }
  Msg& message() { return msg_; }
  int64_t line() const { return lines_.line(); }

 private:
  std::ifstream file_;
  std::string name_;
  LineReader lines_;
  google::protobuf::util::JsonParseOptions options_;
  Msg msg_;
};

}  // namespace intentstream::jsonl
