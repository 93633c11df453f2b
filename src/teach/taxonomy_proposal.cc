#include "teach/taxonomy_proposal.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>

namespace intentstream::teach {

namespace {

using nlohmann::json;

bool SnakeCase(const std::string& id) {
  if (id.empty() || !std::islower(static_cast<unsigned char>(id[0]))) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  });
}

json ToJson(const std::vector<CandidateIntent>& intents) {
  json list = json::array();
  for (const auto& c : intents) {
    list.push_back({{"id", c.id},
                    {"name", c.name},
                    {"description", c.description},
                    {"marketing", c.marketing},
                    {"examples", c.examples},
                    {"rationale", c.rationale}});
  }
  return {{"intents", list}};
}

std::string TaxonomySchema() {
  const json intent = {
      {"type", "object"},
      {"properties",
       {{"id", {{"type", "string"}}},
        {"name", {{"type", "string"}}},
        {"description", {{"type", "string"}}},
        {"marketing", {{"type", "boolean"}}},
        {"examples", {{"type", "array"}, {"items", {{"type", "string"}}}}},
        {"rationale", {{"type", "string"}}}}},
      {"required", {"id", "name", "description", "marketing", "examples", "rationale"}},
      {"additionalProperties", false}};
  return json{{"type", "object"},
              {"properties", {{"intents", {{"type", "array"}, {"items", intent}}}}},
              {"required", {"intents"}},
              {"additionalProperties", false}}
      .dump();
}

std::string IssuesSchema() {
  return json{{"type", "object"},
              {"properties", {{"issues", {{"type", "array"}, {"items", {{"type", "string"}}}}}}},
              {"required", {"issues"}},
              {"additionalProperties", false}}
      .dump();
}

constexpr const char* kRole =
    "You design the intent taxonomy of a retail bank's digital channels: the reasons a "
    "customer visits the website or the app (buying a home, a fraud worry, everyday "
    "banking...). Intents must be distinct, cover what customers do, be named plainly, and "
    "be flagged marketing=false when they are service needs that must never be a sales "
    "moment. Answer with JSON only.";

// Asks, validates with `parse`, asks once more on an invalid answer. Returns false when
// both answers were unusable.
template <typename Parse>
bool Ask(llm::ChatClient& client, llm::ChatRequest request, Parse parse, const Logger& log,
         const char* step) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    const llm::ChatResult r = client.Complete(request);
    if (!r.ok) {
      log.Warn("taxonomy proposal: no answer", {{"step", step}, {"error", r.detail}});
      return false;
    }
    const std::string error = parse(r.content);
    if (error.empty()) return true;
    log.Warn("taxonomy proposal: invalid answer", {{"step", step}, {"error", error}});
    request.messages.push_back({"assistant", r.content.substr(0, 4000)});
    request.messages.push_back(
        {"user", "That answer is invalid (" + error + "). Answer again with JSON only."});
  }
  return false;
}

}  // namespace

std::string ParseTaxonomyAnswer(const std::string& content, std::vector<CandidateIntent>* out) {
  const json j = json::parse(content, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("intents") || !j["intents"].is_array()) {
    return "expected {\"intents\": [...]}";
  }
  std::vector<CandidateIntent> list;
  for (const auto& e : j["intents"]) {
    if (!e.is_object()) return "an intent is not an object";
    CandidateIntent c;
    c.id = e.value("id", "");
    c.name = e.value("name", "");
    c.description = e.value("description", "");
    if (!SnakeCase(c.id)) return "intent id '" + c.id + "' is not snake_case";
    if (c.name.empty() || c.description.empty())
      return "intent '" + c.id + "' lacks a name or description";
    if (e.contains("marketing") && !e["marketing"].is_boolean()) {
      return "intent '" + c.id + "': marketing must be true or false";
    }
    c.marketing = e.value("marketing", true);
    if (e.contains("examples") && e["examples"].is_array()) {
      for (const auto& x : e["examples"]) {
        if (x.is_string()) c.examples.push_back(x.get<std::string>());
      }
    }
    c.rationale = e.value("rationale", "");
    for (const auto& other : list) {
      if (other.id == c.id) return "intent id '" + c.id + "' appears twice";
    }
    list.push_back(std::move(c));
  }
  if (list.empty()) return "no intents";
  *out = std::move(list);
  return "";
}

ProposalResult ProposeTaxonomy(const catalog::Catalog& current,
                               const std::vector<std::string>& summaries, llm::ChatClient& client,
                               const ProposalOptions& options, const Logger& log) {
  ProposalResult result;
  std::vector<CandidateIntent> working;
  for (const auto& in : current.intents()) {
    CandidateIntent c;
    c.id = in.id;
    c.name = in.name;
    c.description = in.description;
    c.marketing = in.marketing;
    c.examples = in.pages;
    c.examples.resize(std::min<size_t>(c.examples.size(), 3));
    c.rationale = "current taxonomy";
    working.push_back(std::move(c));
  }
  const std::string limit = std::to_string(options.max_intents);
  // Generate: one update of the working taxonomy per batch of sessions.
  const size_t batch = std::max<size_t>(1, options.batch_sessions);
  for (size_t b = 0; b < summaries.size(); b += batch) {
    ++result.batches;
    std::string text =
        "Current taxonomy:\n" + ToJson(working).dump(1) + "\n\nSessions (one summary each):\n";
    for (size_t i = b; i < std::min(summaries.size(), b + batch); ++i) {
      text += "--- session " + std::to_string(i - b + 1) + "\n" + summaries[i];
    }
    text +=
        "\nUpdate the taxonomy so that every session above fits one intent: keep intents "
        "that fit, rewrite unclear ones, merge overlapping ones, add missing ones (at most " +
        limit +
        " in all). Give each intent examples (pages, screens or searches from the "
        "sessions) and a one-sentence rationale. Answer {\"intents\": [...]}.";
    llm::ChatRequest req;
    req.messages = {{"system", kRole}, {"user", text}};
    req.json_schema = TaxonomySchema();
    req.schema_name = "taxonomy";
    std::vector<CandidateIntent> next;
    if (Ask(
            client, req, [&](const std::string& c) { return ParseTaxonomyAnswer(c, &next); }, log,
            "generate")) {
      working = std::move(next);
    } else {
      ++result.failed_steps;
    }
  }
  // Review: issues against the criteria.
  {
    llm::ChatRequest req;
    req.messages = {{"system", kRole},
                    {"user",
                     "Review this taxonomy against the criteria (distinct intents, clear names and "
                     "descriptions, coverage of the sessions it was built from, service needs "
                     "flagged marketing=false). List concrete issues; an empty list if none. "
                     "Answer {\"issues\": [...]}.\n" +
                         ToJson(working).dump(1)}};
    req.json_schema = IssuesSchema();
    req.schema_name = "review";
    std::vector<std::string> issues;
    const bool ok = Ask(
        client, req,
        [&](const std::string& c) -> std::string {
          const json j = json::parse(c, nullptr, false);
          if (j.is_discarded() || !j.is_object() || !j.contains("issues") ||
              !j["issues"].is_array()) {
            return "expected {\"issues\": [...]}";
          }
          issues.clear();
          for (const auto& x : j["issues"]) {
            if (!x.is_string()) return "issues must be strings";
            issues.push_back(x.get<std::string>());
          }
          return "";
        },
        log, "review");
    if (!ok) ++result.failed_steps;
    result.issues = issues;
  }
  // Refine: fix the issues.
  if (!result.issues.empty()) {
    std::string text = "Taxonomy:\n" + ToJson(working).dump(1) + "\n\nIssues found:\n";
    for (const auto& i : result.issues) text += "- " + i + "\n";
    text += "Rewrite the taxonomy to fix them (at most " + limit +
            " intents). Answer {\"intents\": [...]}.";
    llm::ChatRequest req;
    req.messages = {{"system", kRole}, {"user", text}};
    req.json_schema = TaxonomySchema();
    req.schema_name = "taxonomy";
    std::vector<CandidateIntent> next;
    if (Ask(
            client, req, [&](const std::string& c) { return ParseTaxonomyAnswer(c, &next); }, log,
            "refine")) {
      working = std::move(next);
    } else {
      ++result.failed_steps;
    }
  }
  for (auto& c : working) {
    const int i = current.FindIntent(c.id);
    if (i < 0) {
      c.change = "new";
    } else {
      const auto& in = current.intents()[static_cast<size_t>(i)];
      c.change = in.name == c.name && in.description == c.description && in.marketing == c.marketing
                     ? "unchanged"
                     : "changed";
    }
  }
  result.intents = std::move(working);
  return result;
}

std::string WriteCandidates(const std::string& path, const ProposalResult& result) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return "cannot write " + path;
  for (const auto& c : result.intents) {
    out << json{{"id", c.id},
                {"name", c.name},
                {"description", c.description},
                {"marketing", c.marketing},
                {"examples", c.examples},
                {"change", c.change},
                {"rationale", c.rationale}}
               .dump()
        << '\n';
  }
  out.flush();
  return out ? "" : "write failed: " + path;
}

}  // namespace intentstream::teach
