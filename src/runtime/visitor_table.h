// Visitor states held in memory by the processing thread: the ones changed since the last
// commit (dirty, pinned) and a bounded LRU of clean ones, so hot visitors are neither
// re-read nor re-parsed from RocksDB. One hash lookup per access; entries have stable
// addresses. Not thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

#include "intentstream/v1/state.pb.h"

namespace intentstream::runtime {

class VisitorTable {
 public:
  struct Entry {
    const std::string* key = nullptr;  // the table's copy
    v1::VisitorState state;
    bool dirty = false;                      // changed since the last commit
    bool in_poll = false;                    // changed by the current poll batch
    std::vector<std::string> new_event_ids;  // this poll's own events
    int64_t first_arrival_us = 0;
    std::list<Entry*>::iterator lru;
  };

  // Clean entries kept after a commit; 0 keeps none.
  explicit VisitorTable(size_t capacity) : capacity_(capacity) {}

  // The entry for `key`, or nullptr. A hit becomes most recently used.
  Entry* Find(const std::string& key);
  // A new, empty entry (the key must be absent).
  Entry& Insert(const std::string& key);
  void MarkDirty(Entry& e);
  const std::vector<Entry*>& dirty() const { return dirty_; }
  size_t dirty_count() const { return dirty_.size(); }
  // After the dirty entries were committed: they become clean; the LRU is trimmed.
  void Committed();
  // Drops every entry; only valid right after Committed().
  void Clear();

 private:
  size_t capacity_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<Entry*> lru_;  // front = most recent
  std::vector<Entry*> dirty_;
};

}  // namespace intentstream::runtime
