// The state stage's unit of work: everything a processing thread changes between two
// commits, and the one place that knows the key layout and value encodings of the
// column families (keys.h, the expiry filter and the visitor table are private to
// state/).
//
// Reads go to this batch's changes first, then to committed state; TakeWrites() hands
// everything changed since the last commit over as one WriteSet together with the next
// input offsets of every partition consumed, so state and offsets commit atomically. A
// visitor touched many times between two commits is written once.
//
// It implements op::StateWriter, so the decision operator reads and writes its state
// (offer counters, contacts, cooldowns, latest decisions, per-task tables) in the same
// WriteBatch as the offsets. Not thread-safe: one instance per processing thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/ids.h"
#include "operator/stage.h"
#include "state/changelog.h"
#include "state/store.h"
#include "state/visitor_state.h"
#include "state/visitor_table.h"

namespace intentstream::state {

struct BatchStateOptions {
  // Clean visitor states kept in memory between commits (LRU). 0 keeps none.
  size_t visitor_cache_entries = 50000;
  // Anonymous ids remembered per customer (the rest are forgotten, oldest first), so a
  // customer linked to thousands of cookies keeps a bounded state. Default: 32.
  size_t max_linked_ids = 32;
  // Hard bound on one visitor's serialized state; past it the oldest events are dropped
  // (input limits keep real visitors far below: docs/operations.md). Default: 64 KiB.
  size_t max_visitor_bytes = 64 * 1024;
};

// Which kind of visitor a state key belongs to.
enum class VisitorKind : uint8_t { kAnonymous, kCustomer };

class BatchState final : public op::StateWriter {
 public:
  using Visitor = VisitorEntry;

  BatchState(StateStore& store, BatchStateOptions options);

  // --- input bookkeeping ---
  // True when this input event id (or hand-off id) was seen before, in this batch or a
  // committed one; otherwise remembers it (one `dedup` key per id: links, hand-offs).
  bool SeenEvent(std::string_view event_id);
  bool SeenHandoff(std::string_view handoff_id);
  // True when the visitor already applied its own event `event_id` (event time
  // `time_ms`): its window holds the event's key, or the key left the window and is in
  // `dedup`, which is read only for events at or before the newest one that left (and
  // for a visitor with no events yet, e.g. after an erasure). Loads the visitor. Nothing
  // is remembered here: the event's key enters the window when it is applied.
  bool SeenOwnEvent(VisitorKind kind, std::string_view visitor_id, std::string_view event_id,
                    int64_t time_ms);
  // Keys of events that left a window (InsertEvent, MergeHandoff): remembered in
  // `dedup` at the next commit. Clears `keys`.
  void RememberEvicted(EvictedKeys* keys);
  // The same for keys of a visitor on this changelog partition (-1: none).
  void RememberEvicted(EvictedKeys* keys, int32_t partition);
  // The partition's next offset to read once this batch commits (the highest wins).
  void AdvanceOffset(std::string_view topic, Partition partition, Offset next);
  // The same, exactly: for a partition applied out of offset order, whose next offset to
  // read may be below records already applied (they are deduplicated when read again).
  void SetOffset(const TopicPartition& tp, Offset next);
  // Per-process values that commit with the offsets (e.g. task watermarks).
  void PutMeta(std::string_view name, std::string value);
  std::optional<std::string> GetMeta(std::string_view name) const;

  // --- visitors ---
  // The visitor's state, loaded from committed state on first use (empty when new).
  // Throws StateError on a corrupt value.
  Visitor& Load(VisitorKind kind, std::string_view id);
  // The visitor changed: it is written at the next commit.
  void MarkDirty(Visitor& v) { visitors_.MarkDirty(v); }
  static std::string_view IdOf(const Visitor& v);  // the id without the key prefix

  // --- identity and profiles ---
  void PutIdentityLink(std::string_view anonymous_id, std::string_view customer_id);
  // Stores a profile unless a newer one is already known (updated_time). Returns false
  // when it was older and ignored.
  bool PutProfile(const v1::CustomerProfile& profile);
  // Right to erasure (a tombstone on the compacted profile topic): deletes the profile,
  // the customer's session, decision state, latest decisions and identity links, and the
  // states of the anonymous ids linked to it; leaves a marker so that hand-offs from
  // those anonymous ids (other processes may hold them) do not re-create the customer.
  // `time_ms` is the erasure's event time (the tombstone's timestamp). Returns the
  // number of keys deleted.
  size_t EraseCustomer(std::string_view customer_id, int64_t time_ms);
  // True when the customer was erased, while linked to this anonymous id, after a link
  // made at `link_time_ms` (a link made after the erasure is a new consent).
  bool IsErasedLink(std::string_view customer_id, std::string_view anonymous_id,
                    int64_t link_time_ms);

  // --- op::StateWriter ---
  const v1::CustomerProfile* Profile(std::string_view customer_id) override;
  const v1::CustomerOffers& Offers(std::string_view customer_id) override;
  v1::CustomerOffers& MutableOffers(std::string_view customer_id) override;
  void PutDecision(std::string_view customer_id, std::string_view placement,
                   const v1::Decision& decision) override;
  const std::string* TaskValue(int32_t task, std::string_view name) override;
  void PutTaskValue(int32_t task, std::string_view name, std::string value) override;

  // --- commit ---
  struct Commit {
    WriteSet writes;
    std::vector<std::pair<TopicPartition, Offset>> next_offsets;
    // The same writes for the changelog topics (empty unless EnableChangelog()).
    std::vector<ChangelogRecord> changelog;
  };
  // From now on TakeWrites() also lists every write for the changelog topics of
  // `partitions` partitions (state.changelog).
  void EnableChangelog(int32_t partitions) { changelog_partitions_ = partitions; }
  // Everything changed since the last call, as one atomic WriteSet (state and
  // offsets). The result is valid until the next call. The caller commits it or stops.
  Commit& TakeWrites(int64_t now_ms);
  bool HasPending() const { return !next_offsets_.empty() || !meta_.empty(); }
  size_t pending_visitors() const { return visitors_.dirty_count(); }
  // Visitor values trimmed to max_visitor_bytes so far.
  uint64_t oversize_trims() const { return oversize_trims_; }
  const BatchStateOptions& options() const { return options_; }
  // Drops cached states: call when partitions are revoked, right after a commit, since
  // another process may change their state before they come back.
  void ClearCache();

 private:
  Visitor& LoadKey(const std::string& key);
  Visitor& LoadCustomer(std::string_view customer_id);
  void LoadOffers(Visitor& v);
  // A write of TakeWrites(), to the WriteSet and (when on) the changelog.
  void Write(Cf cf, const std::string& key, const std::string& value, int32_t partition = -2);
  void Tombstone(Cf cf, const std::string& key, int32_t partition = -2);

  StateStore& store_;
  BatchStateOptions options_;
  VisitorTable visitors_;
  std::vector<std::pair<TopicPartition, Offset>> next_offsets_;
  // New dedup keys -> the partition of the input that saw them (their changelog partition).
  std::unordered_map<std::string, int32_t> dedup_new_;
  int32_t current_partition_ = -1;    // of the input record being applied
  int32_t changelog_partitions_ = 0;  // 0: no changelog
  // Profiles: changed in this batch (nullopt = erased), and a parse cache of committed
  // ones.
  std::unordered_map<std::string, std::optional<v1::CustomerProfile>> profiles_;
  std::unordered_map<std::string, std::optional<v1::CustomerProfile>> profile_cache_;
  std::vector<std::pair<std::string, std::string>> identity_puts_;
  std::vector<std::pair<Cf, std::string>> deletes_;
  std::vector<std::pair<Cf, std::string>> range_deletes_;  // by key prefix
  uint64_t oversize_trims_ = 0;
  EvictedKeys trimmed_;
  std::map<std::string, std::string> decisions_;           // key -> serialized Decision
  std::map<std::string, std::string> task_values_;         // changed in this batch
  std::map<std::string, std::string> loaded_task_values_;  // committed, read once
  std::map<std::string, std::string> erased_;              // erasure markers
  std::map<std::string, std::string> meta_;
  std::string scratch_;
  Commit commit_;  // reused across commits
};

}  // namespace intentstream::state
