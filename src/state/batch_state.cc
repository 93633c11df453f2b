#include "state/batch_state.h"

#include <algorithm>

#include "common/hash.h"

#include "state/expiry_filter.h"
#include "state/keys.h"
#include "state/visitor_codec.h"

namespace intentstream::state {

namespace {
// Committed profiles parsed and kept between commits; cleared past this many.
constexpr size_t kProfileCacheEntries = 100000;

std::string KeyOf(VisitorKind kind, std::string_view id) {
  return kind == VisitorKind::kAnonymous ? AnonymousKey(id) : CustomerKey(id);
}
}  // namespace

BatchState::BatchState(StateStore& store, BatchStateOptions options)
    : store_(store),
      options_(options),
      visitors_(options.visitor_cache_entries),
      commit_{store.NewWriteSet(), {}, {}} {}

bool BatchState::SeenEvent(std::string_view event_id) {
  std::string key = EventDedupKey(event_id);
  if (dedup_new_.count(key) > 0) return true;
  if (store_.Get(Cf::kDedup, key, &scratch_)) return true;
  dedup_new_.emplace(std::move(key), current_partition_);
  return false;
}

bool BatchState::SeenHandoff(std::string_view handoff_id) {
  std::string key = HandoffDedupKey(handoff_id);
  if (dedup_new_.count(key) > 0) return true;
  if (store_.Get(Cf::kDedup, key, &scratch_)) return true;
  dedup_new_.emplace(std::move(key), current_partition_);
  return false;
}

bool BatchState::SeenOwnEvent(VisitorKind kind, std::string_view visitor_id,
                              std::string_view event_id, int64_t time_ms) {
  const v1::VisitorState& s = Load(kind, visitor_id).state;
  const uint64_t event_key = Fnv1a64(event_id);
  if (WindowHolds(s, event_key)) return true;
  const bool fresh = s.events_total() == 0 && s.events_size() == 0;
  if (fresh || (s.has_evicted_through_ms() && time_ms <= s.evicted_through_ms())) {
    std::string key = EvictedEventDedupKey(event_key);
    if (dedup_new_.count(key) > 0 || store_.Get(Cf::kDedup, key, &scratch_)) return true;
  }
  if (fresh || (s.has_legacy_dedup_through_ms() && time_ms <= s.legacy_dedup_through_ms())) {
    if (store_.Get(Cf::kDedup, EventDedupKey(event_id), &scratch_)) return true;
  }
  return false;
}

void BatchState::RememberEvicted(EvictedKeys* keys) {
  RememberEvicted(keys, current_partition_);
}

void BatchState::RememberEvicted(EvictedKeys* keys, int32_t partition) {
  for (uint64_t k : *keys) dedup_new_.emplace(EvictedEventDedupKey(k), partition);
  keys->clear();
}

void BatchState::AdvanceOffset(std::string_view topic, Partition partition, Offset next) {
  current_partition_ = partition.value;  // called first for every record applied
  // A batch spans few partitions: a linear scan beats a map lookup per message.
  for (auto& [tp, offset] : next_offsets_) {
    if (tp.partition == partition && tp.topic == topic) {
      offset = Offset{std::max(offset.value, next.value)};
      return;
    }
  }
  next_offsets_.emplace_back(TopicPartition{std::string(topic), partition}, next);
}

void BatchState::SetOffset(const TopicPartition& tp, Offset next) {
  for (auto& [t, offset] : next_offsets_) {
    if (t == tp) {
      offset = next;
      return;
    }
  }
  next_offsets_.emplace_back(tp, next);
}

void BatchState::PutMeta(std::string_view name, std::string value) {
  meta_[MetaKey(name)] = std::move(value);
}

std::optional<std::string> BatchState::GetMeta(std::string_view name) const {
  const std::string key = MetaKey(name);
  if (auto it = meta_.find(key); it != meta_.end()) return it->second;
  std::string v;
  if (store_.Get(Cf::kMeta, key, &v)) return v;
  return std::nullopt;
}

BatchState::Visitor& BatchState::LoadKey(const std::string& key) {
  if (Visitor* hit = visitors_.Find(key)) return *hit;
  Visitor& v = visitors_.Insert(key);
  if (store_.Get(Cf::kSessions, key, &scratch_) && !DecodeVisitor(scratch_, &v.state)) {
    visitors_.Erase(key);
    throw StateError("corrupt visitor state for key '" + key + "'");
  }
  return v;
}

BatchState::Visitor& BatchState::Load(VisitorKind kind, std::string_view id) {
  return LoadKey(KeyOf(kind, id));
}

BatchState::Visitor& BatchState::LoadCustomer(std::string_view customer_id) {
  return LoadKey(CustomerKey(customer_id));
}

std::string_view BatchState::IdOf(const Visitor& v) {
  return std::string_view(*v.key).substr(2);  // "a/" or "c/"
}

void BatchState::LoadOffers(Visitor& v) {
  if (v.offers_loaded) return;
  v.offers_loaded = true;
  if (store_.Get(Cf::kOffers, *v.key, &scratch_) && !v.offers.ParseFromString(scratch_)) {
    throw StateError("corrupt offer state for key '" + *v.key + "'");
  }
}

void BatchState::PutIdentityLink(std::string_view anonymous_id, std::string_view customer_id) {
  identity_puts_.emplace_back(AnonymousKey(anonymous_id), std::string(customer_id));
  identity_puts_.emplace_back(CustomerLinkKey(customer_id, anonymous_id), "");
}

bool BatchState::PutProfile(const v1::CustomerProfile& p) {
  const v1::CustomerProfile* current = Profile(p.customer_id());
  auto millis = [](const google::protobuf::Timestamp& t) {
    return t.seconds() * 1000 + t.nanos() / 1000000;
  };
  if (current != nullptr && millis(current->updated_time()) > millis(p.updated_time())) {
    return false;
  }
  profiles_[p.customer_id()] = p;
  return true;
}

size_t BatchState::EraseCustomer(std::string_view customer_id, int64_t time_ms) {
  const std::string id(customer_id);
  size_t deleted = 0;
  auto del = [&](Cf cf, std::string key) {
    deletes_.emplace_back(cf, std::move(key));
    ++deleted;
  };
  // Re-inserted empty and "loaded", so a later event in this batch starts from nothing
  // instead of reading the committed state that is about to be deleted.
  auto forget = [&](const std::string& key) {
    visitors_.Erase(key);
    Visitor& fresh = visitors_.Insert(key);
    fresh.offers_loaded = true;
  };
  // The windows go, but their events stay known as seen (as every event id did before
  // value format 1), so a late duplicate does not re-create what was erased.
  auto keep_seen = [&](const v1::VisitorState& s) {
    for (const auto& e : s.events()) {
      dedup_new_.emplace(EvictedEventDedupKey(e.event_key()), current_partition_);
    }
  };
  v1::ErasureMarker marker;
  marker.set_erased_at_ms(time_ms);
  {
    Visitor& v = LoadCustomer(customer_id);
    keep_seen(v.state);
    for (const auto& anon : v.state.linked_anonymous_ids()) marker.add_anonymous_ids(anon);
  }
  for (const auto& anon : marker.anonymous_ids()) {
    keep_seen(LoadKey(AnonymousKey(anon)).state);
    del(Cf::kIdentity, CustomerLinkKey(id, anon));
    // The anonymous visitor's history, where this process holds it (elsewhere the
    // marker stops its hand-offs and the history expires with state.session_ttl_s).
    del(Cf::kSessions, AnonymousKey(anon));
    del(Cf::kIdentity, AnonymousKey(anon));
    forget(AnonymousKey(anon));
  }
  const std::string key = CustomerKey(id);
  del(Cf::kSessions, key);
  del(Cf::kOffers, key);
  del(Cf::kProfiles, id);
  range_deletes_.emplace_back(Cf::kDecisions, DecisionKey(id, ""));
  forget(key);
  decisions_.erase(decisions_.lower_bound(DecisionKey(id, "")),
                   decisions_.lower_bound(DecisionKey(id, "\x7f")));
  profiles_[id] = std::nullopt;
  identity_puts_.erase(std::remove_if(identity_puts_.begin(), identity_puts_.end(),
                                      [&](const auto& kv) {
                                        return kv.second == id || kv.first.rfind(key + "/", 0) == 0;
                                      }),
                       identity_puts_.end());
  erased_[ErasedKey(id)] = marker.SerializeAsString();
  return deleted;
}

bool BatchState::IsErasedLink(std::string_view customer_id, std::string_view anonymous_id,
                              int64_t link_time_ms) {
  const std::string key = ErasedKey(customer_id);
  const std::string* value = nullptr;
  if (auto it = erased_.find(key); it != erased_.end()) {
    value = &it->second;
  } else if (store_.Get(Cf::kOffers, key, &scratch_)) {
    value = &scratch_;
  }
  if (value == nullptr) return false;
  v1::ErasureMarker marker;
  if (!marker.ParseFromString(*value)) return false;
  const auto& ids = marker.anonymous_ids();
  return link_time_ms <= marker.erased_at_ms() &&
         std::find(ids.begin(), ids.end(), anonymous_id) != ids.end();
}

const v1::CustomerProfile* BatchState::Profile(std::string_view customer_id) {
  const std::string id(customer_id);
  if (auto it = profiles_.find(id); it != profiles_.end()) {
    return it->second ? &*it->second : nullptr;
  }
  if (auto it = profile_cache_.find(id); it != profile_cache_.end()) {
    return it->second ? &*it->second : nullptr;
  }
  auto& slot = profile_cache_[id];
  if (store_.Get(Cf::kProfiles, id, &scratch_)) {
    v1::CustomerProfile p;
    if (!p.ParseFromString(scratch_)) throw StateError("corrupt profile for '" + id + "'");
    slot = std::move(p);
  }
  return slot ? &*slot : nullptr;
}

const v1::CustomerOffers& BatchState::Offers(std::string_view customer_id) {
  Visitor& v = LoadCustomer(customer_id);
  LoadOffers(v);
  return v.offers;
}

v1::CustomerOffers& BatchState::MutableOffers(std::string_view customer_id) {
  Visitor& v = LoadCustomer(customer_id);
  LoadOffers(v);
  v.offers_dirty = true;
  visitors_.MarkDirty(v);
  return v.offers;
}

void BatchState::PutDecision(std::string_view customer_id, std::string_view placement,
                             const v1::Decision& decision) {
  decision.SerializeToString(&decisions_[DecisionKey(customer_id, placement)]);
}

const std::string* BatchState::TaskValue(int32_t task, std::string_view name) {
  const std::string key = TaskKey(task, name);
  if (auto it = task_values_.find(key); it != task_values_.end()) return &it->second;
  // Committed values are read once and kept in the map until the next commit.
  if (!store_.Get(Cf::kMeta, key, &scratch_)) return nullptr;
  loaded_task_values_[key] = scratch_;
  return &loaded_task_values_[key];
}

void BatchState::PutTaskValue(int32_t task, std::string_view name, std::string value) {
  task_values_[TaskKey(task, name)] = std::move(value);
}

void BatchState::Write(Cf cf, const std::string& key, const std::string& value, int32_t partition) {
  commit_.writes.Put(cf, key, value);
  if (changelog_partitions_ <= 0) return;
  if (partition == -2) partition = ChangelogPartition(cf, key, changelog_partitions_);
  if (partition >= 0) commit_.changelog.push_back({cf, partition, key, value});
}

void BatchState::Tombstone(Cf cf, const std::string& key, int32_t partition) {
  commit_.writes.Delete(cf, key);
  if (changelog_partitions_ <= 0) return;
  if (partition == -2) partition = ChangelogPartition(cf, key, changelog_partitions_);
  if (partition >= 0) commit_.changelog.push_back({cf, partition, key, std::nullopt});
}

BatchState::Commit& BatchState::TakeWrites(int64_t now_ms) {
  WriteSet& writes = commit_.writes;
  writes.Clear();
  commit_.changelog.clear();
  // Deletes first: a customer erased and then re-created in the same batch keeps the
  // new state.
  for (const auto& [cf, key] : deletes_) Tombstone(cf, key);
  // Every key with the prefix: the prefix followed by bytes up to 0xff. The changelog
  // has no range delete: each committed key gets its tombstone.
  for (const auto& [cf, prefix] : range_deletes_) {
    if (changelog_partitions_ > 0) {
      const Cf family = cf;  // a lambda may not capture a structured binding (clang 14)
      store_.ForEachWithPrefix(family, prefix, [&](std::string_view key, std::string_view) {
        const std::string k(key);
        const int32_t p = ChangelogPartition(family, k, changelog_partitions_);
        if (p >= 0) commit_.changelog.push_back({family, p, k, std::nullopt});
      });
    }
    writes.DeleteRange(cf, prefix, prefix + "\xff");
  }
  for (const auto& [key, value] : erased_) Write(Cf::kOffers, key, value);
  const std::string written = ExpiryFilter::EncodeWriteTime(now_ms);
  for (Visitor* v : visitors_.dirty()) {
    v->state.set_updated_at_ms(now_ms);
    EncodeVisitor(v->state, &scratch_);
    // The hard bound on a visitor's value: input limits keep it far below, this keeps
    // it so whatever the input (the oldest events go first).
    while (scratch_.size() > options_.max_visitor_bytes && v->state.events_size() > 0) {
      EvictOldest(&v->state, std::max(1, v->state.events_size() / 8), &trimmed_);
      // At commit no input record is being applied: the keys go with the visitor's task.
      RememberEvicted(&trimmed_,
                      changelog_partitions_ > 0
                          ? ChangelogPartition(Cf::kSessions, *v->key, changelog_partitions_)
                          : -1);
      ++oversize_trims_;
      EncodeVisitor(v->state, &scratch_);
    }
    Write(Cf::kSessions, *v->key, scratch_);
    if (v->offers_dirty) Write(Cf::kOffers, *v->key, v->offers.SerializeAsString());
  }
  // The caller commits these writes or stops the process, so the table never runs ahead
  // of committed state.
  visitors_.Committed();
  // After the visitors: trimming them may have added evicted keys.
  for (const auto& [key, partition] : dedup_new_) Write(Cf::kDedup, key, written, partition);
  for (auto& [id, profile] : profiles_) {
    if (profile) Write(Cf::kProfiles, id, profile->SerializeAsString());
    profile_cache_[id] = std::move(profile);
  }
  for (const auto& [key, value] : identity_puts_) Write(Cf::kIdentity, key, value);
  for (const auto& [key, value] : decisions_) Write(Cf::kDecisions, key, value);
  for (const auto& [key, value] : task_values_) Write(Cf::kMeta, key, value);
  for (const auto& [key, value] : meta_) Write(Cf::kMeta, key, value);
  for (const auto& [tp, next] : next_offsets_) {
    Write(Cf::kMeta, OffsetKey(tp), std::to_string(next.value));
  }
  commit_.next_offsets.swap(next_offsets_);
  next_offsets_.clear();
  dedup_new_.clear();
  profiles_.clear();
  if (profile_cache_.size() > kProfileCacheEntries) profile_cache_.clear();
  identity_puts_.clear();
  deletes_.clear();
  range_deletes_.clear();
  erased_.clear();
  decisions_.clear();
  task_values_.clear();
  loaded_task_values_.clear();
  meta_.clear();
  return commit_;
}

void BatchState::ClearCache() {
  visitors_.Clear();
  profile_cache_.clear();
  loaded_task_values_.clear();
}

}  // namespace intentstream::state
