// Delivers a commit's state writes to the changelog topics before the RocksDB commit that
// records them (state.changelog; docs/operations.md, "State, volumes and rebuilds").
//
// Two phases per commit, so that a restore never sees half a commit: first every store's
// records are delivered; then, per partition written, the `meta` records (input offsets,
// task values) followed by a commit marker naming the end offset of every store's
// partition. A restore applies the stores up to the last marker only. The local changelog
// positions go into the same WriteSet as the state and the input offsets.
//
// A record that cannot be delivered (after librdkafka's own retries, message.timeout.ms)
// throws: the commit must not happen, and a restart resumes from the last commit
// (replayed changelog writes are idempotent: same keys, same values).
//
// Not thread-safe: the processing thread only.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "state/changelog.h"
#include "state/store.h"

namespace intentstream::runtime {

// The key of the commit marker on a partition of the `meta` changelog.
inline constexpr std::string_view kChangelogMarkerKey = "changelog-commit";

// End offsets (next offset to write) of each store's changelog partition.
using ChangelogEnds = std::map<state::Cf, int64_t>;

// The marker's value (JSON, store name -> end offset) and back; nullopt when malformed.
std::string EncodeChangelogMarker(const ChangelogEnds& ends);
std::optional<ChangelogEnds> DecodeChangelogMarker(std::string_view value);

class ChangelogWriter : public RdKafka::DeliveryReportCb {
 public:
  ChangelogWriter(std::string group_id, int flush_timeout_ms);

  // The producer must have been created with this object as its dr_cb.
  void SetProducer(RdKafka::Producer* producer) { producer_ = producer; }

  // Delivers `records` and one marker per partition written, then adds the local
  // positions to `writes`. Throws std::runtime_error naming the topic when a record is
  // not delivered.
  void Write(const std::vector<state::ChangelogRecord>& records, state::WriteSet* writes);

  // `partition` is owned from now on, and its local state reflects `ends` (after a
  // restore, or at assignment). Writes for partitions not owned are not produced: they are
  // deletes of leftovers that the owner's state does not see either (an erasure's
  // anonymous ids on other tasks), and their markers would misstate the owner's ends.
  void Own(int32_t partition, const ChangelogEnds& ends) { ends_[partition] = ends; }
  void Release(int32_t partition) { ends_.erase(partition); }

  uint64_t records_written() const { return records_written_; }
  uint64_t bytes_written() const { return bytes_written_; }

  void dr_cb(RdKafka::Message& message) override;

 private:
  // Produces and waits; offsets_[i] gets each record's offset.
  void Deliver(const std::vector<const state::ChangelogRecord*>& batch);

  std::string group_id_;
  int flush_timeout_ms_;
  RdKafka::Producer* producer_ = nullptr;
  std::map<state::Cf, std::string> topics_;
  std::map<int32_t, ChangelogEnds> ends_;  // by owned partition
  std::vector<int64_t> offsets_;           // of the current Deliver(), -1 pending
  std::vector<std::string> errors_;
  uint64_t records_written_ = 0;
  uint64_t bytes_written_ = 0;
};

}  // namespace intentstream::runtime
