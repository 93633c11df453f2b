#include "common/text.h"

#include <cctype>

namespace intentstream {

namespace {
constexpr int kMaxPathSegments = 3;
}

std::string CategoryFromPath(std::string_view url_path) {
  const size_t cut = url_path.find_first_of("?#");
  if (cut != std::string_view::npos) url_path = url_path.substr(0, cut);
  std::string out;
  out.reserve(url_path.size() + 1);
  int segments = 0;
  size_t i = 0;
  while (i < url_path.size()) {
    while (i < url_path.size() && url_path[i] == '/') ++i;
    if (i >= url_path.size()) break;
    if (segments == kMaxPathSegments) break;
    out.push_back('/');
    while (i < url_path.size() && url_path[i] != '/') {
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(url_path[i]))));
      ++i;
    }
    ++segments;
  }
  if (out.empty()) return std::string(1, '/');
  if (out.size() > kMaxPathCategoryBytes) {
    size_t cut = kMaxPathCategoryBytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

std::vector<std::string> SearchTerms(std::string_view text) {
  std::vector<std::string> out;
  std::string term;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      term.push_back(static_cast<char>(std::tolower(u)));
    } else if (!term.empty()) {
      out.push_back(std::move(term));
      term.clear();
    }
  }
  if (!term.empty()) out.push_back(std::move(term));
  return out;
}

}  // namespace intentstream
