#include "decide/retrieval.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <stdexcept>

#include "common/hash.h"
#include "common/text.h"

namespace intentstream::decide {

namespace {

// Words that say nothing about a product; left out of queries.
constexpr std::string_view kStopWords[] = {
    "a",    "an",  "and",  "are", "as", "at",   "be",   "by",   "can", "do",  "for", "from",
    "how",  "i",   "in",   "is",  "it", "me",   "my",   "of",   "on",  "or",  "our", "so",
    "that", "the", "this", "to",  "we", "what", "when", "with", "you", "your"};

bool IsStopWord(std::string_view w) {
  return std::find(std::begin(kStopWords), std::end(kStopWords), w) != std::end(kStopWords);
}

[[noreturn]] void Fail(sqlite3* db, const std::string& what) {
  throw std::runtime_error("passage index: " + what + ": " +
                           (db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
}

}  // namespace

void PassageIndex::DbClose::operator()(sqlite3* db) const {
  sqlite3_close(db);
}
void PassageIndex::StmtFinalize::operator()(sqlite3_stmt* s) const {
  sqlite3_finalize(s);
}

std::vector<std::string> PassageIndex::Terms(std::string_view text) {
  std::vector<std::string> out;
  for (auto& t : SearchTerms(text)) {
    if (!IsStopWord(t)) out.push_back(std::move(t));
  }
  return out;
}

PassageIndex::PassageIndex(const catalog::Catalog& catalog) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(":memory:", &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  db_.reset(raw);
  if (rc != SQLITE_OK) Fail(raw, "cannot open an in-memory database");
  auto exec = [&](const char* sql) {
    if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) Fail(db_.get(), sql);
  };
  // body: the passage; heading: its document's title and product name; doc and passage:
  // where it is, for filtering and for the answer.
  exec(
      "CREATE VIRTUAL TABLE passages USING fts5(body, heading, doc UNINDEXED, "
      "passage UNINDEXED, tokenize = 'porter unicode61')");
  sqlite3_stmt* insert = nullptr;
  if (sqlite3_prepare_v2(db_.get(), "INSERT INTO passages VALUES (?1, ?2, ?3, ?4)", -1, &insert,
                         nullptr) != SQLITE_OK) {
    Fail(db_.get(), "prepare insert");
  }
  std::unique_ptr<sqlite3_stmt, StmtFinalize> ins(insert);
  auto learn = [&](std::string_view text) {
    for (auto& t : Terms(text)) {
      const uint32_t hash = Fnv1a32(t);
      vocabulary_.try_emplace(hash, Term{std::move(t), {}});
    }
  };
  exec("BEGIN");
  const auto& docs = catalog.documents();
  for (size_t d = 0; d < docs.size(); ++d) {
    const auto& doc = docs[d];
    std::string heading = doc.title;
    if (doc.product >= 0) {
      heading += " " + catalog.products()[static_cast<size_t>(doc.product)].name;
    }
    learn(heading);
    for (size_t p = 0; p < doc.passages.size(); ++p) {
      const auto& passage = doc.passages[p];
      learn(passage.text);
      if (passage.kind == catalog::PassageKind::kRiskWarning) continue;
      sqlite3_bind_text(insert, 1, passage.text.data(), static_cast<int>(passage.text.size()),
                        SQLITE_STATIC);
      sqlite3_bind_text(insert, 2, heading.data(), static_cast<int>(heading.size()), SQLITE_STATIC);
      sqlite3_bind_int(insert, 3, static_cast<int>(d));
      sqlite3_bind_int(insert, 4, static_cast<int>(p));
      if (sqlite3_step(insert) != SQLITE_DONE) Fail(db_.get(), "insert passage " + passage.id);
      sqlite3_reset(insert);
    }
  }
  exec("COMMIT");
  for (const auto& o : catalog.offers()) learn(o.name + " " + o.headline);
  for (const auto& p : catalog.products()) learn(p.name);
  for (const auto& i : catalog.intents()) {
    learn(i.name + " " + i.description);
    for (const auto& q : i.queries) learn(q);
  }
  LinkTermsToDocuments();
  sqlite3_stmt* search = nullptr;
  // Best first; ties in document order, so the answer never depends on SQLite's internals.
  if (sqlite3_prepare_v2(db_.get(),
                         "SELECT passage FROM passages WHERE passages MATCH ?1 AND doc = ?2 "
                         "ORDER BY bm25(passages, 1.0, 0.25), passage LIMIT ?3",
                         -1, &search, nullptr) != SQLITE_OK) {
    Fail(db_.get(), "prepare search");
  }
  search_.reset(search);
}

PassageIndex::~PassageIndex() = default;

// Which documents each vocabulary word matches, as FTS5 sees it (porter stems of the
// passage bodies): the words go through the same tokenizer in a second table, and the
// fts5vocab tables of both give the stems.
void PassageIndex::LinkTermsToDocuments() {
  auto exec = [&](const std::string& sql) {
    if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      Fail(db_.get(), sql);
    }
  };
  exec("CREATE VIRTUAL TABLE words USING fts5(word, tokenize = 'porter unicode61')");
  exec("CREATE VIRTUAL TABLE passage_stems USING fts5vocab(passages, instance)");
  exec("CREATE VIRTUAL TABLE word_stems USING fts5vocab(words, instance)");
  std::vector<uint32_t> hashes;
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_.get(), "INSERT INTO words(rowid, word) VALUES (?1, ?2)", -1, &raw,
                         nullptr) != SQLITE_OK) {
    Fail(db_.get(), "prepare words");
  }
  std::unique_ptr<sqlite3_stmt, StmtFinalize> insert(raw);
  exec("BEGIN");
  for (const auto& [hash, term] : vocabulary_) {
    sqlite3_bind_int64(raw, 1, static_cast<sqlite3_int64>(hashes.size()));
    sqlite3_bind_text(raw, 2, term.word.data(), static_cast<int>(term.word.size()), SQLITE_STATIC);
    if (sqlite3_step(raw) != SQLITE_DONE) Fail(db_.get(), "insert word " + term.word);
    sqlite3_reset(raw);
    hashes.push_back(hash);
  }
  exec("COMMIT");
  // (word, document) for every word whose stem occurs in a passage body (column 0).
  const char* sql =
      "SELECT DISTINCT w.doc, p.doc FROM word_stems w JOIN passage_stems s ON s.term = w.term "
      "JOIN passages p ON p.rowid = s.doc WHERE s.col = 'body'";
  if (sqlite3_prepare_v2(db_.get(), sql, -1, &raw, nullptr) != SQLITE_OK) {
    Fail(db_.get(), "prepare stems");
  }
  std::unique_ptr<sqlite3_stmt, StmtFinalize> stems(raw);
  int rc = 0;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    const auto word = static_cast<size_t>(sqlite3_column_int64(raw, 0));
    auto& docs = vocabulary_.at(hashes.at(word)).documents;
    docs.push_back(sqlite3_column_int(raw, 1));
  }
  if (rc != SQLITE_DONE) Fail(db_.get(), "stems");
  for (auto& [hash, term] : vocabulary_) {
    known_.push_back(hash);
    std::sort(term.documents.begin(), term.documents.end());
    term.documents.erase(std::unique(term.documents.begin(), term.documents.end()),
                         term.documents.end());
  }
  std::sort(known_.begin(), known_.end());
}

bool PassageIndex::Knows(uint32_t hash) const {
  return std::binary_search(known_.begin(), known_.end(), hash);
}

std::vector<uint32_t> PassageIndex::TermsMatching(std::span<const int> documents) const {
  std::vector<uint32_t> out;
  for (const auto& [hash, term] : vocabulary_) {
    for (int d : documents) {
      if (std::binary_search(term.documents.begin(), term.documents.end(), d)) {
        out.push_back(hash);
        break;
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

const PassageIndex::Term* PassageIndex::TermOf(uint32_t hash) const {
  const auto it = vocabulary_.find(hash);
  return it == vocabulary_.end() ? nullptr : &it->second;
}

std::vector<int> PassageIndex::Search(int document, std::span<const std::string> terms,
                                      size_t limit) {
  std::vector<int> out;
  // Each term quoted: FTS5 syntax in a term (AND, NEAR, '*', ':') is then just a word.
  std::set<std::string> seen;
  match_.clear();
  for (const auto& term : terms) {
    std::string t;
    for (char c : term) {
      if (c != '"') t.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    if (t.empty() || IsStopWord(t) || !seen.insert(t).second) continue;
    if (!match_.empty()) match_ += " OR ";
    match_ += '"' + t + '"';
  }
  if (match_.empty() || limit == 0) return out;
  sqlite3_stmt* s = search_.get();
  sqlite3_bind_text(s, 1, match_.data(), static_cast<int>(match_.size()), SQLITE_STATIC);
  sqlite3_bind_int(s, 2, document);
  sqlite3_bind_int64(s, 3, static_cast<sqlite3_int64>(limit));
  int rc = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(sqlite3_column_int(s, 0));
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  if (rc != SQLITE_DONE) Fail(db_.get(), "search");
  return out;
}

}  // namespace intentstream::decide
