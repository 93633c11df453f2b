// intentstream-teach: labels a generated world's sessions with a teacher, or proposes
// taxonomy entries from a sample of them (docs/intents.md). Thin: flags -> src/teach.
//
//   intentstream-teach label --data WORLD [--teacher rules|llm --config FILE] --out labels.csv
//   intentstream-teach propose --data WORLD --config FILE --sample 200 --out candidates.jsonl
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/config.h"
#include "common/logging.h"
#include "eval/dataset.h"
#include "eval/timelines.h"
#include "llm/chat_client.h"
#include "teach/labels_file.h"
#include "teach/llm_teacher.h"
#include "teach/session_summary.h"
#include "teach/taxonomy_proposal.h"
#include "teach/teacher.h"

namespace {

using namespace intentstream;

struct Common {
  std::string data_dir;
  std::string catalog_dir;
  std::string config_file;
  std::vector<std::string> assignments;
};

std::shared_ptr<const catalog::Catalog> Catalog(const Common& c) {
  return c.catalog_dir.empty() ? catalog::DefaultCatalog() : catalog::LoadCatalog(c.catalog_dir);
}

llm::ChatOptions ChatOptionsOf(const Common& c) {
  Properties props;
  if (!c.config_file.empty()) props.MergeFile(c.config_file);
  for (const auto& a : c.assignments) props.MergeAssignment(a);
  return llm::LoadChatOptions(props.values());
}

// The world's sessions with their windows; the truth is never read.
struct World {
  eval::Dataset data;
  std::unique_ptr<eval::Timelines> timelines;
  std::vector<eval::SessionWindow> sessions;
};
void LoadWorld(const std::string& dir, const std::vector<int>& splits, World* w) {
  if (const std::string error = w->data.Load(dir, {}, /*read_truth=*/false); !error.empty()) {
    throw std::runtime_error(error);
  }
  w->timelines = std::make_unique<eval::Timelines>(w->data);
  auto all = eval::BuildSessionWindows(w->data, *w->timelines, eval::VisibleOptions());
  for (auto& s : all) {
    if (std::find(splits.begin(), splits.end(), s.split) != splits.end()) {
      w->sessions.push_back(std::move(s));
    }
  }
}

teach::Session View(const eval::SessionWindow& w) {
  return {w.id, w.customer_id, w.start_ms, w.end_ms, w.events};
}

std::vector<int> ParseSplits(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) {
    if (item == "train")
      out.push_back(0);
    else if (item == "validation")
      out.push_back(1);
    else if (item == "test")
      out.push_back(2);
    else
      throw std::runtime_error("--splits: unknown split '" + item + "' (train, validation, test)");
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "intentstream-teach: teachers that label sessions, and taxonomy proposals "
      "(docs/intents.md)"};
  app.require_subcommand(1);
  Common common;
  auto add_common = [&](CLI::App* sub) {
    sub->add_option("--data", common.data_dir, "Generated world (intentstream-journeygen --out)")
        ->required();
    sub->add_option("--catalog", common.catalog_dir, "Catalogue directory (default: built-in)");
    sub->add_option("--config", common.config_file, "key = value file with the llm.* keys");
    sub->add_option("--set", common.assignments, "KEY=VALUE (llm.*), after --config");
  };

  auto* label = app.add_subcommand("label", "Label every session of the chosen periods");
  add_common(label);
  std::string teacher_name = "rules", out_path, splits_text = "train,validation,test", cache_path;
  size_t max_sessions = 0;
  teach::LlmTeacherOptions llm_options;
  label->add_option("--teacher", teacher_name, "rules or llm")
      ->check(CLI::IsMember({"rules", "llm"}))
      ->capture_default_str();
  label->add_option("--out", out_path, "Labels file (CSV) to write")->required();
  label->add_option("--splits", splits_text, "Periods to label")->capture_default_str();
  label->add_option("--max-sessions", max_sessions, "Label at most this many (0: all)");
  label->add_option("--cache", llm_options.cache_path, "LLM answer cache (JSON lines)");
  label
      ->add_option("--answer-attempts", llm_options.answer_attempts,
                   "Asks per session when an answer is invalid")
      ->capture_default_str();
  label
      ->add_option("--session-deadline-ms", llm_options.session_deadline_ms,
                   "Time limit per session, ms")
      ->capture_default_str();

  auto* propose = app.add_subcommand("propose", "Propose taxonomy entries (TnT-LLM style)");
  add_common(propose);
  std::string candidates_path;
  size_t sample = 200;
  uint64_t seed = 7;
  teach::ProposalOptions proposal;
  propose->add_option("--out", candidates_path, "Candidate entries (JSON lines) to write")
      ->required();
  propose->add_option("--sample", sample, "Sessions sampled from the train period")
      ->capture_default_str();
  propose->add_option("--batch", proposal.batch_sessions, "Sessions per generate request")
      ->capture_default_str();
  propose->add_option("--max-intents", proposal.max_intents, "Taxonomy size limit")
      ->capture_default_str();
  propose->add_option("--seed", seed, "Sampling seed")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  LogSink sink;
  Logger log(&sink, "teach");
  try {
    const auto catalog = Catalog(common);
    const teach::RuleTeacher rules(catalog);
    if (*label) {
      World world;
      LoadWorld(common.data_dir, ParseSplits(splits_text), &world);
      if (max_sessions > 0 && world.sessions.size() > max_sessions) {
        world.sessions.resize(max_sessions);
      }
      std::unique_ptr<llm::ChatClient> client;
      std::unique_ptr<teach::Teacher> teacher;
      teach::LlmTeacher* llm_teacher = nullptr;
      if (teacher_name == "llm") {
        client = std::make_unique<llm::ChatClient>(ChatOptionsOf(common));
        auto t = std::make_unique<teach::LlmTeacher>(catalog, client.get(), &rules, llm_options,
                                                     Logger(&sink, "llm-teacher"));
        llm_teacher = t.get();
        teacher = std::move(t);
      } else {
        teacher = std::make_unique<teach::RuleTeacher>(catalog);
      }
      std::vector<teach::LabelRow> rows;
      rows.reserve(world.sessions.size());
      for (size_t i = 0; i < world.sessions.size(); ++i) {
        const auto& s = world.sessions[i];
        rows.push_back({s.id, s.customer_id, s.end_ms, teacher->Label(View(s))});
        if (llm_teacher != nullptr && (i + 1) % 100 == 0) {
          std::fprintf(stderr, "\rlabelled %zu / %zu", i + 1, world.sessions.size());
        }
      }
      if (const std::string error = teach::WriteLabels(out_path, rows, *catalog); !error.empty()) {
        throw std::runtime_error("--out: " + error);
      }
      std::map<std::string, size_t> by_source;
      for (const auto& r : rows) ++by_source[r.label.source];
      std::printf("%zu sessions, %zu labelled by %s -> %s\n", world.sessions.size(), rows.size(),
                  teacher->name().c_str(), out_path.c_str());
      for (const auto& [source, n] : by_source) std::printf("  %-16s %10zu\n", source.c_str(), n);
      if (llm_teacher != nullptr) {
        const auto& c = llm_teacher->counters();
        std::printf("  llm: answered %llu, cache hits %llu, invalid answers %llu, fallbacks %llu\n",
                    static_cast<unsigned long long>(c.answered),
                    static_cast<unsigned long long>(c.cache_hits),
                    static_cast<unsigned long long>(c.invalid_answers),
                    static_cast<unsigned long long>(c.fallbacks));
        for (size_t r = 0; r < teach::kFallbackKinds; ++r) {
          if (c.fallback_by_reason[r] == 0) continue;
          std::printf("    fallback %-14s %8llu\n",
                      teach::FallbackName(static_cast<teach::Fallback>(r)),
                      static_cast<unsigned long long>(c.fallback_by_reason[r]));
        }
      }
      return 0;
    }
    // propose
    World world;
    LoadWorld(common.data_dir, {0}, &world);
    std::mt19937_64 rng(seed);
    std::shuffle(world.sessions.begin(), world.sessions.end(), rng);
    if (world.sessions.size() > sample) world.sessions.resize(sample);
    std::vector<std::string> summaries;
    for (const auto& s : world.sessions) {
      summaries.push_back(teach::SummarizeSession(View(s), rules.scorer().matcher()));
    }
    llm::ChatClient client(ChatOptionsOf(common));
    const auto result = teach::ProposeTaxonomy(*catalog, summaries, client, proposal, log);
    if (const std::string error = teach::WriteCandidates(candidates_path, result); !error.empty()) {
      throw std::runtime_error("--out: " + error);
    }
    size_t fresh = 0, changed = 0;
    for (const auto& c : result.intents) {
      fresh += c.change == "new";
      changed += c.change == "changed";
    }
    std::printf(
        "%zu sessions in %zu batches -> %zu candidate intents (%zu new, %zu changed), "
        "%zu review issues, %zu failed steps -> %s (for review; nothing applied)\n",
        summaries.size(), result.batches, result.intents.size(), fresh, changed,
        result.issues.size(), result.failed_steps, candidates_path.c_str());
    return 0;
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "intentstream-teach: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "intentstream-teach: %s\n", e.what());
    return 1;
  }
}
