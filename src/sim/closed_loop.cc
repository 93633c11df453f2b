#include "sim/closed_loop.h"

#include <google/protobuf/util/json_util.h>
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <unordered_map>

#include "intentstream/v1/decisions.pb.h"
#include "sim/catalog.h"

namespace intentstream::sim {

class ClosedLoop::Impl {
 public:
  ClosedLoopRunOptions options;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  ClosedLoopStats stats;
  // Homepage decisions read but not used yet, by trigger event id.
  std::unordered_map<std::string, v1::Decision> by_trigger;

  // Reads what has arrived within `timeout_ms` (returns at the first empty poll after).
  void Poll(int timeout_ms) {
    for (;;) {
      std::unique_ptr<RdKafka::Message> m(consumer->consume(timeout_ms));
      if (m->err() != RdKafka::ERR_NO_ERROR) return;  // timeout, partition EOF, transient
      timeout_ms = 0;
      v1::Decision d;
      const auto* data = static_cast<const char*>(m->payload());
      const std::string_view payload(data, m->len());
      bool ok;
      if (!payload.empty() && payload.front() == '{') {  // output.format=json
        ok = google::protobuf::util::JsonStringToMessage(std::string(payload), &d).ok();
      } else {
        ok = d.ParseFromArray(data, static_cast<int>(m->len()));
      }
      if (!ok) {
        ++stats.undecodable;
        continue;
      }
      if (d.placement() != "home_tile") continue;
      ++stats.decisions_read;
      const std::string trigger = d.trigger_event_id();
      by_trigger.insert_or_assign(trigger, std::move(d));  // repeats carry the same decision
    }
  }
};

std::unique_ptr<ClosedLoop> ClosedLoop::Create(const ClosedLoopRunOptions& options,
                                               std::string* error) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  auto set = [&](const std::string& key, const std::string& value, const char* flag) {
    if (conf->set(key, value, err) != RdKafka::Conf::CONF_OK) {
      *error = std::string(flag) + ": cannot set " + key + ": " + err;
      return false;
    }
    return true;
  };
  if (!set("bootstrap.servers", options.bootstrap, "--bootstrap") ||
      !set("group.id", "intentstream-journeygen-closed-loop", "--bootstrap") ||
      !set("enable.auto.commit", "false", "--bootstrap") ||
      // A wait is a round trip: a fetch must not sit on the broker for its default 500 ms.
      !set("fetch.wait.max.ms", "5", "--bootstrap") ||
      !set("client.id", "intentstream-journeygen-decisions", "--bootstrap")) {
    return nullptr;
  }
  for (const std::string& property : options.properties) {
    const size_t eq = property.find('=');
    if (eq == std::string::npos || eq == 0) {
      *error = "--kafka-property: expected key=value, got \"" + property + "\"";
      return nullptr;
    }
    if (!set(property.substr(0, eq), property.substr(eq + 1), "--kafka-property")) return nullptr;
  }
  impl->consumer.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!impl->consumer) {
    *error = "--bootstrap: cannot create the decisions consumer: " + err;
    return nullptr;
  }
  // Every partition from its start, without a group rebalance: the first step's
  // decisions must not wait for an assignment.
  RdKafka::Metadata* raw = nullptr;
  std::unique_ptr<RdKafka::Topic> topic(
      RdKafka::Topic::create(impl->consumer.get(), options.decisions_topic, nullptr, err));
  if (!topic ||
      impl->consumer->metadata(false, topic.get(), &raw, 10000) != RdKafka::ERR_NO_ERROR) {
    *error =
        "--decisions-topic " + options.decisions_topic + ": no metadata from " + options.bootstrap;
    return nullptr;
  }
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  std::vector<RdKafka::TopicPartition*> partitions;
  for (const auto* t : *metadata->topics()) {
    if (t->topic() != options.decisions_topic || t->err() != RdKafka::ERR_NO_ERROR) continue;
    for (const auto* p : *t->partitions()) {
      partitions.push_back(RdKafka::TopicPartition::create(options.decisions_topic, p->id(),
                                                           RdKafka::Topic::OFFSET_BEGINNING));
    }
  }
  if (partitions.empty()) {
    *error = "--decisions-topic " + options.decisions_topic + ": the topic has no partitions";
    return nullptr;
  }
  const auto assigned = impl->consumer->assign(partitions);
  for (auto* p : partitions) delete p;
  if (assigned != RdKafka::ERR_NO_ERROR) {
    *error = "--decisions-topic: cannot assign: " + RdKafka::err2str(assigned);
    return nullptr;
  }
  return std::unique_ptr<ClosedLoop>(new ClosedLoop(std::move(impl)));
}

ClosedLoop::ClosedLoop(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClosedLoop::~ClosedLoop() {
  if (impl_ && impl_->consumer) impl_->consumer->close();
}

const ClosedLoopStats& ClosedLoop::stats() const {
  return impl_->stats;
}

bool ClosedLoop::Run(Generator& generator, KafkaOutput& out,
                     const std::function<bool(const Record&, std::string*)>& also,
                     const std::function<void(const ClosedLoopStats&)>& progress,
                     std::string* error) {
  Impl& k = *impl_;
  Record record;
  for (;;) {
    while (generator.Next(&record)) {
      if (!out.Produce(record, error)) return false;
      if (also && !also(record, error)) return false;
    }
    const auto& waiting = generator.waiting();
    if (waiting.empty()) return true;  // the world's end
    // The step's records must be in the topics before the processor can decide.
    if (const int left = out.Flush(30000); left > 0) {
      *error = std::to_string(left) + " records undelivered after 30 s (is the cluster up?)";
      return false;
    }
    ++k.stats.waits;
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + std::chrono::milliseconds(k.options.decision_wait_ms);
    auto missing = [&] {
      size_t n = 0;
      for (const auto& v : waiting) n += k.by_trigger.contains(v.login_event_id) ? 0 : 1;
      return n;
    };
    k.Poll(0);
    while (missing() > 0 && std::chrono::steady_clock::now() < deadline) k.Poll(20);
    k.stats.wait_s +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    for (size_t i = 0; i < waiting.size(); ++i) {
      const HomeVisit& visit = waiting[i];
      ++k.stats.visits;
      auto it = k.by_trigger.find(visit.login_event_id);
      if (it == k.by_trigger.end()) {
        ++k.stats.misses;
        generator.Answer(i, {}, TileSource::kMiss);
        continue;
      }
      const v1::Decision& d = it->second;
      std::vector<ShownTile> tiles;
      bool known = true;
      for (const auto& offer : d.offers()) {
        const auto intent = IntentFromOffer(offer.offer_id());
        if (!intent) {
          known = false;
          break;
        }
        tiles.push_back({offer.offer_id(), offer.tile_id(), *intent});
      }
      if (d.customer_id() != visit.customer_id) {
        ++k.stats.unknown_customer;  // a trigger id reused for someone else: not this visit's
        generator.Answer(i, {}, TileSource::kRejected);
      } else if (!known) {
        ++k.stats.unknown_offer;
        generator.Answer(i, {}, TileSource::kRejected);
      } else {
        if (d.arm() != ArmName(visit.arm)) ++k.stats.arm_mismatch;
        ++k.stats.answered;
        generator.Answer(i, std::move(tiles), TileSource::kProcessor);
      }
      k.by_trigger.erase(it);
    }
    // Decisions nobody waits for (home views, the bank and oracle arms' logins, ones that
    // came too late) are dropped; ones for customers the world does not have are counted.
    for (const auto& [trigger, d] : k.by_trigger) {
      if (!generator.IsCustomer(d.customer_id())) ++k.stats.unknown_customer;
    }
    k.by_trigger.clear();
    if (progress) progress(k.stats);
  }
}

}  // namespace intentstream::sim
