// Checks of message text against its citations and the configured forbidden phrases:
// the guard a rephrase must pass (rephrase.h), the catalogue check at load (no template
// or passage an offer can show says a forbidden phrase), and the audit the evaluation
// tool runs over a decisions log. Reads text with catalog/message_text.h.
//
// Thread-safety: pure functions.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "decide/decision_metrics.h"
#include "decide/options.h"

namespace intentstream::decide {

// The phrases no message of this offer may contain: the general list, plus the credit
// list for a credit product.
std::vector<std::string> ForbiddenPhrasesFor(const DecisionOptions& options, bool credit);

// The first of `phrases` that `text` contains (any case, whole words), or "".
std::string FindForbidden(std::string_view text, std::span<const std::string> phrases);

// What a message says against what it cites.
struct MessageFindings {
  size_t sentences = 0;
  size_t factual = 0;             // sentences that state a fact (message_text.h StatesFact)
  size_t factual_cited = 0;       // ... that carry a marker, every marker resolving to a citation
  size_t unresolved_markers = 0;  // markers [n] with no citation n
  size_t numbers = 0;             // numbers in cited sentences
  size_t ungrounded_numbers = 0;  // ... that none of the sentence's cited excerpts has
  std::vector<std::string> forbidden;  // forbidden phrases found
};

// `excerpts[n - 1]` is the text cited by marker [n].
MessageFindings CheckMessage(std::string_view text, std::span<const std::string> excerpts,
                             std::span<const std::string> forbidden_phrases);

// Checks `rephrase` as a replacement of the rendered message body `source` whose marker
// [n] cites `excerpts[n - 1]`: kAccepted, or the first reason to refuse it.
RephraseOutcome CheckRephrase(std::string_view source, std::string_view rephrase,
                              std::span<const std::string> excerpts,
                              std::span<const std::string> forbidden_phrases, size_t max_bytes);

// Every phrase an offer's message could show (its template text and fields, every
// passage of the documents it cites or retrieves from, its risk warnings) against the
// forbidden phrases. Throws ConfigError naming decision.messages.forbidden_phrases(.credit),
// the offer and where the phrase is.
void CheckCatalogPhrases(const catalog::Catalog& catalog, const DecisionOptions& options);

}  // namespace intentstream::decide
