// The audit of a decisions log (intentstream run --decisions-out): every tile's message
// read sentence by sentence against its citations (decide/message_check.h): the share
// of factual sentences that cite a passage (goal: 100%), numbers a cited passage does
// not contain, markers that point nowhere, forbidden phrases (goal: 0), and whether
// every tile of a sensitive product carries its risk warning.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "decide/options.h"
#include "intentstream/v1/decisions.pb.h"

namespace intentstream::eval {

// Reads a JSON-lines file of decisions (protobuf's JSON mapping), dropping repeats of a
// decision_id (the log is at-least-once). Returns "" or an error naming file and line.
std::string ReadDecisions(const std::string& path, std::vector<v1::Decision>* out, size_t* repeats);

struct MessageAudit {
  size_t decisions = 0;
  size_t tiles = 0;
  size_t tiles_cited = 0;  // with at least one citation
  size_t sentences = 0, factual = 0, factual_cited = 0;
  size_t numbers = 0, ungrounded_numbers = 0, unresolved_markers = 0;
  size_t sensitive_tiles = 0, sensitive_with_warning = 0;
  size_t unknown_offers = 0;                // tiles of offers the catalogue lacks
  std::map<std::string, size_t> forbidden;  // phrase -> tiles containing it
  std::vector<std::string> problems;        // the first few, readable
  size_t forbidden_total() const;
  double cited_share() const { return factual > 0 ? double(factual_cited) / double(factual) : 1; }
};

MessageAudit AuditMessages(const std::vector<v1::Decision>& decisions,
                           const catalog::Catalog& catalog, const decide::DecisionOptions& options);

std::string FormatAudit(const MessageAudit& audit, const std::string& source);

}  // namespace intentstream::eval
