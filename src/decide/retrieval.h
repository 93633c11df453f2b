// Full-text retrieval over the catalogue's document passages: an in-memory SQLite FTS5
// index (porter stemming, bm25 ranking) built from the catalogue at load. Messages use
// it to pick, from a document, the passages that best match what the visitor is after
// (the offer, its product, the visitor's top intent and recent search terms).
//
// Visitor state keeps search text only as hashed terms (common/text.h, FNV-1a 32); the
// index knows every word of the catalogue's own text, so TermOf() turns a hash back into
// a word only when the catalogue has that word, and nothing else is ever recovered.
//
// Not thread-safe (one SQLite connection): one instance per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalog/catalog.h"

struct sqlite3;
struct sqlite3_stmt;

namespace intentstream::decide {

class PassageIndex {
 public:
  // Builds the index. Throws std::runtime_error when SQLite fails (no FTS5 in the
  // linked library, out of memory).
  explicit PassageIndex(const catalog::Catalog& catalog);
  ~PassageIndex();
  PassageIndex(const PassageIndex&) = delete;
  PassageIndex& operator=(const PassageIndex&) = delete;

  // Up to `limit` passages of `document` (indexes into its passages) that match any of
  // `terms`, best bm25 first, ties in document order; risk warnings are never returned.
  // Terms are words (any case); stop words and duplicates are ignored.
  std::vector<int> Search(int document, std::span<const std::string> terms, size_t limit);

  // A word of the catalogue's text (not a stop word) and the documents whose passages
  // match it (after stemming), ascending.
  struct Term {
    std::string word;
    std::vector<int> documents;
  };
  // The catalogue word whose search-term hash this is, or nullptr.
  const Term* TermOf(uint32_t hash) const;
  // Whether TermOf(hash) is not null (a binary search: cheaper on the per-event path).
  bool Knows(uint32_t hash) const;
  // The hashes of the words that match a passage of one of `documents`, ascending.
  std::vector<uint32_t> TermsMatching(std::span<const int> documents) const;

  // Words of a text as retrieval terms: common/text.h SearchTerms without stop words.
  static std::vector<std::string> Terms(std::string_view text);

 private:
  void LinkTermsToDocuments();

  struct DbClose {
    void operator()(sqlite3* db) const;
  };
  struct StmtFinalize {
    void operator()(sqlite3_stmt* s) const;
  };
  std::unique_ptr<sqlite3, DbClose> db_;
  std::unique_ptr<sqlite3_stmt, StmtFinalize> search_;
  std::unordered_map<uint32_t, Term> vocabulary_;
  std::vector<uint32_t> known_;  // vocabulary_'s keys, ascending
  std::string match_;            // scratch: the MATCH expression
};

}  // namespace intentstream::decide
