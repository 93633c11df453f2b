// Visitor states held in memory by a processing thread: the ones changed since the last
// commit (dirty, pinned) and a bounded LRU of clean ones, so hot visitors are neither
// re-read nor re-parsed from RocksDB. A customer's entry also holds its decision-stage
// state (CustomerOffers), loaded on first use. One hash lookup per access; entries have
// stable addresses. Not thread-safe. Private to state/ (BatchState is the front door).
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

#include "intentstream/v1/state.pb.h"

namespace intentstream::state {

struct VisitorEntry {
  const std::string* key = nullptr;  // the table's copy (the state key)
  v1::VisitorState state;
  bool dirty = false;  // state changed since the last commit
  // Decision-stage state of a customer (column family `offers`).
  bool offers_loaded = false;
  bool offers_dirty = false;
  v1::CustomerOffers offers;
  // Scratch for the caller's per-step bookkeeping (BatchProcessor): cleared by it.
  bool in_step = false;
  std::vector<std::string> new_event_ids;
  int64_t first_arrival_us = 0;
  std::list<VisitorEntry*>::iterator lru;
};

class VisitorTable {
 public:
  using Entry = VisitorEntry;

  // Clean entries kept after a commit; 0 keeps none.
  explicit VisitorTable(size_t capacity) : capacity_(capacity) {}

  // The entry for `key`, or nullptr. A hit becomes most recently used.
  Entry* Find(const std::string& key);
  // A new, empty entry (the key must be absent).
  Entry& Insert(const std::string& key);
  void MarkDirty(Entry& e);
  // The entry changed (state or offers) and must be written at the next commit.
  const std::vector<Entry*>& dirty() const { return dirty_; }
  size_t dirty_count() const { return dirty_.size(); }
  // After the dirty entries were committed: they become clean; the LRU is trimmed.
  void Committed();
  // Drops one entry (must be clean or about to be deleted from state).
  void Erase(const std::string& key);
  // Drops every entry; only valid right after Committed().
  void Clear();

 private:
  size_t capacity_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<Entry*> lru_;  // front = most recent
  std::vector<Entry*> dirty_;
};

}  // namespace intentstream::state
