// RocksDB state of one processor process: one DB, one column family per kind of state
// (ARCHITECTURE §3); idle sessions and old dedup entries expire in compaction
// (state/expiry_filter.h).
//
// Thread-safety: all methods may be called concurrently (RocksDB is thread-safe); the
// processing thread is the only writer. Errors from RocksDB are thrown as StateError:
// they abort the processing loop (the process restarts from the last commit).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/write_batch.h>

#include "common/ids.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class CompactionFilter;
}  // namespace rocksdb

namespace intentstream::state {

class StateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Cf { kSessions = 0, kIdentity, kProfiles, kOffers, kDedup, kMeta, kDecisions, kCount };
std::string_view CfName(Cf cf);

struct StoreOptions {
  // Directory of the RocksDB instance; created if missing. Required.
  std::string dir;
  // Sessions untouched for this long are dropped in compaction (privacy, size).
  // Default: 30 days.
  int32_t session_ttl_s = 30 * 24 * 3600;
  // Dedup entries are kept at least this long. Default: 7 days.
  int32_t dedup_ttl_s = 7 * 24 * 3600;
  // Shared block cache. Default: 64 MiB.
  size_t block_cache_bytes = size_t{64} << 20;
  // fsync the WAL on every commit. Off: a process crash loses nothing (the WAL is in
  // the OS page cache), a power loss may lose the last commits, which are then
  // re-read from Kafka. Default: false.
  bool sync_commits = false;
  // Open read-only (tools and tests inspecting a stopped processor's state).
  bool read_only = false;
};

// A set of writes committed atomically: state changes and the input offsets they
// consumed go in one WriteSet, so state and offsets never disagree after a crash.
class WriteSet {
 public:
  void Put(Cf cf, std::string_view key, std::string_view value);
  void Delete(Cf cf, std::string_view key);
  // Deletes every key in [begin, end).
  void DeleteRange(Cf cf, std::string_view begin, std::string_view end);
  void PutOffset(const TopicPartition& tp, Offset next);
  size_t Count() const { return static_cast<size_t>(batch_.Count()); }
  // Empties the set but keeps its buffer: reusing one set avoids re-growing a large
  // batch (and the page faults of fresh allocations) at every commit.
  void Clear() { batch_.Clear(); }

 private:
  friend class StateStore;
  explicit WriteSet(const std::vector<rocksdb::ColumnFamilyHandle*>* handles) : handles_(handles) {}
  rocksdb::WriteBatch batch_;
  const std::vector<rocksdb::ColumnFamilyHandle*>* handles_;
};

struct StoreStats {
  uint64_t live_data_bytes = 0;     // estimate-live-data-size, all CFs
  uint64_t sst_bytes = 0;           // total-sst-files-size
  uint64_t memtable_bytes = 0;      // cur-size-all-mem-tables
  uint64_t estimated_sessions = 0;  // estimate-num-keys of `sessions`
  uint64_t pending_compaction_bytes = 0;
  bool write_stopped = false;
};

class StateStore {
 public:
  // Throws StateError naming the directory when it can't be opened.
  explicit StateStore(StoreOptions options);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Returns false when the key is absent.
  bool Get(Cf cf, std::string_view key, std::string* value) const;
  // One lookup per key; found[i] tells whether values[i] is set.
  void MultiGet(Cf cf, const std::vector<std::string>& keys, std::vector<std::string>* values,
                std::vector<bool>* found) const;
  std::optional<Offset> GetOffset(const TopicPartition& tp) const;
  std::map<TopicPartition, Offset> AllOffsets() const;
  // Calls fn(key, value) for every entry of `cf` (tools and tests).
  void ForEach(Cf cf, const std::function<void(std::string_view, std::string_view)>& fn) const;
  // The same for the keys that start with `prefix`, in key order.
  void ForEachWithPrefix(Cf cf, std::string_view prefix,
                         const std::function<void(std::string_view, std::string_view)>& fn) const;

  WriteSet NewWriteSet() const { return WriteSet(&handles_); }
  // Applies the set atomically. Throws StateError on failure.
  void Commit(WriteSet& writes);
  void Flush();
  StoreStats Stats() const;
  // What opening the directory recovered (logged at start: a truncated MANIFEST or an old
  // copy of the directory silently rolls state back, and this is how one notices).
  struct Recovery {
    uint64_t last_sequence = 0;  // RocksDB's latest sequence number
    size_t offsets = 0;          // input partitions with a stored offset
    uint64_t estimated_sessions = 0;
    bool created = false;  // the directory held no state
  };
  const Recovery& recovery() const { return recovery_; }
  const StoreOptions& options() const { return options_; }

 private:
  rocksdb::ColumnFamilyHandle* Handle(Cf cf) const { return handles_[static_cast<size_t>(cf)]; }
  StoreOptions options_;
  Recovery recovery_;
  std::vector<std::unique_ptr<rocksdb::CompactionFilter>> filters_;  // outlive db_
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // index 0..kCount-1, then default
};

}  // namespace intentstream::state
