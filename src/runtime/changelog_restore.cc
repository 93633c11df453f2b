#include "runtime/changelog_restore.h"

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>

#include "runtime/kafka_clients.h"
#include "state/changelog.h"

namespace intentstream::runtime {

namespace {

using SteadyClock = std::chrono::steady_clock;
using state::Cf;

// A changelog partition that sends nothing for this long while behind is an error.
constexpr auto kStallTimeout = std::chrono::seconds(60);

std::string_view KeyOf(const RdKafka::Message& m) {
  return m.key() != nullptr ? std::string_view(*m.key()) : std::string_view();
}

}  // namespace

ChangelogRestorer::ChangelogRestorer(const ProcessorOptions& options,
                                     const std::string& bootstrap_servers, state::StateStore& store,
                                     const Logger& log, RdKafka::EventCb* events)
    : options_(options),
      store_(store),
      log_(log),
      consumer_(MakeRestoreConsumer(options, bootstrap_servers, events)) {}

ChangelogRestorer::~ChangelogRestorer() = default;

bool ChangelogRestorer::ReadRange(const std::string& topic, int32_t partition, int64_t from,
                                  int64_t to, const std::function<void(RdKafka::Message&)>& fn) {
  if (from >= to) return true;
  auto& handle = topics_[topic];
  if (!handle) {
    std::string error;
    handle.reset(RdKafka::Topic::create(consumer_.get(), topic, nullptr, error));
    if (!handle) throw std::runtime_error("restore: topic '" + topic + "': " + error);
  }
  RdKafka::Topic* t = handle.get();
  const auto err = consumer_->start(t, partition, from);
  if (err != RdKafka::ERR_NO_ERROR) {
    throw std::runtime_error("restore: cannot read '" + topic + "' partition " +
                             std::to_string(partition) + ": " + RdKafka::err2str(err));
  }
  bool complete = false;
  auto last_progress = SteadyClock::now();
  while (true) {
    std::unique_ptr<RdKafka::Message> msg(consumer_->consume(t, partition, 200));
    if (msg->err() == RdKafka::ERR_NO_ERROR) {
      last_progress = SteadyClock::now();
      if (msg->offset() >= to) {
        complete = true;
        break;
      }
      fn(*msg);
      if (msg->offset() + 1 >= to) {
        complete = true;
        break;
      }
    } else if (msg->err() == RdKafka::ERR__PARTITION_EOF) {
      // Compaction may have removed the last records before `to`.
      complete = msg->offset() >= to;
      break;
    } else if (msg->err() == RdKafka::ERR__TIMED_OUT) {
      if (SteadyClock::now() - last_progress > kStallTimeout) {
        throw std::runtime_error("restore: '" + topic + "' partition " + std::to_string(partition) +
                                 " sent nothing for 60 s");
      }
    } else if (ClassifyKafkaError(msg->err(), false) == KafkaErrorClass::kFatal) {
      throw std::runtime_error("restore: '" + topic + "': " + msg->errstr());
    }
  }
  consumer_->stop(t, partition);
  return complete;
}

RestoreResult ChangelogRestorer::Restore(int32_t partition, const Progress& progress, Mode mode) {
  const bool follow = mode == Mode::kFollow;
  const auto started = SteadyClock::now();
  RestoreResult result;
  std::string value;
  for (const Cf cf : state::ChangelogStores()) {
    const std::string key = state::ChangelogPositionKey(cf, partition);
    result.ends[cf] = store_.Get(Cf::kMeta, key, &value) ? std::stoll(value) : 0;
  }
  const ChangelogEnds local = result.ends;
  const std::string meta_topic = state::ChangelogTopic(options_.topics.changelog_group, Cf::kMeta);
  int64_t low = 0, high = 0;
  const auto err = consumer_->query_watermark_offsets(meta_topic, partition, &low, &high, 10000);
  if (err != RdKafka::ERR_NO_ERROR) {
    throw std::runtime_error("restore: cannot read the end of '" + meta_topic + "' partition " +
                             std::to_string(partition) + ": " + RdKafka::err2str(err));
  }
  if (high <= local.at(Cf::kMeta)) return result;

  // `meta` entries are staged until the marker that closes their commit.
  std::map<std::string, std::optional<std::string>> committed, staged;
  std::optional<ChangelogEnds> marker;
  int64_t after_marker = local.at(Cf::kMeta);  // the meta offset after the last marker
  ReadRange(meta_topic, partition, local.at(Cf::kMeta), high, [&](RdKafka::Message& m) {
    const std::string_view key = KeyOf(m);
    if (key == kChangelogMarkerKey) {
      const auto ends =
          DecodeChangelogMarker(std::string_view(static_cast<const char*>(m.payload()), m.len()));
      if (!ends) {
        log_.Warn("ignoring a malformed changelog commit marker",
                  {{"topic", meta_topic}, {"offset", std::to_string(m.offset())}});
        return;
      }
      for (auto& [k, v] : staged) committed[k] = std::move(v);
      staged.clear();
      marker = ends;
      after_marker = m.offset() + 1;
      return;
    }
    if (m.payload() == nullptr) {
      staged[std::string(key)] = std::nullopt;
    } else {
      staged[std::string(key)] = std::string(static_cast<const char*>(m.payload()), m.len());
    }
  });
  if (!marker) return result;  // only the tail of a commit that never completed

  uint64_t remaining = committed.size();
  for (const Cf cf : state::ChangelogStores()) {
    if (cf == Cf::kMeta) continue;
    const int64_t target = marker->count(cf) > 0 ? marker->at(cf) : 0;
    if (target > local.at(cf)) remaining += static_cast<uint64_t>(target - local.at(cf));
  }
  progress(0, remaining);
  const auto log_at = [&](std::string_view message, LogSink::Fields fields) {
    follow ? log_.Debug(message, fields) : log_.Info(message, fields);
  };
  log_at(
      "restoring partition from the changelog",
      {{"partition", std::to_string(partition)}, {"records_at_most", std::to_string(remaining)}});

  state::WriteSet writes = store_.NewWriteSet();
  auto flush = [&] {
    store_.Commit(writes);
    writes.Clear();
    progress(result.records, remaining > result.records ? remaining - result.records : 0);
  };
  for (const Cf cf : state::ChangelogStores()) {
    if (cf == Cf::kMeta) continue;
    const int64_t target = marker->count(cf) > 0 ? marker->at(cf) : 0;
    const std::string topic = state::ChangelogTopic(options_.topics.changelog_group, cf);
    const std::string position_key = state::ChangelogPositionKey(cf, partition);
    const bool complete =
        ReadRange(topic, partition, local.at(cf), target, [&](RdKafka::Message& m) {
          const std::string_view key = KeyOf(m);
          if (m.payload() == nullptr) {
            writes.Delete(cf, key);
          } else {
            writes.Put(cf, key, std::string_view(static_cast<const char*>(m.payload()), m.len()));
          }
          ++result.records;
          result.bytes += key.size() + m.len();
          if (writes.Count() >= static_cast<size_t>(options_.restore_batch_records)) {
            writes.Put(Cf::kMeta, position_key, std::to_string(m.offset() + 1));
            flush();
          }
        });
    if (!complete) {
      log_.Warn("changelog ended before its last commit; the state may miss records",
                {{"topic", topic},
                 {"partition", std::to_string(partition)},
                 {"expected_end", std::to_string(target)}});
    }
    writes.Put(Cf::kMeta, position_key, std::to_string(std::max(target, local.at(cf))));
    flush();
    result.ends[cf] = std::max(target, local.at(cf));
  }
  // Last, in one WriteSet: the input offsets and task values, and the `meta` position
  // past what was read (a commit that never completed is skipped for good).
  for (const auto& [key, v] : committed) {
    if (v) {
      writes.Put(Cf::kMeta, key, *v);
    } else {
      writes.Delete(Cf::kMeta, key);
    }
    ++result.records;
    result.bytes += key.size() + (v ? v->size() : 0);
  }
  const int64_t meta_end = follow ? after_marker : high;
  writes.Put(Cf::kMeta, state::ChangelogPositionKey(Cf::kMeta, partition),
             std::to_string(meta_end));
  flush();
  result.ends[Cf::kMeta] = meta_end;
  result.restored = true;
  result.seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  const double secs = std::max(result.seconds, 1e-6);
  log_at("partition restored from the changelog",
         {{"partition", std::to_string(partition)},
          {"records", std::to_string(result.records)},
          {"bytes", std::to_string(result.bytes)},
          {"seconds", std::to_string(result.seconds)},
          {"records_per_s", std::to_string(static_cast<uint64_t>(result.records / secs))},
          {"bytes_per_s", std::to_string(static_cast<uint64_t>(result.bytes / secs))}});
  return result;
}

}  // namespace intentstream::runtime
