// Small structured logger. A LogSink (owned by the program's main) decides the format
// (text or one JSON object per line) and level; each component holds a named Logger.
// Thread-safe: lines from several threads never interleave.
#pragma once

#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace intentstream {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

class LogSink {
 public:
  enum class Format { kText, kJson };
  LogSink(Format format = Format::kText, LogLevel level = LogLevel::kInfo)
      : format_(format), level_(level) {}

  bool Enabled(LogLevel level) const { return level >= level_; }
  using Fields = std::initializer_list<std::pair<std::string_view, std::string>>;
  void Write(LogLevel level, std::string_view logger, std::string_view message, Fields fields);

 private:
  Format format_;
  LogLevel level_;
  std::mutex mu_;
};

class Logger {
 public:
  Logger(LogSink* sink, std::string name) : sink_(sink), name_(std::move(name)) {}

  void Debug(std::string_view msg, LogSink::Fields f = {}) const { Log(LogLevel::kDebug, msg, f); }
  void Info(std::string_view msg, LogSink::Fields f = {}) const { Log(LogLevel::kInfo, msg, f); }
  void Warn(std::string_view msg, LogSink::Fields f = {}) const { Log(LogLevel::kWarn, msg, f); }
  void Error(std::string_view msg, LogSink::Fields f = {}) const { Log(LogLevel::kError, msg, f); }

 private:
  void Log(LogLevel level, std::string_view msg, LogSink::Fields f) const {
    if (sink_ != nullptr && sink_->Enabled(level)) sink_->Write(level, name_, msg, f);
  }
  LogSink* sink_;
  std::string name_;
};

}  // namespace intentstream
