#include "runtime/processor.h"

#include <prometheus/registry.h>

#include <array>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/clock.h"
#include "runtime/kafka_clients.h"
#include "runtime/visitor_lookup.h"
#include "serve/http_server.h"
#include "serve/metrics_endpoint.h"
#include "serve/processor_probe.h"
#include "state/store.h"

#ifndef INTENTSTREAM_VERSION
#define INTENTSTREAM_VERSION "dev"
#endif

namespace intentstream::runtime {

namespace {

using Clock = std::chrono::steady_clock;

serve::HttpServerOptions HttpOptions(const ProcessorOptions& o) {
  serve::HttpServerOptions h;
  h.listen = o.http_listen;
  h.max_connections = o.http_max_connections;
  h.max_data_requests = o.http_threads;
  h.read_timeout_ms = o.http_read_timeout_ms;
  h.write_timeout_ms = o.http_write_timeout_ms;
  h.bearer_token = o.http_auth_token;
  h.tls_cert_file = o.http_tls_cert_file;
  h.tls_key_file = o.http_tls_key_file;
  return h;
}

}  // namespace

class Processor::Impl : public RdKafka::RebalanceCb,
                        public RdKafka::DeliveryReportCb,
                        public RdKafka::EventCb {
 public:
  Impl(Processor* owner, ProcessorOptions options, std::string bootstrap, LogSink* sink,
       std::shared_ptr<prometheus::Registry> registry, op::SessionEncoder* encoder,
       op::DecisionOperator* decision_operator)
      : owner_(owner),
        options_(std::move(options)),
        log_(sink, "processor"),
        registry_(std::move(registry)),
        store_(options_.store),
        output_topics_(OutputTopics(options_.topics)),
        probe_(*registry_, TopicLabels(options_.topics), output_topics_, Processor::Version()),
        encoder_(encoder),
        batch_(options_, store_, &probe_, encoder, decision_operator, Processor::Version()),
        lookup_(store_, options_.topics.web, options_.topics.app, options_.validation.max_id_bytes,
                Ownership{[this](const std::string& topic, int32_t partition) {
                            std::lock_guard lock(owned_mu_);
                            return owned_.count({topic, partition}) > 0;
                          },
                          [this] { return owner_->ready() ? partition_count_.load() : 0; }}) {
    if (encoder_ != nullptr) probe_.ModelVersion(encoder_->model_version());
    kinds_ = {{options_.topics.web, ingest::TopicKind::kWeb},
              {options_.topics.app, ingest::TopicKind::kApp},
              {options_.topics.links, ingest::TopicKind::kLink},
              {options_.topics.profiles, ingest::TopicKind::kProfile},
              {options_.topics.handoff, ingest::TopicKind::kHandoff}};
    producer_ = MakeProducer(options_, bootstrap, this, this);
    consumer_ = MakeConsumer(options_, bootstrap, this, this);
    if (!options_.http_listen.empty()) {
      using serve::RouteClass;
      http_.Route("/metrics", RouteClass::kOps, serve::MetricsHandler(registry_));
      http_.Route("/healthz", RouteClass::kOps, [](const serve::HttpRequest&) {
        return serve::HttpResponse{200, "application/json", "{\"status\":\"ok\"}"};
      });
      http_.Route("/v1/visitors/", RouteClass::kData, [this](const serve::HttpRequest& r) {
        return lookup_.Handle(r, "/v1/visitors/");
      });
      http_.Route("/readyz", RouteClass::kOps, [this](const serve::HttpRequest&) {
        const bool ready = owner_->ready();
        return serve::HttpResponse{ready ? 200 : 503, "application/json",
                                   ready ? "{\"status\":\"ready\"}"
                                         : "{\"status\":\"not ready: no partitions assigned\"}"};
      });
      http_.Start(HttpOptions(options_));
      log_.Info("http endpoint listening",  // never the token
                {{"address", options_.http_listen},
                 {"port", std::to_string(http_.port())},
                 {"tls", http_.tls() ? "on" : "off"},
                 {"lookup_auth", options_.http_auth_token.empty() ? "off" : "bearer token"}});
    }
  }

  ~Impl() override {
    http_.Stop();
    if (consumer_) consumer_->close();
  }

  static std::vector<std::string> OutputTopics(const TopicNames& t) {
    return {t.dead_letters, t.handoff, t.decisions, t.triggers};
  }

  static serve::InputTopicNames TopicLabels(const TopicNames& t) {
    serve::InputTopicNames names;
    names.by_kind = {t.web, t.app, t.links, t.profiles, t.handoff};
    return names;
  }

  RunSummary Run(const std::atomic<bool>& stop) {
    const auto started = Clock::now();
    CheckCopartitioning();
    const std::vector<std::string> topics = {options_.topics.web, options_.topics.app,
                                             options_.topics.links, options_.topics.profiles,
                                             options_.topics.handoff};
    if (const auto err = consumer_->subscribe(topics); err != RdKafka::ERR_NO_ERROR) {
      throw std::runtime_error("subscribe failed: " + RdKafka::err2str(err));
    }
    log_.Info("subscribed", {{"group", options_.group_id}});
    last_message_ = Clock::now();
    auto next_metrics = Clock::now();
    while (!stop.load()) {
      CollectBatch();
      if (fatal_) throw std::runtime_error(fatal_message_);
      ProcessPending();
      MaybeCommit(false);
      producer_->poll(0);
      if (fatal_) throw std::runtime_error("fatal Kafka error: " + fatal_message_);
      if (Clock::now() >= next_metrics) {
        RefreshMetrics();
        next_metrics = Clock::now() + std::chrono::milliseconds(options_.metrics_interval_ms);
      }
      if (DrainedAndIdle()) {
        summary_.stop_reason = "idle";
        break;
      }
    }
    if (summary_.stop_reason.empty()) summary_.stop_reason = "stopped";
    ProcessPending();
    MaybeCommit(true);
    log_.Info("leaving the consumer group", {{"reason", summary_.stop_reason}});
    consumer_->close();  // runs the revoke callback: flush, commit
    consumer_.reset();
    producer_->flush(options_.flush_timeout_ms);
    store_.Flush();
    RefreshMetrics();
    summary_.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    if (summary_.commits > 0) {
      summary_.active_seconds =
          std::chrono::duration<double>(last_commit_ - first_message_).count();
    }
    return summary_;
  }

  int http_port() const { return http_.port(); }
  state::StateStore& store() { return store_; }

  // --- librdkafka callbacks (run inside consume()/poll() on the processing thread) ---

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

  void Rebalance(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                 std::vector<RdKafka::TopicPartition*>& partitions) {
    const bool cooperative = consumer->rebalance_protocol() == "COOPERATIVE";
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
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
        {
          std::lock_guard lock(owned_mu_);
          owned_.insert({tp.topic, tp.partition.value});
        }
        probe_.PartitionAssigned(tp);
        list += tp.ToString() + "@" + (stored ? std::to_string(stored->value) : "start") + " ";
      }
      const auto* e = cooperative ? consumer->incremental_assign(partitions) : nullptr;
      if (!cooperative) consumer->assign(partitions);
      if (e != nullptr) {
        log_.Error("incremental assign failed", {{"error", e->str()}});
        delete e;
      }
      owner_->ready_ = !positions_.empty();
      probe_.Ready(owner_->ready_);
      log_.Info("partitions assigned", {{"partitions", list}});
    } else if (err == RdKafka::ERR__REVOKE_PARTITIONS) {
      // Hand over cleanly: finish what was polled, deliver outputs, commit state and
      // offsets.
      ProcessPending();
      MaybeCommit(true);
      producer_->flush(options_.flush_timeout_ms);
      if (const auto cerr = consumer->commitSync();
          cerr != RdKafka::ERR_NO_ERROR && cerr != RdKafka::ERR__NO_OFFSET) {
        log_.Warn("offset commit on revoke failed", {{"error", RdKafka::err2str(cerr)}});
      }
      batch_.ClearCache();
      for (auto* p : partitions) {
        const TopicPartition tp{p->topic(), Partition{p->partition()}};
        positions_.erase(tp);
        eof_.erase(tp);
        probe_.PartitionRevoked(tp);
        {
          std::lock_guard lock(owned_mu_);
          owned_.erase({tp.topic, tp.partition.value});
        }
      }
      if (cooperative) {
        if (auto* e = consumer->incremental_unassign(partitions)) delete e;
      } else {
        consumer->unassign();
      }
      owner_->ready_ = !positions_.empty() && cooperative;
      probe_.Ready(owner_->ready_);
      log_.Info("partitions revoked", {{"count", std::to_string(partitions.size())}});
    } else {
      log_.Error("rebalance error", {{"error", RdKafka::err2str(err)}});
      consumer->unassign();
      positions_.clear();
      {
        std::lock_guard lock(owned_mu_);
        owned_.clear();
      }
      owner_->ready_ = false;
    }
  }

  void dr_cb(RdKafka::Message& message) override {
    if (message.err() != RdKafka::ERR_NO_ERROR) {
      ++delivery_failures_;
      delivery_error_ = message.topic_name() + ": " + message.errstr();
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
  // Reads up to batch_max_messages: waits for the first, takes what is already there.
  void CollectBatch() {
    int timeout_ms = options_.poll_timeout_ms;
    while (static_cast<int>(pending_.size()) < options_.batch_max_messages) {
      std::unique_ptr<RdKafka::Message> msg(consumer_->consume(timeout_ms));
      timeout_ms = 0;
      switch (msg->err()) {
        case RdKafka::ERR_NO_ERROR: {
          const TopicPartition tp{msg->topic_name(), Partition{msg->partition()}};
          if (!eof_.empty()) eof_.erase(tp);
          arrivals_.push_back(SteadyMicros());
          timestamps_.push_back(msg->timestamp().type !=
                                        RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE
                                    ? msg->timestamp().timestamp
                                    : 0);
          pending_.push_back(std::move(msg));
          last_message_ = Clock::now();
          if (!received_any_) {
            received_any_ = true;
            first_message_ = last_message_;
          }
          break;
        }
        case RdKafka::ERR__PARTITION_EOF:
          eof_.insert(TopicPartition{msg->topic_name(), Partition{msg->partition()}});
          break;
        case RdKafka::ERR__TIMED_OUT:
          return;
        default: {
          const auto cls = ClassifyKafkaError(msg->err(), false);
          if (cls == KafkaErrorClass::kFatal) {
            throw std::runtime_error("consumer error: " + msg->errstr());
          }
          log_.Warn("consumer error", {{"error", msg->errstr()}});
          return;
        }
      }
    }
  }

  // Applies the polled messages and delivers their outputs; commits when due.
  void ProcessPending() {
    if (pending_.empty()) return;
    inputs_.clear();
    for (size_t i = 0; i < pending_.size(); ++i) {
      const auto& m = *pending_[i];
      const auto kind = kinds_.find(m.topic_name());
      if (kind == kinds_.end()) continue;  // not subscribed; can't happen
      // topic_name() returns a temporary: point at the map's stable copy of the name.
      inputs_.push_back(InputMessage{
          kind->second, kind->first, Partition{m.partition()}, Offset{m.offset()},
          m.key() != nullptr ? std::string_view(*m.key()) : std::string_view(),
          std::string_view(static_cast<const char*>(m.payload()), m.len()), arrivals_[i]});
    }
    outputs_.clear();
    BatchCounts counts;
    batch_.Apply(inputs_, WallMillis(), &outputs_, &counts);
    const auto produce_start = Clock::now();
    Produce();
    probe_.StageSeconds(serve::Stage::kProduce,
                        std::chrono::duration<double>(Clock::now() - produce_start).count());
    Accumulate(counts);
    uncommitted_arrivals_.insert(uncommitted_arrivals_.end(), arrivals_.begin(), arrivals_.end());
    uncommitted_timestamps_.insert(uncommitted_timestamps_.end(), timestamps_.begin(),
                                   timestamps_.end());
    pending_.clear();
    arrivals_.clear();
    timestamps_.clear();
    MaybeCommit(false);
  }

  // Commits state and offsets when the interval has passed (or `force`).
  void MaybeCommit(bool force) {
    if (!batch_.HasPending()) return;
    const auto now = Clock::now();
    if (!force && now - last_commit_ < std::chrono::milliseconds(options_.commit_interval_ms) &&
        batch_.pending_visitors() < options_.commit_max_visitors) {
      return;
    }
    auto& commit = batch_.TakeWrites();
    const auto commit_start = Clock::now();
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

  // Produces the batch's outputs and waits for their delivery: state commits only after
  // its outputs are safe (at-least-once).
  void Produce() {
    if (outputs_.empty()) return;
    delivery_failures_ = 0;
    for (const auto& o : outputs_) {
      while (true) {
        const auto err =
            producer_->produce(o.topic, RdKafka::Topic::PARTITION_UA,
                               RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(o.value.data()),
                               o.value.size(), o.key.data(), o.key.size(), 0, nullptr);
        if (err == RdKafka::ERR_NO_ERROR) break;
        if (err != RdKafka::ERR__QUEUE_FULL) {
          throw std::runtime_error("produce to " + o.topic + " failed: " + RdKafka::err2str(err));
        }
        producer_->poll(50);  // queue full: serve delivery reports, then retry
      }
    }
    const auto err = producer_->flush(options_.flush_timeout_ms);
    if (err != RdKafka::ERR_NO_ERROR || producer_->outq_len() > 0) {
      throw std::runtime_error("outputs not delivered within processing.flush_timeout_ms (" +
                               std::to_string(producer_->outq_len()) + " in flight)");
    }
    if (delivery_failures_ > 0) {
      throw std::runtime_error("output delivery failed: " + delivery_error_);
    }
    const auto& topics = output_topics_;
    std::array<size_t, 4> per_topic{};
    for (const auto& o : outputs_) {
      for (size_t i = 0; i < topics.size(); ++i) {
        if (o.topic == topics[i]) ++per_topic[i];
      }
    }
    for (size_t i = 0; i < per_topic.size(); ++i) {
      if (per_topic[i] > 0) probe_.OutputProduced(i, per_topic[i]);
    }
    summary_.outputs += outputs_.size();
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

  void Accumulate(const BatchCounts& c) {
    auto& s = summary_.counts;
    s.accepted += c.accepted;
    s.duplicates += c.duplicates;
    s.dead_letters += c.dead_letters;
    s.handoffs_sent += c.handoffs_sent;
    s.handoffs_merged += c.handoffs_merged;
    s.decisions += c.decisions;
    s.triggers += c.triggers;
  }

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
    if (encoder_ != nullptr) {
      const auto cache = encoder_->cache_stats();
      probe_.ModelCache(cache.hits, cache.misses);
    }
    const auto s = store_.Stats();
    probe_.State({static_cast<double>(s.live_data_bytes), static_cast<double>(s.sst_bytes),
                  static_cast<double>(s.memtable_bytes), static_cast<double>(s.estimated_sessions),
                  static_cast<double>(s.pending_compaction_bytes), s.write_stopped ? 1.0 : 0.0});
  }

  bool DrainedAndIdle() const {
    if (options_.exit_when_idle_ms <= 0 || positions_.empty()) return false;
    if (eof_.size() < positions_.size() || !pending_.empty() || batch_.HasPending()) return false;
    return Clock::now() - last_message_ >= std::chrono::milliseconds(options_.exit_when_idle_ms);
  }

  // Inputs must be co-partitioned (same partition count) for the range assignor to give
  // one process a visitor's web events, links and hand-offs together.
  void CheckCopartitioning() {
    RdKafka::Metadata* raw = nullptr;
    if (consumer_->metadata(true, nullptr, &raw, 10000) != RdKafka::ERR_NO_ERROR) {
      log_.Warn("could not read topic metadata; co-partitioning not checked");
      return;
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
        partition_count_ = static_cast<int32_t>(expected);
      } else if (it->second != expected) {
        throw std::runtime_error("topics '" + first + "' (" + std::to_string(expected) +
                                 " partitions) and '" + *topic + "' (" +
                                 std::to_string(it->second) +
                                 ") must have the same partition count (co-partitioning)");
      }
    }
  }

  Processor* owner_;
  ProcessorOptions options_;
  Logger log_;
  std::shared_ptr<prometheus::Registry> registry_;
  state::StateStore store_;
  const std::vector<std::string> output_topics_;  // index = probe's output topic label
  serve::ProcessorProbe probe_;
  op::SessionEncoder* encoder_;
  BatchProcessor batch_;
  std::unordered_map<std::string, ingest::TopicKind> kinds_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  VisitorLookup lookup_;
  std::mutex owned_mu_;  // guards owned_: written by rebalances, read by HTTP threads
  std::set<std::pair<std::string, int32_t>> owned_;
  std::atomic<int32_t> partition_count_{0};
  serve::HttpServer http_;  // last: its handlers use the members above

  std::vector<std::unique_ptr<RdKafka::Message>> pending_;
  std::vector<int64_t> arrivals_;
  std::vector<int64_t> uncommitted_arrivals_;  // applied, not yet committed
  std::vector<int64_t> timestamps_;            // Kafka message timestamps, ms (0: none)
  std::vector<int64_t> uncommitted_timestamps_;
  std::vector<InputMessage> inputs_;
  std::vector<OutputMessage> outputs_;
  std::map<TopicPartition, Offset> positions_;  // next offset to process, per assigned partition
  std::set<TopicPartition> eof_;
  Clock::time_point last_message_;
  bool received_any_ = false;
  Clock::time_point first_message_;
  Clock::time_point last_commit_;
  RunSummary summary_;
  int delivery_failures_ = 0;
  std::string delivery_error_;
  bool fatal_ = false;
  std::string fatal_message_;
};

Processor::Processor(ProcessorOptions options, std::string bootstrap_servers, LogSink* log_sink,
                     std::shared_ptr<prometheus::Registry> registry, op::SessionEncoder* encoder,
                     op::DecisionOperator* decision_operator)
    : impl_(std::make_unique<Impl>(this, std::move(options), std::move(bootstrap_servers), log_sink,
                                   std::move(registry), encoder, decision_operator)) {}

Processor::~Processor() = default;

RunSummary Processor::Run(const std::atomic<bool>& stop) {
  return impl_->Run(stop);
}
int Processor::http_port() const {
  return impl_->http_port();
}
state::StateStore& Processor::store() {
  return impl_->store();
}
std::string Processor::Version() {
  return INTENTSTREAM_VERSION;
}

}  // namespace intentstream::runtime
