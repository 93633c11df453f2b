// Reads values out of a Prometheus text exposition (tests only).
#pragma once

#include <sstream>
#include <string>

namespace intentstream::testing {

// Sum of every sample whose series starts with `prefix` (a name, or a name with the
// beginning of its labels, e.g. `intentstream_input_messages_total{outcome="accepted"`)
// and whose line contains `must_contain` (if given). -1 when none matches.
inline double SumSamples(const std::string& text, const std::string& prefix,
                         const std::string& must_contain = "") {
  std::istringstream in(text);
  std::string line;
  double sum = 0;
  bool any = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line.rfind(prefix, 0) != 0) continue;
    const char next = line.size() > prefix.size() ? line[prefix.size()] : ' ';
    if (prefix.back() != '"' && next != ' ' && next != '{' && next != ',') continue;
    if (!must_contain.empty() && line.find(must_contain) == std::string::npos) continue;
    const size_t space = line.rfind(' ');
    sum += std::stod(line.substr(space + 1));
    any = true;
  }
  return any ? sum : -1;
}

}  // namespace intentstream::testing
