#include "state/store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include <chrono>
#include <filesystem>

#include "common/clock.h"
#include "state/expiry_filter.h"
#include "state/keys.h"

namespace intentstream::state {

namespace {
constexpr size_t kCfCount = static_cast<size_t>(Cf::kCount);

void Check(const rocksdb::Status& s, std::string_view what) {
  if (!s.ok()) throw StateError(std::string(what) + ": " + s.ToString());
}
}  // namespace

std::string_view CfName(Cf cf) {
  switch (cf) {
    case Cf::kSessions:
      return "sessions";
    case Cf::kIdentity:
      return "identity";
    case Cf::kProfiles:
      return "profiles";
    case Cf::kOffers:
      return "offers";
    case Cf::kDedup:
      return "dedup";
    case Cf::kMeta:
      return "meta";
    case Cf::kDecisions:
      return "decisions";
    case Cf::kCount:
      break;
  }
  return "?";
}

void WriteSet::Put(Cf cf, std::string_view key, std::string_view value) {
  batch_.Put((*handles_)[static_cast<size_t>(cf)], rocksdb::Slice(key.data(), key.size()),
             rocksdb::Slice(value.data(), value.size()));
}

void WriteSet::Delete(Cf cf, std::string_view key) {
  batch_.Delete((*handles_)[static_cast<size_t>(cf)], rocksdb::Slice(key.data(), key.size()));
}

void WriteSet::DeleteRange(Cf cf, std::string_view begin, std::string_view end) {
  batch_.DeleteRange((*handles_)[static_cast<size_t>(cf)],
                     rocksdb::Slice(begin.data(), begin.size()),
                     rocksdb::Slice(end.data(), end.size()));
}

void WriteSet::PutOffset(const TopicPartition& tp, Offset next) {
  Put(Cf::kMeta, OffsetKey(tp), std::to_string(next.value));
}

StateStore::StateStore(StoreOptions options) : options_(std::move(options)) {
  if (options_.dir.empty()) throw StateError("state directory is empty");
  {
    std::error_code ec;
    recovery_.created =
        !std::filesystem::exists(std::filesystem::path(options_.dir) / "CURRENT", ec);
  }
  if (!options_.read_only) {
    std::error_code ec;
    std::filesystem::create_directories(options_.dir, ec);
    if (ec)
      throw StateError("cannot create state directory '" + options_.dir + "': " + ec.message());
  }

  rocksdb::DBOptions db_opts;
  db_opts.create_if_missing = true;
  db_opts.create_missing_column_families = true;
  db_opts.max_background_jobs = 2;
  db_opts.IncreaseParallelism(2);

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options_.block_cache_bytes);
  // Most lookups are point lookups of keys that may not exist (dedup, new visitors).
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions cf_opts;
  cf_opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf_opts.compression = rocksdb::kLZ4Compression;
  cf_opts.write_buffer_size = 8 << 20;
  // Most point lookups miss (new event ids in `dedup`, new visitors): a memtable bloom
  // filter answers those without walking the skiplist.
  cf_opts.memtable_prefix_bloom_size_ratio = 0.1;
  cf_opts.memtable_whole_key_filtering = true;

  auto wall_ms = [] { return WallMillis(); };
  filters_.push_back(std::make_unique<ExpiryFilter>(
      ExpiryFilter::Kind::kSessions, int64_t{options_.session_ttl_s} * 1000, wall_ms));
  filters_.push_back(std::make_unique<ExpiryFilter>(ExpiryFilter::Kind::kDedup,
                                                    int64_t{options_.dedup_ttl_s} * 1000, wall_ms));

  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (size_t i = 0; i < kCfCount; ++i) {
    const Cf cf = static_cast<Cf>(i);
    rocksdb::ColumnFamilyOptions opts = cf_opts;
    if (cf == Cf::kSessions) opts.compaction_filter = filters_[0].get();
    if (cf == Cf::kDedup) opts.compaction_filter = filters_[1].get();
    cfs.emplace_back(std::string(CfName(cf)), opts);
  }
  cfs.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_opts);

  const auto status =
      options_.read_only ? rocksdb::DB::OpenForReadOnly(db_opts, options_.dir, cfs, &handles_, &db_)
                         : rocksdb::DB::Open(db_opts, options_.dir, cfs, &handles_, &db_);
  Check(status, "cannot open state in '" + options_.dir + "'");
  recovery_.last_sequence = db_->GetLatestSequenceNumber();
  recovery_.offsets = AllOffsets().size();
  recovery_.estimated_sessions = Stats().estimated_sessions;
}

StateStore::~StateStore() {
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  delete db_;
}

bool StateStore::Get(Cf cf, std::string_view key, std::string* value) const {
  const auto s =
      db_->Get(rocksdb::ReadOptions(), Handle(cf), rocksdb::Slice(key.data(), key.size()), value);
  if (s.IsNotFound()) return false;
  Check(s, "get");
  return true;
}

void StateStore::MultiGet(Cf cf, const std::vector<std::string>& keys,
                          std::vector<std::string>* values, std::vector<bool>* found) const {
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::ColumnFamilyHandle*> handles(keys.size(), Handle(cf));
  const auto statuses = db_->MultiGet(rocksdb::ReadOptions(), handles, slices, values);
  found->assign(keys.size(), false);
  for (size_t i = 0; i < statuses.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    Check(statuses[i], "multiget");
    (*found)[i] = true;
  }
}

std::optional<Offset> StateStore::GetOffset(const TopicPartition& tp) const {
  std::string v;
  if (!Get(Cf::kMeta, OffsetKey(tp), &v)) return std::nullopt;
  return Offset{std::stoll(v)};
}

std::map<TopicPartition, Offset> StateStore::AllOffsets() const {
  std::map<TopicPartition, Offset> out;
  ForEach(Cf::kMeta, [&](std::string_view key, std::string_view value) {
    constexpr std::string_view kPrefix = "offset/";
    if (key.substr(0, kPrefix.size()) != kPrefix) return;
    const auto rest = key.substr(kPrefix.size());
    const auto slash = rest.rfind('/');
    if (slash == std::string_view::npos) return;
    TopicPartition tp{std::string(rest.substr(0, slash)),
                      Partition{std::stoi(std::string(rest.substr(slash + 1)))}};
    out[tp] = Offset{std::stoll(std::string(value))};
  });
  return out;
}

void StateStore::ForEach(Cf cf,
                         const std::function<void(std::string_view, std::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), Handle(cf)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    fn(std::string_view(it->key().data(), it->key().size()),
       std::string_view(it->value().data(), it->value().size()));
  }
  Check(it->status(), "iterate");
}

void StateStore::ForEachWithPrefix(
    Cf cf, std::string_view prefix,
    const std::function<void(std::string_view, std::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), Handle(cf)));
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    if (key.substr(0, prefix.size()) != prefix) break;
    fn(key, std::string_view(it->value().data(), it->value().size()));
  }
  Check(it->status(), "iterate");
}

void StateStore::Commit(WriteSet& writes) {
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_commits;
  Check(db_->Write(wo, &writes.batch_), "commit");
}

void StateStore::Flush() {
  if (options_.read_only) return;
  std::vector<rocksdb::ColumnFamilyHandle*> handles(handles_.begin(), handles_.end());
  Check(db_->Flush(rocksdb::FlushOptions(), handles), "flush");
}

StoreStats StateStore::Stats() const {
  StoreStats s;
  uint64_t v = 0;
  for (size_t i = 0; i < kCfCount; ++i) {
    auto* h = handles_[i];
    if (db_->GetIntProperty(h, "rocksdb.estimate-live-data-size", &v)) s.live_data_bytes += v;
    if (db_->GetIntProperty(h, "rocksdb.total-sst-files-size", &v)) s.sst_bytes += v;
    if (db_->GetIntProperty(h, "rocksdb.cur-size-all-mem-tables", &v)) s.memtable_bytes += v;
    if (db_->GetIntProperty(h, "rocksdb.estimate-pending-compaction-bytes", &v)) {
      s.pending_compaction_bytes += v;
    }
  }
  if (db_->GetIntProperty(Handle(Cf::kSessions), "rocksdb.estimate-num-keys", &v)) {
    s.estimated_sessions = v;
  }
  if (db_->GetIntProperty(handles_[0], "rocksdb.is-write-stopped", &v)) s.write_stopped = v != 0;
  return s;
}

}  // namespace intentstream::state
