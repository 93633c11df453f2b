#include "eval/message_audit.h"

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "common/jsonl.h"
#include "decide/message_check.h"

namespace intentstream::eval {

namespace {
constexpr size_t kProblemsShown = 5;
}

std::string ReadDecisions(const std::string& path, std::vector<v1::Decision>* out,
                          size_t* repeats) {
  jsonl::MessageReader<v1::Decision> reader(path, "--decisions: " + path);
  if (!reader.is_open()) return "--decisions: cannot read " + path;
  std::set<std::string> seen;
  *repeats = 0;
  for (std::string error;;) {
    const auto status = reader.Next(&error);
    if (status == jsonl::MessageReader<v1::Decision>::Status::kEnd) break;
    if (status == jsonl::MessageReader<v1::Decision>::Status::kMalformed) return error;
    v1::Decision& d = reader.message();
    if (!seen.insert(d.decision_id()).second) {
      ++*repeats;
      continue;
    }
    out->push_back(std::move(d));
  }
  return "";
}

size_t MessageAudit::forbidden_total() const {
  size_t n = 0;
  for (const auto& [phrase, count] : forbidden) n += count;
  return n;
}

MessageAudit AuditMessages(const std::vector<v1::Decision>& decisions,
                           const catalog::Catalog& catalog,
                           const decide::DecisionOptions& options) {
  MessageAudit a;
  a.decisions = decisions.size();
  auto problem = [&](const v1::Decision& d, const v1::RankedOffer& o, const std::string& what) {
    if (a.problems.size() < kProblemsShown) {
      a.problems.push_back(d.decision_id() + " " + o.offer_id() + ": " + what);
    }
  };
  std::vector<std::string> excerpts;
  for (const auto& d : decisions) {
    for (const auto& o : d.offers()) {
      ++a.tiles;
      if (o.citations_size() > 0) ++a.tiles_cited;
      const int idx = catalog.FindOffer(o.offer_id());
      if (idx < 0) ++a.unknown_offers;
      const bool credit = idx >= 0 && catalog.offers()[static_cast<size_t>(idx)].credit;
      excerpts.clear();
      for (const auto& c : o.citations()) excerpts.push_back(c.excerpt());
      const auto phrases = decide::ForbiddenPhrasesFor(options, credit);
      const auto f = decide::CheckMessage(o.message(), excerpts, phrases);
      a.sentences += f.sentences;
      a.factual += f.factual;
      a.factual_cited += f.factual_cited;
      a.numbers += f.numbers;
      a.ungrounded_numbers += f.ungrounded_numbers;
      a.unresolved_markers += f.unresolved_markers;
      for (const auto& p : f.forbidden) ++a.forbidden[p];
      if (f.factual_cited < f.factual) problem(d, o, "uncited fact in: " + o.message());
      if (f.ungrounded_numbers > 0) problem(d, o, "a number its citation lacks: " + o.message());
      if (!f.forbidden.empty()) problem(d, o, "forbidden phrase '" + f.forbidden[0] + "'");
      if (idx >= 0 && catalog.offers()[static_cast<size_t>(idx)].sensitive) {
        ++a.sensitive_tiles;
        bool warned = false;
        for (const auto& w : catalog.offers()[static_cast<size_t>(idx)].risk_warnings) {
          for (const auto& c : o.citations())
            warned = warned || c.passage_id() == catalog.passage(w).id;
        }
        if (warned) {
          ++a.sensitive_with_warning;
        } else {
          problem(d, o, "no risk warning");
        }
      }
    }
  }
  return a;
}

std::string FormatAudit(const MessageAudit& a, const std::string& source) {
  std::ostringstream out;
  char buf[256];
  out << "message audit of " << source << ": " << a.decisions << " decisions, " << a.tiles
      << " tiles (" << a.tiles_cited << " with citations)\n";
  std::snprintf(
      buf, sizeof buf,
      "  factual sentences cited       %zu / %zu = %.2f%%   (goal 100%%; %zu sentences)\n",
      a.factual_cited, a.factual, 100.0 * a.cited_share(), a.sentences);
  out << buf;
  std::snprintf(buf, sizeof buf, "  forbidden phrases found       %zu   (goal 0)\n",
                a.forbidden_total());
  out << buf;
  for (const auto& [phrase, n] : a.forbidden) out << "    '" << phrase << "': " << n << " tiles\n";
  std::snprintf(buf, sizeof buf,
                "  numbers not in a cited passage %zu of %zu; markers citing nothing %zu\n",
                a.ungrounded_numbers, a.numbers, a.unresolved_markers);
  out << buf;
  std::snprintf(buf, sizeof buf, "  sensitive tiles with their risk warning %zu / %zu\n",
                a.sensitive_with_warning, a.sensitive_tiles);
  out << buf;
  if (a.unknown_offers > 0) {
    out << "  " << a.unknown_offers << " tiles of offers this catalogue does not have\n";
  }
  for (const auto& p : a.problems) out << "  e.g. " << p << '\n';
  return out.str();
}

}  // namespace intentstream::eval
