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

RdKafka::Topic* ChangelogRestorer::TopicHandle(const std::string& topic) {
  auto& handle = topics_[topic];
  if (!handle) {
    std::string error;
    handle.reset(RdKafka::Topic::create(consumer_.get(), topic, nullptr, error));
    if (!handle) throw std::runtime_error("restore: topic '" + topic + "': " + error);
  }
  return handle.get();
}

void ChangelogRestorer::ReadRanges(std::vector<Range>& ranges,
                                   const std::function<void(size_t, RdKafka::Message&)>& fn) {
  // A queue of its own per call: nothing fetched past an earlier call's ranges can
  // reach this one.
  std::unique_ptr<RdKafka::Queue> queue(RdKafka::Queue::create(consumer_.get()));
  // The ranges started, stopped however this returns.
  struct Started {
    ChangelogRestorer* self;
    std::vector<std::pair<std::string, int32_t>> list;
    ~Started() {
      for (const auto& [topic, partition] : list) {
        self->consumer_->stop(self->TopicHandle(topic), partition);
      }
    }
  } started{this, {}};
  std::map<std::pair<std::string, int32_t>, size_t> open;  // -> index in `ranges`
  for (size_t i = 0; i < ranges.size(); ++i) {
    Range& r = ranges[i];
    r.complete = r.from >= r.to;
    if (r.complete) continue;
    const auto err = consumer_->start(TopicHandle(r.topic), r.partition, r.from, queue.get());
    if (err != RdKafka::ERR_NO_ERROR) {
      throw std::runtime_error("restore: cannot read '" + r.topic + "' partition " +
                               std::to_string(r.partition) + ": " + RdKafka::err2str(err));
    }
    started.list.emplace_back(r.topic, r.partition);
    open[{r.topic, r.partition}] = i;
  }
  auto finish = [&](const std::pair<std::string, int32_t>& tp, bool complete) {
    const auto it = open.find(tp);
    if (it == open.end()) return;
    ranges[it->second].complete = complete;
    open.erase(it);
  };
  auto last_progress = SteadyClock::now();
  while (!open.empty()) {
    std::unique_ptr<RdKafka::Message> msg(consumer_->consume(queue.get(), 200));
    const std::pair<std::string, int32_t> tp{msg->topic_name(), msg->partition()};
    if (msg->err() == RdKafka::ERR_NO_ERROR) {
      last_progress = SteadyClock::now();
      const auto it = open.find(tp);
      if (it == open.end()) continue;  // a range already read to its end
      const Range& r = ranges[it->second];
      if (msg->offset() >= r.to) {
        finish(tp, true);
        continue;
      }
      fn(it->second, *msg);
      if (msg->offset() + 1 >= r.to) finish(tp, true);
    } else if (msg->err() == RdKafka::ERR__PARTITION_EOF) {
      // Compaction may have removed the last records before `to`.
      const auto it = open.find(tp);
      if (it != open.end()) finish(tp, msg->offset() >= ranges[it->second].to);
    } else if (msg->err() == RdKafka::ERR__TIMED_OUT) {
      if (SteadyClock::now() - last_progress > kStallTimeout) {
        const Range& r = ranges[open.begin()->second];
        throw std::runtime_error("restore: '" + r.topic + "' partition " +
                                 std::to_string(r.partition) + " sent nothing for 60 s");
      }
    } else if (ClassifyKafkaError(msg->err(), false) == KafkaErrorClass::kFatal) {
      throw std::runtime_error("restore: '" + tp.first + "': " + msg->errstr());
    }
  }
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
  std::vector<Range> meta_range = {{meta_topic, partition, local.at(Cf::kMeta), high}};
  ReadRanges(meta_range, [&](size_t, RdKafka::Message& m) {
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
  // The stores, all at once, up to the marker. Each WriteSet carries how far into each
  // store's changelog it reaches, so a restore killed half-way resumes from there.
  std::vector<Range> ranges;
  std::vector<Cf> range_cf;
  for (const Cf cf : state::ChangelogStores()) {
    if (cf == Cf::kMeta) continue;
    const int64_t target = marker->count(cf) > 0 ? marker->at(cf) : 0;
    ranges.push_back({state::ChangelogTopic(options_.topics.changelog_group, cf), partition,
                      local.at(cf), target});
    range_cf.push_back(cf);
  }
  std::map<Cf, int64_t> batch_ends;  // the stores this WriteSet advances, and how far
  auto flush_stores = [&] {
    for (const auto& [cf, end] : batch_ends) {
      writes.Put(Cf::kMeta, state::ChangelogPositionKey(cf, partition), std::to_string(end));
    }
    batch_ends.clear();
    flush();
  };
  ReadRanges(ranges, [&](size_t i, RdKafka::Message& m) {
    const Cf cf = range_cf[i];
    const std::string_view key = KeyOf(m);
    if (m.payload() == nullptr) {
      writes.Delete(cf, key);
    } else {
      writes.Put(cf, key, std::string_view(static_cast<const char*>(m.payload()), m.len()));
    }
    ++result.records;
    result.bytes += key.size() + m.len();
    batch_ends[cf] = m.offset() + 1;
    if (writes.Count() >= static_cast<size_t>(options_.restore_batch_records)) flush_stores();
  });
  for (size_t i = 0; i < ranges.size(); ++i) {
    const Cf cf = range_cf[i];
    if (!ranges[i].complete) {
      log_.Warn("changelog ended before its last commit; the state may miss records",
                {{"topic", ranges[i].topic},
                 {"partition", std::to_string(partition)},
                 {"expected_end", std::to_string(ranges[i].to)}});
    }
    batch_ends[cf] = std::max(ranges[i].to, local.at(cf));
    result.ends[cf] = batch_ends[cf];
  }
  flush_stores();
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
