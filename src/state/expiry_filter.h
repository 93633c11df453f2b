// Expiry of idle state in RocksDB compaction. The `sessions` family expires a visitor
// whose `updated_at_ms` (processor clock at its last write) is older than the session
// TTL; the `dedup` family stores the processor-clock write time (8 bytes, little endian)
// as the value and expires it after the dedup TTL. Entries past their TTL may still be
// read until a compaction reaches them.
//
// (RocksDB's DBWithTTL does the same by appending a timestamp to every value, which
// copies each WriteBatch on write; measured at about a third of the state path's CPU.)
#pragma once

#include <rocksdb/compaction_filter.h>

#include <cstdint>
#include <functional>
#include <string>

namespace intentstream::state {

class ExpiryFilter : public rocksdb::CompactionFilter {
 public:
  enum class Kind { kSessions, kDedup };
  using Clock = std::function<int64_t()>;  // Unix ms

  ExpiryFilter(Kind kind, int64_t ttl_ms, Clock now_ms)
      : kind_(kind), ttl_ms_(ttl_ms), now_ms_(std::move(now_ms)) {}

  bool Filter(int level, const rocksdb::Slice& key, const rocksdb::Slice& value,
              std::string* new_value, bool* value_changed) const override;
  const char* Name() const override {
    return kind_ == Kind::kSessions ? "intentstream.SessionExpiry" : "intentstream.DedupExpiry";
  }

  static std::string EncodeWriteTime(int64_t ms);
  static int64_t DecodeWriteTime(const rocksdb::Slice& value);

 private:
  Kind kind_;
  int64_t ttl_ms_;
  Clock now_ms_;
};

}  // namespace intentstream::state
