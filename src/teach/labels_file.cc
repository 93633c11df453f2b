#include "teach/labels_file.h"

#include <charconv>
#include <fstream>
#include <sstream>

#include "common/csv.h"

namespace intentstream::teach {

namespace {

// The intents column: ids separated by ';'.
std::vector<std::string> SplitIds(const std::string& cell) {
  std::vector<std::string> out(1);
  for (char c : cell) {
    if (c == ';') {
      out.emplace_back();
    } else {
      out.back().push_back(c);
    }
  }
  return out;
}

constexpr const char* kHeader = "session_id,visitor_id,end_ms,source,top,intents";

}  // namespace

std::string WriteLabels(const std::string& path, const std::vector<LabelRow>& rows,
                        const catalog::Catalog& catalog) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return "cannot write " + path;
  out << kHeader << '\n';
  const auto id = [&](int i) { return catalog.intents()[static_cast<size_t>(i)].id; };
  for (const auto& r : rows) {
    out << r.session_id << ',' << r.visitor_id << ',' << r.end_ms << ',' << r.label.source << ','
        << (r.label.top >= 0 ? id(r.label.top) : "") << ',';
    for (size_t k = 0; k < r.label.intents.size(); ++k) {
      out << (k ? ";" : "") << id(r.label.intents[k]);
    }
    out << '\n';
  }
  out.flush();
  return out ? "" : "write failed: " + path;
}

std::string ReadLabels(const std::string& path, const catalog::Catalog& catalog,
                       std::unordered_map<std::string, LabelRow>* out) {
  std::ifstream in(path);
  if (!in) return "cannot read " + path;
  csv::Reader reader(in);
  csv::Record record;
  std::string error;
  bool header = true;
  while (true) {
    const auto status = reader.Next(&record, &error);
    if (status == csv::Reader::Status::kEnd) break;
    const std::string where = path + ":" + std::to_string(record.line) + ": ";
    if (status == csv::Reader::Status::kMalformed) return where + error;
    const auto& cells = record.fields;
    if (header) {
      header = false;
      std::string got;
      for (size_t i = 0; i < cells.size(); ++i) got += (i ? "," : "") + cells[i];
      if (got != kHeader) return where + "expected the header '" + std::string(kHeader) + "'";
      continue;
    }
    if (cells.size() != 6) return where + "expected 6 columns, got " + std::to_string(cells.size());
    LabelRow r;
    r.session_id = cells[0];
    r.visitor_id = cells[1];
    const auto [ptr, ec] =
        std::from_chars(cells[2].data(), cells[2].data() + cells[2].size(), r.end_ms);
    if (ec != std::errc() || ptr != cells[2].data() + cells[2].size()) {
      return where + "end_ms: not an integer: '" + cells[2] + "'";
    }
    r.label.source = cells[3];
    if (!cells[5].empty()) {
      for (const auto& id : SplitIds(cells[5])) {
        const int i = catalog.FindIntent(id);
        if (i < 0) return where + "intents: unknown intent '" + id + "'";
        r.label.intents.push_back(i);
      }
    }
    r.label.top = r.label.intents.empty() ? -1 : r.label.intents.front();
    if (!cells[4].empty() &&
        (r.label.top < 0 || catalog.intents()[static_cast<size_t>(r.label.top)].id != cells[4])) {
      return where + "top: '" + cells[4] + "' is not the first of the intents";
    }
    if (r.session_id.empty()) return where + "session_id: empty";
    if (!out->emplace(r.session_id, r).second) {
      return where + "session_id: '" + r.session_id + "' appears twice";
    }
  }
  if (header) return path + ": empty";
  return "";
}

}  // namespace intentstream::teach
