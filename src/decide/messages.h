// Grounded offer messages (ARCHITECTURE §5, step 8): an offer's template
// (catalog.h MessageTemplate) filled with passages of its product documents, every
// passage sentence followed by a citation marker "[n]" that points at
// RankedOffer.citations[n - 1] (document, title, url, passage id, excerpt). Template
// text itself states no fact (the catalogue refuses one that does), so every factual
// sentence of a message is cited. A sensitive product's risk warnings close every
// message of its offers.
//
// Which passages fill a {retrieved:DOC:N} slot is decided by full-text retrieval
// (retrieval.h) with the offer's name, its product's name, the offer's intent the visitor
// scores highest (its name and the taxonomy's example queries) and the visitor's recent
// search terms that the catalogue's own text contains. The result is a function of the
// catalogue and those inputs only, so the same inputs give the same message; rendered
// messages are kept in an LRU cache keyed by them, so a decision usually pays a lookup
// and a copy. The messages without search terms are rendered at construction.
//
// Not thread-safe (retrieval owns an SQLite connection): one instance per thread.
#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalog/catalog.h"
#include "decide/retrieval.h"
#include "intentstream/v1/decisions.pb.h"
#include "intentstream/v1/state.pb.h"

namespace intentstream::decide {

inline constexpr size_t kMaxMessageTerms = 4;  // recent search terms a message considers
inline constexpr int kRecentEvents = 16;       // ... from this many latest events

struct RenderedMessage {
  std::string body;      // template text and cited facts, markers [1]..[k]
  std::string warnings;  // the risk warnings (markers after the body's), or empty
  std::string text;      // body, then warnings: what a tile shows
  std::vector<catalog::PassageRef> citations;  // marker n cites citations[n - 1]
  // `text` and the citations as a tile carries them, built once (Put lends them).
  v1::RankedOffer tile;
  bool lent = false;
};

class MessageRenderer {
 public:
  // `cache_entries` >= 1. Builds the passage index (throws std::runtime_error if SQLite
  // cannot).
  MessageRenderer(std::shared_ptr<const catalog::Catalog> catalog, size_t cache_entries);

  // The visitor's recent search terms the catalogue knows (from the kRecentEvents latest
  // events, newest first, at most kMaxMessageTerms distinct ones), sorted (an order-free
  // key). Once per decision.
  void RecentTerms(const v1::VisitorState& state, std::vector<uint32_t>* out) const;

  // The offer's intent the visitor scores highest (catalogue order breaks ties), or -1
  // for an offer that serves no intent.
  int FocusIntent(int offer, std::span<const float> intent_scores) const;

  // The message of `offer` for a visitor with this focus intent and these terms (from
  // RecentTerms). The reference stays valid until the next Render call.
  const RenderedMessage& Render(int offer, int intent, std::span<const uint32_t> terms);

  // Sets `out`'s message (with `body` instead of the rendered body when not empty: a
  // rephrase of it) and its citations: a copy.
  void Fill(const RenderedMessage& message, std::string_view body, v1::RankedOffer* out) const;

  // Render, then Fill(message, {}, out) without copying: the rendered message and its
  // citations are swapped into `out` and swapped back by Reclaim(), which must run
  // before `out` is cleared, changed or destroyed, and before this renderer is (copying
  // the citations into every tile would cost as much as the rest of the decision's
  // message work). A lent message is not evicted from the cache.
  void Put(int offer, int intent, std::span<const uint32_t> terms, v1::RankedOffer* out);
  void Reclaim();

  // Renders without the cache (what a cache miss does).
  RenderedMessage RenderUncached(int offer, int intent, std::span<const uint32_t> terms);

  struct CacheStats {
    uint64_t hits = 0;
    uint64_t misses = 0;
  };
  CacheStats cache_stats() const { return stats_; }
  const catalog::Catalog& catalog() const { return *catalog_; }

 private:
  struct Key {
    int offer = -1;
    int intent = -1;
    std::array<uint32_t, kMaxMessageTerms> terms{};
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Entry {
    Key key;
    RenderedMessage message;
  };
  // The message, from plain_ or the LRU (whose entries are never evicted while lent).
  RenderedMessage& Lookup(int offer, int intent, std::span<const uint32_t> terms);

  std::shared_ptr<const catalog::Catalog> catalog_;
  PassageIndex index_;
  size_t capacity_;
  std::list<Entry> lru_;  // most recent first
  std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> entries_;
  // Per offer: the search terms that can change its message (they match a passage of a
  // document it retrieves from), ascending.
  std::vector<std::vector<uint32_t>> relevant_terms_;
  // Per offer, per intent it serves (or one for none): the message without search terms.
  std::vector<std::vector<RenderedMessage>> plain_;
  std::vector<std::pair<RenderedMessage*, v1::RankedOffer*>> loans_;
  // Citation of every passage, built once: [document][passage].
  std::vector<std::vector<v1::Citation>> citations_;
  CacheStats stats_;
};

}  // namespace intentstream::decide
