#include "common/config.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>

extern char** environ;  // POSIX: the process environment, for MergeEnvironment

namespace intentstream {

namespace {
std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}
}  // namespace

bool ReadKeyValueLines(const std::string& path, std::map<std::string, std::string>* out,
                       std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read '" + path + "'";
    return false;
  }
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string_view t = Trim(line);
    if (t.empty() || t.front() == '#') continue;
    const size_t eq = t.find('=');
    if (eq == std::string_view::npos) {
      *error = path + ":" + std::to_string(line_no) + ": expected 'key = value', got '" +
               std::string(t) + "'";
      return false;
    }
    (*out)[std::string(Trim(t.substr(0, eq)))] = std::string(Trim(t.substr(eq + 1)));
  }
  return true;
}

void Properties::MergeFile(const std::string& path) {
  std::map<std::string, std::string> lines;
  std::string error;
  if (!ReadKeyValueLines(path, &lines, &error)) throw ConfigError("config.file", error);
  for (auto& [key, value] : lines) Set(key, std::move(value));
}

std::string Properties::EnvironmentName(std::string_view key) {
  std::string env = "INTENTSTREAM_";
  for (char c : key) {
    env.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return env;
}

void Properties::MergeEnvironment(const std::vector<std::string>& known_keys,
                                  const std::vector<std::string>& other_variables) {
  std::map<std::string, const std::string*> key_of;  // variable -> key
  for (const auto& key : known_keys) key_of[EnvironmentName(key)] = &key;
  constexpr std::string_view kPrefix = "INTENTSTREAM_";
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view var(*entry);
    if (var.compare(0, kPrefix.size(), kPrefix) != 0) continue;
    const size_t eq = var.find('=');
    const std::string name(var.substr(0, eq));
    const std::string value(eq == std::string_view::npos ? "" : var.substr(eq + 1));
    if (const auto it = key_of.find(name); it != key_of.end()) {
      Set(*it->second, value);
    } else if (std::find(other_variables.begin(), other_variables.end(), name) ==
               other_variables.end()) {
      throw ConfigError(name,
                        "environment variable names no configuration key (INTENTSTREAM_<KEY> is "
                        "the key upper-cased with '.' as '_'; kafka.* properties go in the "
                        "config file or --set; see `intentstream help-config`)");
    }
  }
}

void Properties::MergeAssignment(std::string_view assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    throw ConfigError(std::string(assignment), "expected key=value");
  }
  Set(std::string(Trim(assignment.substr(0, eq))), std::string(Trim(assignment.substr(eq + 1))));
}

int64_t ParseInt(std::string_view key, std::string_view value, int64_t min, int64_t max) {
  int64_t out = 0;
  const auto* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, out);
  if (value.empty() || ec != std::errc() || ptr != end) {
    throw ConfigError(std::string(key), "invalid integer '" + std::string(value) + "'");
  }
  if (out < min || out > max) {
    throw ConfigError(std::string(key), "value " + std::string(value) + " out of range [" +
                                            std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return out;
}

bool ParseBool(std::string_view key, std::string_view value) {
  if (value == "true" || value == "1" || value == "yes") return true;
  if (value == "false" || value == "0" || value == "no") return false;
  throw ConfigError(std::string(key),
                    "invalid boolean '" + std::string(value) + "' (use true or false)");
}

}  // namespace intentstream
