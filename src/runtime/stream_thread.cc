#include "runtime/stream_thread.h"

#include <array>
#include <map>
#include <set>
#include <unordered_map>

#include "common/clock.h"
#include "runtime/batch_processor.h"
#include "runtime/changelog_restore.h"
#include "runtime/changelog_topics.h"
#include "runtime/changelog_writer.h"
#include "runtime/event_time_scheduler.h"
#include "runtime/kafka_clients.h"
#include "runtime/output_producer.h"
#include "serve/processor_probe.h"
#include "state/store.h"

namespace intentstream::runtime {

namespace {

using Clock = std::chrono::steady_clock;

int64_t SteadyMillis() {
  return SteadyMicros() / 1000;
}

std::string WatermarkMetaName(int32_t receiver, int32_t sender) {
  return "watermark/" + std::to_string(receiver) + "/" + std::to_string(sender);
}

std::vector<std::string> OutputTopics(const TopicNames& t) {
  return {t.dead_letters, t.handoff, t.decisions, t.triggers};
}

}  // namespace

class StreamThread::Impl : public RdKafka::RebalanceCb, public RdKafka::EventCb {
 public:
  Impl(int index, ThreadContext context, ThreadStages stages)
      : index_(index),
        ctx_(std::move(context)),
        options_(*ctx_.options),
        log_(ctx_.sink, index == 0 ? "processor" : "processor-" + std::to_string(index)),
        store_(*ctx_.store),
        probe_(*ctx_.probe),
        board_(*ctx_.board),
        output_topics_(OutputTopics(options_.topics)),
        stages_(std::move(stages)),
        batch_(options_, store_, &probe_, stages_.encoder, stages_.decision_operator, ctx_.version),
        scheduler_(SchedulerOptions{.ordered = options_.event_time_order,
                                    .max_task_idle_ms = options_.max_task_idle_ms,
                                    .end_wait_ms = options_.end_wait_ms}),
        changelog_writer_(options_.topics.changelog_group, options_.flush_timeout_ms),
        outputs_producer_(OutputProducer::Options{.dead_letter_topic = options_.topics.dead_letters,
                                                  .processor_version = ctx_.version,
                                                  .flush_timeout_ms = options_.flush_timeout_ms,
                                                  .probe = &probe_},
                          log_) {
    kinds_ = {{options_.topics.web, ingest::TopicKind::kWeb},
              {options_.topics.app, ingest::TopicKind::kApp},
              {options_.topics.links, ingest::TopicKind::kLink},
              {options_.topics.profiles, ingest::TopicKind::kProfile},
              {options_.topics.handoff, ingest::TopicKind::kHandoff}};
    scheduler_.OnLate([this](int32_t, int64_t lateness_ms) {
      probe_.LateEvent(static_cast<double>(lateness_ms) / 1e3);
    });
    producer_ = MakeProducer(options_, ctx_.bootstrap, &outputs_producer_, this, index_);
    outputs_producer_.SetProducer(producer_.get());
    if (options_.changelog) {
      changelog_producer_ =
          MakeProducer(options_, ctx_.bootstrap, &changelog_writer_, this, index_);
      changelog_writer_.SetProducer(changelog_producer_.get());
      restorer_ = std::make_unique<ChangelogRestorer>(options_, ctx_.bootstrap, store_, log_, this);
    }
    consumer_ = MakeConsumer(options_, ctx_.bootstrap, this, this, index_);
  }

  ~Impl() override {
    if (consumer_) consumer_->close();
    DestroyConsumer();
  }

  // Inputs must be co-partitioned (same partition count) for the range assignor to give
  // one member a visitor's web events, links and hand-offs together.
  int32_t CheckCopartitioning() {
    RdKafka::Metadata* raw = nullptr;
    if (consumer_->metadata(true, nullptr, &raw, 10000) != RdKafka::ERR_NO_ERROR) {
      log_.Warn("could not read topic metadata; co-partitioning not checked");
      return 0;
    }
    std::unique_ptr<RdKafka::Metadata> md(raw);
    std::map<std::string, size_t> counts;
    for (const auto* t : *md->topics()) counts[t->topic()] = t->partitions()->size();
    size_t expected = 0;
    std::string first;
    for (const auto* topic : {&options_.topics.web, &options_.topics.links, &options_.topics.app,
                              &options_.topics.profiles, &options_.topics.handoff}) {
      auto it = counts.find(*topic);
      if (it == counts.end() || it->second == 0) {
        log_.Warn("input topic does not exist yet", {{"topic", *topic}});
        continue;
      }
      if (expected == 0) {
        expected = it->second;
        first = *topic;
      } else if (it->second != expected) {
        throw std::runtime_error("topics '" + first + "' (" + std::to_string(expected) +
                                 " partitions) and '" + *topic + "' (" +
                                 std::to_string(it->second) +
                                 ") must have the same partition count (co-partitioning)");
      }
    }
    return static_cast<int32_t>(expected);
  }

  void SetPartitionCount(int32_t partitions) {
    partition_count_ = partitions;
    batch_.SetPartitionCount(partitions);
    scheduler_.SetTaskCount(partitions);
    if (options_.changelog && partitions > 0) batch_.state().EnableChangelog(partitions);
  }

  void CheckChangelogTopics() {
    ChangelogTopicCheck check(changelog_producer_.get(), options_.topics.changelog_group,
                              partition_count_, options_.store, log_);
    check.Finish();
  }

  RunSummary Run() {
    const std::vector<std::string> topics = {options_.topics.web, options_.topics.app,
                                             options_.topics.links, options_.topics.profiles,
                                             options_.topics.handoff};
    if (const auto err = consumer_->subscribe(topics); err != RdKafka::ERR_NO_ERROR) {
      throw std::runtime_error("subscribe failed: " + RdKafka::err2str(err));
    }
    log_.Info("subscribed", {{"group", options_.group_id}});
    last_message_ = Clock::now();
    auto next_metrics = Clock::now();
    try {
      while (!board_.Stopping()) {
        Poll();
        if (fatal_) throw std::runtime_error(fatal_message_);
        ProcessReleased();
        MaybeCommit(false);
        producer_->poll(0);
        if (fatal_) throw std::runtime_error("fatal Kafka error: " + fatal_message_);
        if (Clock::now() >= next_metrics) {
          RefreshMetrics();
          next_metrics = Clock::now() + std::chrono::milliseconds(options_.metrics_interval_ms);
        }
        if (board_.VoteIdle(index_, DrainedAndIdle())) break;
      }
      summary_.stop_reason = board_.all_idle() ? "idle" : "stopped";
      MaybeCommit(true);
    } catch (const DeliveryInterrupted& e) {
      // Stopping while outputs were undelivered: the batch is not committed, so it is
      // processed again after the restart (at-least-once).
      summary_.stop_reason = "stopped";
      log_.Warn("stopped before outputs were delivered; the last batch is not committed",
                {{"detail", e.what()}});
      abandoned_ = true;
    }
    log_.Info("leaving the consumer group", {{"reason", summary_.stop_reason}});
    consumer_->close();  // runs the revoke callback: commit
    DestroyConsumer();
    producer_->flush(std::min(options_.flush_timeout_ms, 5000));
    RefreshMetrics();
    summary_.delivery = outputs_producer_.stats();
    summary_.changelog_records = changelog_writer_.records_written();
    summary_.scheduler = scheduler_.counters();
    return summary_;
  }

  Clock::time_point first_message() const { return first_message_; }
  Clock::time_point last_commit() const { return last_commit_; }
  bool received_any() const { return received_any_; }

  // --- librdkafka callbacks (run inside consume()/poll() on this thread) ---

  // Exceptions must not unwind through librdkafka's C frames: a failure here (a state
  // commit on hand-over) stops the processor from its loop instead.
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    try {
      Rebalance(consumer, err, partitions);
    } catch (const std::exception& e) {
      fatal_ = true;
      fatal_message_ = std::string("rebalance failed: ") + e.what();
      log_.Error("rebalance failed", {{"error", e.what()}});
    }
  }

  void event_cb(RdKafka::Event& event) override {
    switch (event.type()) {
      case RdKafka::Event::EVENT_ERROR: {
        const auto cls = ClassifyKafkaError(event.err(), event.fatal());
        if (cls == KafkaErrorClass::kFatal) {
          fatal_ = true;
          fatal_message_ = event.str();
          log_.Error("fatal kafka error", {{"error", event.str()}});
        } else if (cls == KafkaErrorClass::kRetriable) {
          log_.Warn("kafka error",
                    {{"error", RdKafka::err2str(event.err())}, {"detail", event.str()}});
        }
        break;
      }
      case RdKafka::Event::EVENT_LOG:
        if (event.severity() <= RdKafka::Event::EVENT_SEVERITY_WARNING) {
          log_.Warn("librdkafka", {{"facility", event.fac()}, {"message", event.str()}});
        }
        break;
      case RdKafka::Event::EVENT_STATS:
      case RdKafka::Event::EVENT_THROTTLE:
        break;
    }
  }

 private:
  // Records keep their Kafka message (zero-copy views), and librdkafka's destroy waits
  // for every message it handed out: a batch left undelivered by a stop (or a task
  // still buffered) would hang it. Drop them, then destroy the closed consumer.
  void DestroyConsumer() {
    for (auto& r : released_) scheduler_.Recycle(std::move(r));
    released_.clear();
    for (const auto& [tp, position] : positions_) scheduler_.Revoke(tp);
    consumer_.reset();
  }

  void Rebalance(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                 std::vector<RdKafka::TopicPartition*>& partitions) {
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      // Owned before the restore: a standby stops following these tasks (the lookups
      // answer once the process is ready, after the restore).
      for (auto* p : partitions) board_.Own(index_, p->topic(), p->partition());
      if (restorer_) RestorePartitions(partitions);
      std::string list;
      for (auto* p : partitions) {
        const TopicPartition tp{p->topic(), Partition{p->partition()}};
        const auto stored = store_.GetOffset(tp);
        if (stored) {
          p->set_offset(stored->value);
        } else {
          p->set_offset(options_.rebuild_from_beginning ? RdKafka::Topic::OFFSET_BEGINNING
                                                        : RdKafka::Topic::OFFSET_INVALID);
        }
        positions_[tp] = stored.value_or(Offset{-1});
        eof_.erase(tp);
        const auto kind = kinds_.find(tp.topic);
        if (kind != kinds_.end()) scheduler_.Assign(tp, kind->second);
        if (kind != kinds_.end() && kind->second == ingest::TopicKind::kHandoff) {
          RestoreWatermarks(tp.partition.value);
        }
        probe_.PartitionAssigned(tp);
        list += tp.ToString() + "@" + (stored ? std::to_string(stored->value) : "start") + " ";
      }
      WarnIfBehindGroup(consumer, partitions);
      const auto* e = cooperative_ ? consumer->incremental_assign(partitions) : nullptr;
      if (!cooperative_) consumer->assign(partitions);
      if (e != nullptr) {
        log_.Error("incremental assign failed", {{"error", e->str()}});
        delete e;
      }
      board_.SetAssigned(index_, !positions_.empty());
      log_.Info("partitions assigned", {{"partitions", list}});
    } else if (err == RdKafka::ERR__REVOKE_PARTITIONS) {
      // Hand over cleanly: what was applied is delivered (the loop delivers before it
      // polls again) and now committed with its offsets; what was buffered but not
      // applied is dropped and read again by the next owner.
      if (!abandoned_) MaybeCommit(true);
      batch_.ClearCache();
      for (auto* p : partitions) {
        const TopicPartition tp{p->topic(), Partition{p->partition()}};
        scheduler_.Revoke(tp);
        changelog_writer_.Release(tp.partition.value);
        positions_.erase(tp);
        eof_.erase(tp);
        paused_.erase(tp);
        probe_.PartitionRevoked(tp);
        board_.Release(index_, tp.topic, tp.partition.value);
      }
      if (cooperative_) {
        if (auto* e = consumer->incremental_unassign(partitions)) delete e;
      } else {
        consumer->unassign();
      }
      board_.SetAssigned(index_, !positions_.empty() && cooperative_);
      log_.Info("partitions revoked", {{"count", std::to_string(partitions.size())}});
    } else {
      log_.Error("rebalance error", {{"error", RdKafka::err2str(err)}});
      consumer->unassign();
      for (const auto& [tp, pos] : positions_) scheduler_.Revoke(tp);
      positions_.clear();
      board_.ReleaseAll(index_);
    }
  }

  // The offsets the local state stands at against the group's committed offsets: state
  // behind the group was rolled back (a truncated MANIFEST, an old copy of the directory,
  // another instance's volume). It is not fatal, the gap is read again from the input,
  // but an operator should know.
  void WarnIfBehindGroup(RdKafka::KafkaConsumer* consumer,
                         const std::vector<RdKafka::TopicPartition*>& partitions) {
    std::vector<RdKafka::TopicPartition*> query;
    for (auto* p : partitions)
      query.push_back(RdKafka::TopicPartition::create(p->topic(), p->partition()));
    if (consumer->committed(query, 5000) == RdKafka::ERR_NO_ERROR) {
      for (size_t i = 0; i < query.size(); ++i) {
        const int64_t group = query[i]->offset();
        const int64_t local = partitions[i]->offset();
        if (group >= 0 && local >= 0 && local < group) {
          log_.Warn(
              "local state is behind the consumer group's committed offset; the gap is "
              "read again from the input",
              {{"partition", query[i]->topic() + "[" + std::to_string(query[i]->partition()) + "]"},
               {"state_offset", std::to_string(local)},
               {"group_offset", std::to_string(group)}});
        }
      }
    }
    for (auto* q : query) delete q;
  }

  // Brings the state of each newly assigned task up to its changelog before input is read
  // from the offsets that state carries. Runs inside the assignment callback: the
  // partitions are not consumed meanwhile, and /readyz says which are restoring.
  void RestorePartitions(const std::vector<RdKafka::TopicPartition*>& partitions) {
    std::set<int32_t> tasks;
    for (auto* p : partitions) tasks.insert(p->partition());
    for (const int32_t t : tasks) board_.Restoring(t, 0, 0);
    for (const int32_t t : tasks) {
      std::lock_guard restore_lock(board_.restore_mutex());
      const auto result = restorer_->Restore(t, [&](uint64_t done, uint64_t remaining) {
        probe_.Restore(t, done, remaining);
        board_.Restoring(t, done, remaining);
      });
      changelog_writer_.Own(t, result.ends);
      probe_.Restore(t, result.records, 0);
      summary_.restored_records += result.records;
      summary_.restore_seconds += result.seconds;
      board_.Restored(t);
    }
  }

  // Reads what is there (waiting briefly for the first message when nothing is
  // buffered), decodes each message and hands it to the scheduler.
  void Poll() {
    int timeout_ms = scheduler_.buffered() > 0 ? 1 : options_.poll_timeout_ms;
    const auto decode_start = Clock::now();
    double waited = 0;
    int received = 0;
    bool settled = false;
    for (int n = 0; n < options_.batch_max_messages; ++n) {
      const auto before = Clock::now();
      std::unique_ptr<RdKafka::Message> msg(consumer_->consume(timeout_ms));
      if (timeout_ms > 0) waited += std::chrono::duration<double>(Clock::now() - before).count();
      timeout_ms = 0;
      switch (msg->err()) {
        case RdKafka::ERR_NO_ERROR: {
          const auto kind = kinds_.find(msg->topic_name());
          if (kind == kinds_.end()) break;  // not subscribed; can't happen
          const TopicPartition tp{kind->first, Partition{msg->partition()}};
          eof_.erase(tp);
          auto record = scheduler_.NewRecord();
          InputMessage& m = record->message;
          // topic_name() returns a temporary: point at the map's stable copy of the name.
          m.kind = kind->second;
          m.topic = kind->first;
          m.partition = Partition{msg->partition()};
          m.offset = Offset{msg->offset()};
          m.key = msg->key() != nullptr ? std::string_view(*msg->key()) : std::string_view();
          m.null_payload = msg->payload() == nullptr;
          m.payload = std::string_view(static_cast<const char*>(msg->payload()), msg->len());
          m.arrival_us = SteadyMicros();
          m.kafka_timestamp_ms =
              msg->timestamp().type != RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE
                  ? msg->timestamp().timestamp
                  : 0;
          record->owner = std::move(msg);
          ++received;
          settled = false;
          batch_.Decode(record.get(), WallMillis());
          scheduler_.Push(std::move(record));
          last_message_ = Clock::now();
          if (!received_any_) {
            received_any_ = true;
            first_message_ = last_message_;
          }
          break;
        }
        case RdKafka::ERR__PARTITION_EOF: {
          const TopicPartition tp{msg->topic_name(), Partition{msg->partition()}};
          eof_.insert(tp);
          scheduler_.AtEnd(tp, SteadyMillis());
          break;
        }
        case RdKafka::ERR__TIMED_OUT:
          // The queue ran dry. librdkafka may still be parsing the rest of a fetch
          // response (other partitions of the same moment): wait a moment for it before
          // ordering what arrived, or an older record on another partition would come
          // after a newer one (processing.arrival_settle_ms).
          if (received > 0 && !settled && options_.arrival_settle_ms > 0) {
            settled = true;
            timeout_ms = options_.arrival_settle_ms;
            break;
          }
          n = options_.batch_max_messages;
          break;
        default: {
          const auto cls = ClassifyKafkaError(msg->err(), false);
          if (cls == KafkaErrorClass::kFatal) {
            throw std::runtime_error("consumer error: " + msg->errstr());
          }
          log_.Warn("consumer error", {{"error", msg->errstr()}});
          n = options_.batch_max_messages;
          break;
        }
      }
    }
    probe_.StageSeconds(
        serve::Stage::kDecode,
        std::chrono::duration<double>(Clock::now() - decode_start).count() - waited);
    ApplyFlowChanges();
  }

  void ApplyFlowChanges() {
    std::vector<TopicPartition> pause, resume;
    scheduler_.TakeFlowChanges(&pause, &resume);
    auto apply = [&](const std::vector<TopicPartition>& tps, bool do_pause) {
      if (tps.empty()) return;
      std::vector<RdKafka::TopicPartition*> list;
      for (const auto& tp : tps) {
        list.push_back(RdKafka::TopicPartition::create(tp.topic, tp.partition.value));
        if (do_pause) {
          paused_.insert(tp);
        } else {
          paused_.erase(tp);
        }
      }
      const auto err = do_pause ? consumer_->pause(list) : consumer_->resume(list);
      for (auto* p : list) delete p;
      if (err != RdKafka::ERR_NO_ERROR) {
        log_.Warn(do_pause ? "pause failed" : "resume failed", {{"error", RdKafka::err2str(err)}});
      }
    };
    apply(pause, true);
    apply(resume, false);
  }

  // Applies what the scheduler releases, delivers the outputs (and the watermarks that
  // promise them), commits when due.
  void ProcessReleased() {
    released_.clear();
    scheduler_.Release(SteadyMillis(), static_cast<size_t>(options_.batch_max_messages),
                       &released_);
    outputs_.clear();
    if (!released_.empty()) {
      record_ptrs_.clear();
      for (auto& r : released_) {
        record_ptrs_.push_back(r.get());
        uncommitted_arrivals_.push_back(r->message.arrival_us);
        uncommitted_timestamps_.push_back(r->message.kafka_timestamp_ms);
      }
      BatchCounts counts;
      batch_.Apply(record_ptrs_, WallMillis(), &outputs_, &counts);
      Accumulate(counts);
    }
    AddWatermarks();
    if (!outputs_.empty()) {
      const auto produce_start = Clock::now();
      outputs_producer_.Deliver(outputs_, board_.stop_flag());
      probe_.StageSeconds(serve::Stage::kProduce,
                          std::chrono::duration<double>(Clock::now() - produce_start).count());
      CountOutputs();
    }
    for (auto& r : released_) scheduler_.Recycle(std::move(r));
    released_.clear();
    if (!record_ptrs_.empty()) MaybeCommit(false);
    record_ptrs_.clear();
  }

  // Each owned task's anonymous-side watermark, to every hand-off partition, when it
  // moved (at most every processing.watermark_interval_ms: each publication is a record
  // per task and hand-off partition).
  void AddWatermarks() {
    const int32_t n = partition_count_;
    if (n <= 0 || !options_.event_time_order) return;
    const auto now = Clock::now();
    if (now < next_watermark_) return;
    for (const auto& [task, w] : scheduler_.AnonymousWatermarks()) {
      auto& last = published_watermarks_[task];
      if (last == w) continue;
      last = w;
      v1::IdentityHandoff h;
      h.mutable_watermark()->set_task(task);
      h.mutable_watermark()->set_watermark_ms(w);
      const std::string value = h.SerializeAsString();
      const std::string key = std::string(kWatermarkKeyPrefix) + std::to_string(task);
      for (int32_t p = 0; p < n; ++p) {
        outputs_.push_back({options_.topics.handoff, key, value, w > 0 ? w : 0, p});
      }
    }
    next_watermark_ = now + std::chrono::milliseconds(options_.watermark_interval_ms);
  }

  void RestoreWatermarks(int32_t receiver) {
    for (int32_t s = 0; s < partition_count_; ++s) {
      if (const auto v = batch_.state().GetMeta(WatermarkMetaName(receiver, s))) {
        try {
          scheduler_.RestoreSenderWatermark(receiver, s, std::stoll(*v));
        } catch (const std::exception&) {
          log_.Warn("ignoring a corrupt stored watermark",
                    {{"receiver", std::to_string(receiver)}, {"sender", std::to_string(s)}});
        }
      }
    }
  }

  void CountOutputs() {
    std::array<size_t, 4> per_topic{};
    for (const auto& o : outputs_) {
      for (size_t i = 0; i < output_topics_.size(); ++i) {
        if (o.topic == output_topics_[i]) ++per_topic[i];
      }
    }
    for (size_t i = 0; i < per_topic.size(); ++i) {
      if (per_topic[i] > 0) probe_.OutputProduced(i, per_topic[i]);
    }
    summary_.outputs += outputs_.size();
  }

  // Commits state and offsets when the interval has passed (or `force`).
  void MaybeCommit(bool force) {
    if (!batch_.HasPending()) return;
    const auto now = Clock::now();
    if (!force && now - last_commit_ < std::chrono::milliseconds(options_.commit_interval_ms) &&
        batch_.pending_visitors() < options_.commit_max_visitors) {
      return;
    }
    // Hand-off partitions are applied in event-time order, not offset order: their next
    // offset is the lowest one not applied yet.
    for (const auto& [tp, next] : scheduler_.SortedPartitionOffsets()) {
      batch_.state().SetOffset(tp, Offset{next});
    }
    // What this thread knows of other tasks' watermarks commits with the offsets.
    for (const auto& [receiver, senders] : scheduler_.sender_watermarks()) {
      for (const auto& [sender, w] : senders) {
        auto& stored = stored_watermarks_[{receiver, sender}];
        if (stored == w) continue;
        stored = w;
        batch_.state().PutMeta(WatermarkMetaName(receiver, sender), std::to_string(w));
      }
    }
    auto& commit = batch_.TakeWrites();
    const auto commit_start = Clock::now();
    if (restorer_) changelog_writer_.Write(commit.changelog, &commit.writes);
    store_.Commit(commit.writes);
    last_commit_ = Clock::now();
    const double commit_seconds =
        std::chrono::duration<double>(last_commit_ - commit_start).count();
    probe_.BatchCommitted(uncommitted_arrivals_.size(), commit_seconds);
    probe_.StageSeconds(serve::Stage::kCommit, commit_seconds);
    const int64_t now_wall_ms = WallMillis();
    for (const int64_t ts : uncommitted_timestamps_) {
      if (ts > 0) probe_.EventLag(static_cast<double>(now_wall_ms - ts) / 1e3);
    }
    uncommitted_timestamps_.clear();
    StoreOffsets(commit.next_offsets);
    const int64_t now_us = SteadyMicros();
    for (const int64_t arrival : uncommitted_arrivals_)
      probe_.EventLatency((now_us - arrival) / 1e6);
    uncommitted_arrivals_.clear();
    ++summary_.commits;
  }

  // Hands committed offsets to the consumer; librdkafka auto-commits them to Kafka.
  void StoreOffsets(const std::vector<std::pair<TopicPartition, Offset>>& next) {
    std::vector<RdKafka::TopicPartition*> tps;
    for (const auto& [tp, offset] : next) {
      positions_[tp] = offset;
      tps.push_back(RdKafka::TopicPartition::create(tp.topic, tp.partition.value, offset.value));
    }
    const auto err = consumer_->offsets_store(tps);
    for (auto* tp : tps) delete tp;
    if (err != RdKafka::ERR_NO_ERROR && err != RdKafka::ERR__STATE) {
      log_.Debug("offsets_store", {{"error", RdKafka::err2str(err)}});
    }
  }

  void Accumulate(const BatchCounts& c) { summary_.counts += c; }

  // This thread's share of the process's metrics: its partitions' lag, its tasks' gauges,
  // and what its counters added since the last refresh.
  void RefreshMetrics() {
    for (const auto& [tp, pos] : positions_) {
      int64_t low = 0, high = 0;
      if (consumer_ &&
          consumer_->get_watermark_offsets(tp.topic, tp.partition.value, &low, &high) ==
              RdKafka::ERR_NO_ERROR &&
          high >= 0) {
        probe_.ConsumerLag(tp, high - (pos.value >= 0 ? pos.value : low));
      }
    }
    for (const auto& f : scheduler_.Figures()) {
      probe_.Task(f.task,
                  {static_cast<double>(f.anonymous_stream_time_ms) / 1e3,
                   static_cast<double>(f.customer_stream_time_ms) / 1e3,
                   static_cast<double>(f.head_skew_ms) / 1e3, static_cast<double>(f.buffered)});
    }
    const auto& c = scheduler_.counters();
    const auto& d = outputs_producer_.stats();
    const auto cache = stages_.encoder != nullptr ? stages_.encoder->cache_stats()
                                                  : op::SessionEncoder::CacheStats{};
    const Reported now{
        c.idle_waits,          c.enforced, d.retried,    d.undeliverable,
        d.dead_letters_failed, cache.hits, cache.misses, changelog_writer_.records_written()};
    probe_.AddScheduler(now.idle_waits - reported_.idle_waits, now.enforced - reported_.enforced);
    probe_.AddDelivery(now.retried - reported_.retried, now.undeliverable - reported_.undeliverable,
                       now.dead_letters_failed - reported_.dead_letters_failed);
    probe_.AddModelCache(now.model_hits - reported_.model_hits,
                         now.model_misses - reported_.model_misses);
    probe_.AddChangelogRecords(now.changelog_records - reported_.changelog_records);
    reported_ = now;
  }

  bool DrainedAndIdle() const {
    if (options_.exit_when_idle_ms <= 0 || positions_.empty()) return false;
    if (eof_.size() < positions_.size() || !scheduler_.Drained() || batch_.HasPending()) {
      return false;
    }
    return Clock::now() - last_message_ >= std::chrono::milliseconds(options_.exit_when_idle_ms);
  }

  // Cumulative totals already added to the process's counters.
  struct Reported {
    uint64_t idle_waits = 0, enforced = 0, retried = 0, undeliverable = 0, dead_letters_failed = 0,
             model_hits = 0, model_misses = 0, changelog_records = 0;
  };

  const int index_;
  ThreadContext ctx_;
  const ProcessorOptions& options_;
  Logger log_;
  state::StateStore& store_;
  serve::ProcessorProbe& probe_;
  ThreadBoard& board_;
  const std::vector<std::string> output_topics_;  // index = probe's output topic label
  ThreadStages stages_;
  BatchProcessor batch_;
  EventTimeScheduler scheduler_;
  ChangelogWriter changelog_writer_;
  OutputProducer outputs_producer_;
  std::unordered_map<std::string, ingest::TopicKind> kinds_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::unique_ptr<RdKafka::Producer> changelog_producer_;  // state.changelog only
  std::unique_ptr<ChangelogRestorer> restorer_;            // state.changelog only
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  const bool cooperative_ = UsesCooperativeRebalance(options_);
  int32_t partition_count_ = 0;

  std::vector<EventTimeScheduler::RecordPtr> released_;
  std::vector<InputRecord*> record_ptrs_;
  std::vector<int64_t> uncommitted_arrivals_;    // applied, not yet committed
  std::vector<int64_t> uncommitted_timestamps_;  // Kafka message timestamps, ms (0: none)
  std::vector<OutputMessage> outputs_;
  std::map<TopicPartition, Offset> positions_;  // next offset to process, per assigned partition
  std::set<TopicPartition> eof_;
  std::set<TopicPartition> paused_;
  std::map<int32_t, int64_t> published_watermarks_;
  std::map<std::pair<int32_t, int32_t>, int64_t> stored_watermarks_;
  Clock::time_point next_watermark_;
  Clock::time_point last_message_;
  bool received_any_ = false;
  bool abandoned_ = false;  // stopped with undelivered outputs: never commit again
  Clock::time_point first_message_;
  Clock::time_point last_commit_;
  Reported reported_;
  RunSummary summary_;
  bool fatal_ = false;
  std::string fatal_message_;
};

StreamThread::StreamThread(int index, ThreadContext context, ThreadStages stages)
    : impl_(std::make_unique<Impl>(index, std::move(context), std::move(stages))) {}
StreamThread::~StreamThread() = default;

int32_t StreamThread::CheckCopartitioning() {
  return impl_->CheckCopartitioning();
}
void StreamThread::SetPartitionCount(int32_t partitions) {
  impl_->SetPartitionCount(partitions);
}
void StreamThread::CheckChangelogTopics() {
  impl_->CheckChangelogTopics();
}
RunSummary StreamThread::Run() {
  return impl_->Run();
}
StreamThread::Clock::time_point StreamThread::first_message() const {
  return impl_->first_message();
}
StreamThread::Clock::time_point StreamThread::last_commit() const {
  return impl_->last_commit();
}
bool StreamThread::received_any() const {
  return impl_->received_any();
}

}  // namespace intentstream::runtime
