// Taxonomy proposal: candidate taxonomy entries from a sample of sessions, for a person
// to review, in the generate -> review -> refine shape of TnT-LLM (taxonomy generation
// with an LLM over batches of summarised sessions):
//
//   generate  for each batch of session summaries, the model updates the working
//             taxonomy (it starts from the bank's current one): keeps, merges, adds or
//             rewrites intents so that the batch's sessions fit;
//   review    the model checks the result against criteria (intents distinct, names and
//             descriptions clear, service needs such as fraud worries not marketing)
//             and lists issues;
//   refine    the model rewrites the taxonomy to fix the issues.
//
// Each step's answer is JSON, validated (ids in snake_case, names and descriptions
// present); an invalid answer is asked once more, and a step that still fails keeps the
// taxonomy it started from (logged). Nothing is applied: the result is written as JSON
// lines shaped like taxonomy.jsonl entries plus "change" (new, changed, unchanged) and
// "rationale", for a person to edit into models/catalog/taxonomy.jsonl (where the
// loader checks it as any taxonomy).
#pragma once

#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/logging.h"
#include "llm/chat_client.h"

namespace intentstream::teach {

struct ProposalOptions {
  size_t batch_sessions = 20;  // summaries per generate request
  size_t max_intents = 20;     // the taxonomy's size limit the model is given
};

struct CandidateIntent {
  std::string id;
  std::string name;
  std::string description;
  bool marketing = true;
  std::vector<std::string> examples;  // pages, screens or searches the model cites
  std::string rationale;
  std::string change;  // "new", "changed" or "unchanged" against the current taxonomy
};

struct ProposalResult {
  std::vector<CandidateIntent> intents;
  std::vector<std::string> issues;  // the review's findings
  size_t batches = 0;
  size_t failed_steps = 0;  // steps whose answers stayed invalid (their input was kept)
};

ProposalResult ProposeTaxonomy(const catalog::Catalog& current,
                               const std::vector<std::string>& summaries, llm::ChatClient& client,
                               const ProposalOptions& options, const Logger& log);

// One JSON object per line, for review. Returns "" on success, else an error.
std::string WriteCandidates(const std::string& path, const ProposalResult& result);

// Parses a taxonomy answer {"intents": [{id, name, description, marketing, examples,
// rationale}]}. Returns "" and fills `out`, else the reason (for tests).
std::string ParseTaxonomyAnswer(const std::string& content, std::vector<CandidateIntent>* out);

}  // namespace intentstream::teach
