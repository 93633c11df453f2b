#include "state/visitor_table.h"

#include <algorithm>

namespace intentstream::state {

VisitorTable::Entry* VisitorTable::Find(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  Entry& e = it->second;
  lru_.splice(lru_.begin(), lru_, e.lru);
  return &e;
}

VisitorTable::Entry& VisitorTable::Insert(const std::string& key) {
  auto [it, inserted] = entries_.try_emplace(key);
  Entry& e = it->second;
  e.key = &it->first;
  lru_.push_front(&e);
  e.lru = lru_.begin();
  return e;
}

void VisitorTable::MarkDirty(Entry& e) {
  if (!e.dirty) {
    e.dirty = true;
    dirty_.push_back(&e);
  }
}

void VisitorTable::Erase(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  Entry* e = &it->second;
  if (e->dirty) dirty_.erase(std::find(dirty_.begin(), dirty_.end(), e));
  lru_.erase(e->lru);
  entries_.erase(it);
}

void VisitorTable::Committed() {
  for (Entry* e : dirty_) {
    e->dirty = false;
    e->offers_dirty = false;
  }
  dirty_.clear();
  while (entries_.size() > capacity_) {
    Entry* victim = lru_.back();
    lru_.pop_back();
    entries_.erase(*victim->key);
  }
}

void VisitorTable::Clear() {
  dirty_.clear();
  lru_.clear();
  entries_.clear();
}

}  // namespace intentstream::state
