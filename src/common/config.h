// Configuration plumbing shared by every stage: a flat `key = value` properties format
// (as Kafka's own tools use), typed parsers that name the offending key, and a table of
// documented options that applies values to an options struct and prints a reference.
//
// Precedence, lowest to highest: defaults, config file, environment
// (INTENTSTREAM_ + key upper-cased with '.' as '_'), command-line --set key=value.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace intentstream {

// Thrown for bad configuration; what() names the key. Caught once, in main, which
// prints it and exits non-zero before anything starts.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string key, const std::string& message)
      : std::runtime_error("configuration key '" + key + "': " + message), key_(std::move(key)) {}
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

// Parses `key = value` lines ('#' starts a comment line) from `path`. Returns false and
// sets `error` ("cannot read '<path>'" or "<path>:<line>: expected 'key = value', got
// '...'") on failure. Shared by the processor's configuration and model artifacts.
bool ReadKeyValueLines(const std::string& path, std::map<std::string, std::string>* out,
                       std::string* error);

// Ordered key -> value pairs. Later Set()s override earlier ones.
class Properties {
 public:
  void Set(std::string key, std::string value) { values_[std::move(key)] = std::move(value); }
  const std::map<std::string, std::string>& values() const { return values_; }

  // Parses `key = value` lines; '#' starts a comment line. Throws ConfigError (key
  // "config.file") naming the path and line on I/O or syntax errors.
  void MergeFile(const std::string& path);
  // Adds INTENTSTREAM_<KEY> variables for the given known keys. Any other INTENTSTREAM_
  // variable is a misspelt key and throws ConfigError naming it, unless it is one of
  // `other_variables` (variables the project reads for other purposes).
  void MergeEnvironment(const std::vector<std::string>& known_keys,
                        const std::vector<std::string>& other_variables = {});
  // The environment variable that sets `key`: INTENTSTREAM_ + key upper-cased, '.' as '_'.
  static std::string EnvironmentName(std::string_view key);
  // Parses "key=value"; throws ConfigError on a missing '='.
  void MergeAssignment(std::string_view assignment);

 private:
  std::map<std::string, std::string> values_;
};

int64_t ParseInt(std::string_view key, std::string_view value, int64_t min, int64_t max);
bool ParseBool(std::string_view key, std::string_view value);

// A documented option of the options struct T.
template <typename T>
struct OptionSpec {
  std::string key;
  std::string default_text;
  std::string doc;
  std::function<void(T&, const std::string& key, const std::string& value)> apply;
};

// Applies properties to `options`. Keys that start with one of `passthrough_prefixes`
// are handed to `passthrough(options, prefix, key_without_prefix, value)` untouched (the
// first matching prefix wins, so list longer prefixes first); any other key not in
// `specs` is an error.
template <typename T>
void ApplyProperties(
    const Properties& props, const std::vector<OptionSpec<T>>& specs,
    const std::vector<std::string>& passthrough_prefixes, T& options,
    const std::function<void(T&, const std::string& prefix, const std::string& rest,
                             const std::string& value)>& passthrough) {
  for (const auto& [key, value] : props.values()) {
    bool handled = false;
    for (const auto& prefix : passthrough_prefixes) {
      if (key.size() > prefix.size() && key.compare(0, prefix.size(), prefix) == 0) {
        passthrough(options, prefix, key.substr(prefix.size()), value);
        handled = true;
        break;
      }
    }
    if (handled) continue;
    for (const auto& spec : specs) {
      if (spec.key == key) {
        spec.apply(options, key, value);
        handled = true;
        break;
      }
    }
    if (!handled) throw ConfigError(key, "unknown key (see `intentstream help-config`)");
  }
}

// Markdown table of the options: key, default, description.
template <typename T>
std::string OptionsReference(const std::vector<OptionSpec<T>>& specs) {
  std::string out = "| key | default | description |\n|---|---|---|\n";
  for (const auto& s : specs) {
    out += "| `" + s.key + "` | `" + s.default_text + "` | " + s.doc + " |\n";
  }
  return out;
}

}  // namespace intentstream
