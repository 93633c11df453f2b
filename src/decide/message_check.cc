#include "decide/message_check.h"

#include <algorithm>
#include <set>

#include "catalog/message_text.h"
#include "common/config.h"

namespace intentstream::decide {

namespace {

// The numbers of the excerpts cited in a sentence.
std::set<std::string> CitedNumbers(const std::vector<int>& markers,
                                   std::span<const std::string> excerpts) {
  std::set<std::string> out;
  for (int m : markers) {
    if (m < 1 || static_cast<size_t>(m) > excerpts.size()) continue;
    for (auto& n : catalog::Numbers(excerpts[static_cast<size_t>(m - 1)])) out.insert(std::move(n));
  }
  return out;
}

}  // namespace

std::vector<std::string> ForbiddenPhrasesFor(const DecisionOptions& options, bool credit) {
  std::vector<std::string> out = options.forbidden_phrases;
  if (credit) {
    out.insert(out.end(), options.forbidden_credit_phrases.begin(),
               options.forbidden_credit_phrases.end());
  }
  return out;
}

std::string FindForbidden(std::string_view text, std::span<const std::string> phrases) {
  for (const auto& p : phrases) {
    if (catalog::ContainsPhrase(text, p)) return p;
  }
  return "";
}

MessageFindings CheckMessage(std::string_view text, std::span<const std::string> excerpts,
                             std::span<const std::string> forbidden_phrases) {
  MessageFindings f;
  for (const auto sentence : catalog::Sentences(text)) {
    ++f.sentences;
    const auto markers = catalog::CitationMarkers(sentence);
    bool resolved = !markers.empty();
    for (int m : markers) {
      if (m < 1 || static_cast<size_t>(m) > excerpts.size()) {
        ++f.unresolved_markers;
        resolved = false;
      }
    }
    if (catalog::StatesFact(sentence)) {
      ++f.factual;
      if (resolved) ++f.factual_cited;
    }
    if (markers.empty()) continue;
    const auto cited = CitedNumbers(markers, excerpts);
    for (const auto& n : catalog::Numbers(sentence)) {
      ++f.numbers;
      if (cited.count(n) == 0) ++f.ungrounded_numbers;
    }
  }
  for (const auto& p : forbidden_phrases) {
    if (catalog::ContainsPhrase(text, p)) f.forbidden.push_back(p);
  }
  return f;
}

const char* RephraseOutcomeName(RephraseOutcome outcome) {
  switch (outcome) {
    case RephraseOutcome::kAccepted:
      return "accepted";
    case RephraseOutcome::kTimeout:
      return "timeout";
    case RephraseOutcome::kServerError:
      return "server_error";
    case RephraseOutcome::kClientError:
      return "client_error";
    case RephraseOutcome::kUnreachable:
      return "unreachable";
    case RephraseOutcome::kInvalidResponse:
      return "invalid_response";
    case RephraseOutcome::kEmpty:
      return "empty";
    case RephraseOutcome::kTooLong:
      return "too_long";
    case RephraseOutcome::kMarkerLost:
      return "marker_lost";
    case RephraseOutcome::kMarkerAdded:
      return "marker_added";
    case RephraseOutcome::kNumberNotInPassage:
      return "number_not_in_passage";
    case RephraseOutcome::kUncitedFact:
      return "uncited_fact";
    case RephraseOutcome::kForbiddenPhrase:
      return "forbidden_phrase";
  }
  return "?";
}

RephraseOutcome CheckRephrase(std::string_view source, std::string_view rephrase,
                              std::span<const std::string> excerpts,
                              std::span<const std::string> forbidden_phrases, size_t max_bytes) {
  if (rephrase.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return RephraseOutcome::kEmpty;
  }
  if (rephrase.size() > max_bytes) return RephraseOutcome::kTooLong;
  if (!FindForbidden(rephrase, forbidden_phrases).empty()) {
    return RephraseOutcome::kForbiddenPhrase;
  }
  auto wanted = catalog::CitationMarkers(source);
  auto got = catalog::CitationMarkers(rephrase);
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  for (int m : got) {
    if (!std::binary_search(wanted.begin(), wanted.end(), m)) return RephraseOutcome::kMarkerAdded;
  }
  for (int m : wanted) {
    if (std::find(got.begin(), got.end(), m) == got.end()) return RephraseOutcome::kMarkerLost;
  }
  for (const auto sentence : catalog::Sentences(rephrase)) {
    const auto markers = catalog::CitationMarkers(sentence);
    const auto numbers = catalog::Numbers(sentence);
    if (markers.empty()) {
      if (!numbers.empty()) return RephraseOutcome::kNumberNotInPassage;
      if (catalog::StatesFact(sentence)) return RephraseOutcome::kUncitedFact;
      continue;
    }
    const auto cited = CitedNumbers(markers, excerpts);
    for (const auto& n : numbers) {
      if (cited.count(n) == 0) return RephraseOutcome::kNumberNotInPassage;
    }
  }
  return RephraseOutcome::kAccepted;
}

void CheckCatalogPhrases(const catalog::Catalog& catalog, const DecisionOptions& options) {
  using Kind = catalog::TemplatePart::Kind;
  for (const auto& o : catalog.offers()) {
    const auto phrases = ForbiddenPhrasesFor(options, o.credit);
    auto check = [&](std::string_view text, const std::string& where) {
      const std::string found = FindForbidden(text, phrases);
      if (found.empty()) return;
      const bool credit_only =
          std::find(options.forbidden_phrases.begin(), options.forbidden_phrases.end(), found) ==
          options.forbidden_phrases.end();
      throw ConfigError(credit_only ? "decision.messages.forbidden_phrases.credit"
                                    : "decision.messages.forbidden_phrases",
                        "offer '" + o.id + "' (catalogue " + catalog.version() + ") could say '" +
                            found + "': " + where);
    };
    check(o.name, "its name");
    check(o.headline, "its headline");
    for (const auto& part : o.message.parts) {
      if (part.kind == Kind::kText) check(part.text, "its message template");
      if (part.kind == Kind::kPassage) {
        check(catalog.passage(part.passage).text, "passage " + catalog.passage(part.passage).id);
      }
      if (part.kind == Kind::kRetrieved) {
        for (const auto& p :
             catalog.documents()[static_cast<size_t>(part.passage.document)].passages) {
          check(p.text, "passage " + p.id);
        }
      }
      if (part.kind == Kind::kProduct) {
        check(catalog.products()[static_cast<size_t>(o.product)].name, "its product's name");
      }
      if (part.kind == Kind::kIntent) {
        for (int i : o.intents)
          check(catalog.intents()[static_cast<size_t>(i)].name, "an intent name");
      }
    }
    for (const auto& w : o.risk_warnings)
      check(catalog.passage(w).text, "passage " + catalog.passage(w).id);
  }
}

}  // namespace intentstream::decide
