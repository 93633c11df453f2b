// A small command-line parser for the generator and evaluation tools: "--name value"
// or "--name=value", strict number parsing, and errors that name the flag.
#pragma once

#include <charconv>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace intentstream::sim {

class Flags {
 public:
  // `boolean` lists the flags that take no value.
  Flags(int argc, char** argv, std::set<std::string> known, std::set<std::string> boolean) {
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg.rfind("--", 0) != 0) {
        error_ = "unexpected argument \"" + arg + "\" (flags start with --)";
        return;
      }
      std::string value;
      bool has_value = false;
      if (const size_t eq = arg.find('='); eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg.resize(eq);
        has_value = true;
      }
      if (!known.contains(arg)) {
        error_ = "unknown flag " + arg + " (see --help)";
        return;
      }
      if (boolean.contains(arg)) {
        values_[arg] = has_value ? value : "true";
        continue;
      }
      if (!has_value) {
        if (i + 1 >= argc) {
          error_ = arg + " needs a value";
          return;
        }
        value = argv[++i];
      }
      values_[arg] = value;
    }
  }

  // Empty when the command line parsed; else the first problem.
  const std::string& error() const { return error_; }
  bool Has(const std::string& name) const { return values_.contains(name); }

  std::string String(const std::string& name, std::string fallback) {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }
  bool Bool(const std::string& name) {
    auto it = values_.find(name);
    return it != values_.end() && it->second != "false" && it->second != "0";
  }
  template <typename T>
  T Number(const std::string& name, T fallback) {
    auto it = values_.find(name);
    if (it == values_.end()) return fallback;
    const std::string& s = it->second;
    T out{};
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec != std::errc() || end != s.data() + s.size()) {
      if (error_.empty()) error_ = name + ": expected a number, got \"" + s + "\"";
      return fallback;
    }
    return out;
  }
  std::vector<std::string> List(const std::string& name) {
    std::vector<std::string> out;
    auto it = values_.find(name);
    if (it == values_.end()) return out;
    std::string item;
    for (char c : it->second + ",") {
      if (c == ',') {
        if (!item.empty()) out.push_back(item);
        item.clear();
      } else if (c != ' ') {
        item.push_back(c);
      }
    }
    return out;
  }

 private:
  std::map<std::string, std::string> values_;
  std::string error_;
};

}  // namespace intentstream::sim
