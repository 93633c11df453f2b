#include "catalog/message_text.h"

#include <algorithm>
#include <cctype>
#include <iterator>

namespace intentstream::catalog {

namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Length of a citation marker "[n]" starting at text[i], or 0.
size_t MarkerAt(std::string_view text, size_t i, int* n = nullptr) {
  if (i >= text.size() || text[i] != '[') return 0;
  size_t j = i + 1;
  int value = 0;
  while (j < text.size() && IsDigit(text[j]) && j - i <= 3) value = value * 10 + (text[j++] - '0');
  if (j == i + 1 || j >= text.size() || text[j] != ']' || value == 0) return 0;
  if (n != nullptr) *n = value;
  return j + 1 - i;
}

// Words that make a sentence a statement of terms (matched as whole lower-case words).
constexpr std::string_view kFactWords[] = {
    "apr",      "aer",       "ear",        "aprc",       "rate",        "rates",        "interest",
    "fee",      "fees",      "charge",     "charges",    "charged",     "cost",         "costs",
    "limit",    "limits",    "minimum",    "maximum",    "eligible",    "eligibility",  "must",
    "subject",  "condition", "conditions", "terms",      "guarantee",   "guaranteed",   "approved",
    "approval", "penalty",   "repayment",  "repayments", "repossessed", "protected",    "cover",
    "covered",  "excess",    "free",       "tax",        "refund",      "compensation", "allowance",
    "capped",   "variable"};

}  // namespace

std::vector<std::string_view> Sentences(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c == '.' || c == '!' || c == '?') && (i + 1 == text.size() || IsSpace(text[i + 1]))) {
      const auto s = Trim(text.substr(start, i + 1 - start));
      if (!s.empty()) out.push_back(s);
      start = i + 1;
    }
  }
  const auto rest = Trim(text.substr(std::min(start, text.size())));
  if (!rest.empty()) out.push_back(rest);
  return out;
}

std::vector<int> CitationMarkers(std::string_view text) {
  std::vector<int> out;
  for (size_t i = 0; i < text.size(); ++i) {
    int n = 0;
    if (const size_t len = MarkerAt(text, i, &n); len > 0) {
      out.push_back(n);
      i += len - 1;
    }
  }
  return out;
}

std::string WithoutMarkers(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (const size_t len = MarkerAt(text, i); len > 0) {
      while (!out.empty() && out.back() == ' ') out.pop_back();
      i += len - 1;
      continue;
    }
    out.push_back(text[i]);
  }
  return out;
}

std::vector<std::string> Numbers(std::string_view text) {
  std::vector<std::string> out;
  for (size_t i = 0; i < text.size();) {
    if (const size_t len = MarkerAt(text, i); len > 0) {
      i += len;
      continue;
    }
    if (!IsDigit(text[i])) {
      ++i;
      continue;
    }
    std::string n;
    bool decimal = false;
    while (i < text.size()) {
      const char c = text[i];
      if (IsDigit(c)) {
        n.push_back(c);
      } else if (c == ',' && i + 1 < text.size() && IsDigit(text[i + 1]) && !decimal) {
        // thousands separator: dropped
      } else if (c == '.' && i + 1 < text.size() && IsDigit(text[i + 1]) && !decimal) {
        decimal = true;
        n.push_back('.');
      } else {
        break;
      }
      ++i;
    }
    out.push_back(std::move(n));
  }
  return out;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool StatesFact(std::string_view sentence) {
  const std::string s = Lower(WithoutMarkers(sentence));
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (IsDigit(c) || c == '%' || c == '$') return true;
  }
  // Currency signs outside ASCII: pound (C2 A3) and euro (E2 82 AC) in UTF-8.
  if (s.find("\xC2\xA3") != std::string::npos || s.find("\xE2\x82\xAC") != std::string::npos) {
    return true;
  }
  for (size_t i = 0; i < s.size();) {
    if (!IsWordChar(s[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && IsWordChar(s[j])) ++j;
    const std::string_view word(s.data() + i, j - i);
    if (std::find(std::begin(kFactWords), std::end(kFactWords), word) != std::end(kFactWords))
      return true;
    i = j;
  }
  return false;
}

bool ContainsPhrase(std::string_view haystack, std::string_view phrase) {
  if (phrase.empty()) return false;
  const std::string h = Lower(haystack);
  const std::string p = Lower(phrase);
  for (size_t at = h.find(p); at != std::string::npos; at = h.find(p, at + 1)) {
    const bool starts = at == 0 || !IsWordChar(h[at - 1]) || !IsWordChar(p.front());
    const size_t end = at + p.size();
    const bool ends = end == h.size() || !IsWordChar(h[end]) || !IsWordChar(p.back());
    if (starts && ends) return true;
  }
  return false;
}

}  // namespace intentstream::catalog
