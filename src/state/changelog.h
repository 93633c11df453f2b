// What a commit's writes look like on the changelog topics (docs/operations.md, "State,
// volumes and rebuilds"): one compacted topic per column family, partitioned like the
// inputs, keyed by the state key, a null value (tombstone) for a delete. Values are the
// column family's bytes, unchanged: the changelog never parses them.
//
// The partition of a key is the task (input partition) that owns it, so restoring a
// partition rebuilds exactly what its previous owner held for it. Local changelog
// positions live in `meta` under keys that are never changelogged themselves.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "state/store.h"

namespace intentstream::state {

// The column families with a changelog, in the order a commit produces them (`meta`,
// with the input offsets, comes last).
const std::vector<Cf>& ChangelogStores();

// "<group>-<store>-changelog".
std::string ChangelogTopic(std::string_view group_id, Cf cf);

// The changelog partition of a key whose owner follows from the key itself (visitor,
// identity, profile, offer, decision and per-task keys); -1 for a key that is not
// changelogged (local bookkeeping) or whose owner is not in the key (dedup: the caller
// knows the partition of the input that wrote it).
int32_t ChangelogPartition(Cf cf, std::string_view key, int32_t partitions);

// One write of a commit, as it goes to `ChangelogTopic(group, cf)`.
struct ChangelogRecord {
  Cf cf;
  int32_t partition;
  std::string key;
  std::optional<std::string> value;  // nullopt: a tombstone
};

// meta: "changelog/<store>/<partition, 5 digits>" -> the next changelog offset that the
// local state reflects, decimal. Committed with the input offsets.
std::string ChangelogPositionKey(Cf cf, int32_t partition);

}  // namespace intentstream::state
