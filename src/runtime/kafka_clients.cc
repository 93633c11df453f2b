#include "runtime/kafka_clients.h"

#include <sstream>

#include "common/config.h"

namespace intentstream::runtime {

namespace {

void Set(RdKafka::Conf* conf, const std::string& origin_key, const std::string& name,
         const std::string& value) {
  std::string err;
  if (conf->set(name, value, err) != RdKafka::Conf::CONF_OK) throw ConfigError(origin_key, err);
}

std::unique_ptr<RdKafka::Conf> BaseConf(const std::map<std::string, std::string>& defaults,
                                        const ProcessorOptions& o,
                                        const std::map<std::string, std::string>& specific,
                                        const std::string& specific_prefix) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  for (const auto& [k, v] : defaults) Set(conf.get(), "(default) " + k, k, v);
  for (const auto& [k, v] : o.kafka_common) Set(conf.get(), "kafka." + k, k, v);
  for (const auto& [k, v] : specific) Set(conf.get(), specific_prefix + k, k, v);
  return conf;
}

// Processing thread `thread` > 0 of a process is a group member of its own: its ids
// get the thread's number (a shared group.instance.id would fence the other threads).
void SuffixIdsForThread(RdKafka::Conf* conf, int thread, bool group_member) {
  if (thread <= 0) return;
  for (const char* name : {"client.id", "group.instance.id"}) {
    if (!group_member && std::string(name) == "group.instance.id") continue;
    std::string value;
    if (conf->get(name, value) != RdKafka::Conf::CONF_OK || value.empty()) continue;
    Set(conf, std::string("(thread) ") + name, name, value + "-" + std::to_string(thread));
  }
}

}  // namespace

KafkaErrorClass ClassifyKafkaError(RdKafka::ErrorCode code, bool client_says_fatal) {
  if (client_says_fatal) return KafkaErrorClass::kFatal;
  switch (code) {
    case RdKafka::ERR_NO_ERROR:
    case RdKafka::ERR__PARTITION_EOF:
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR__TIMED_OUT_QUEUE:
      return KafkaErrorClass::kInformational;
    case RdKafka::ERR__FATAL:
    case RdKafka::ERR__AUTHENTICATION:
    case RdKafka::ERR_SASL_AUTHENTICATION_FAILED:
    case RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED:
    case RdKafka::ERR_GROUP_AUTHORIZATION_FAILED:
    case RdKafka::ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RdKafka::ERR__INVALID_ARG:
    case RdKafka::ERR__SSL:
    case RdKafka::ERR_UNSUPPORTED_VERSION:
      return KafkaErrorClass::kFatal;
    case RdKafka::ERR__UNKNOWN_TOPIC:
    case RdKafka::ERR_UNKNOWN_TOPIC_OR_PART:
      // Topics may be created after start; librdkafka keeps asking for metadata.
      return KafkaErrorClass::kRetriable;
    default:
      return KafkaErrorClass::kRetriable;
  }
}

bool UsesCooperativeRebalance(const ProcessorOptions& o) {
  std::string strategy = "range";
  for (const auto* props : {&o.kafka_common, &o.kafka_consumer}) {
    const auto it = props->find("partition.assignment.strategy");
    if (it != props->end()) strategy = it->second;
  }
  bool any = false;
  std::stringstream list(strategy);
  for (std::string name; std::getline(list, name, ',');) {
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t") + 1);
    if (name.empty()) continue;
    if (name != "cooperative-sticky") return false;
    any = true;
  }
  return any;
}

std::unique_ptr<RdKafka::KafkaConsumer> MakeConsumer(const ProcessorOptions& o,
                                                     const std::string& bootstrap_servers,
                                                     RdKafka::RebalanceCb* rebalance,
                                                     RdKafka::EventCb* events, int thread) {
  const std::map<std::string, std::string> defaults = {
      {"bootstrap.servers", bootstrap_servers},
      {"group.id", o.group_id},
      {"client.id", "intentstream"},
      // Co-partitioned inputs (same key, same partition count) must land on the same
      // member: the range assignor does that, cooperative-sticky does not promise it.
      {"partition.assignment.strategy", "range"},
      // Offsets are stored by the processor after the RocksDB commit that reflects them;
      // librdkafka auto-commits what was stored (for lag tooling; RocksDB is the truth).
      {"enable.auto.offset.store", "false"},
      {"enable.auto.commit", "true"},
      {"auto.offset.reset", "earliest"},
      // Needed to know when a partition is drained (exit_when_idle_ms, readiness).
      {"enable.partition.eof", "true"},
      {"isolation.level", "read_committed"},
      // An empty partition's fetch returns after this long (librdkafka's default, 500 ms,
      // would hold back the hand-off watermarks each task waits for, and every decision).
      {"fetch.wait.max.ms", "10"},
  };
  auto conf = BaseConf(defaults, o, o.kafka_consumer, "kafka.consumer.");
  SuffixIdsForThread(conf.get(), thread, true);
  std::string err;
  if (rebalance != nullptr && conf->set("rebalance_cb", rebalance, err) != RdKafka::Conf::CONF_OK) {
    throw std::runtime_error("rebalance_cb: " + err);
  }
  if (events != nullptr && conf->set("event_cb", events, err) != RdKafka::Conf::CONF_OK) {
    throw std::runtime_error("event_cb: " + err);
  }
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer) throw ConfigError("kafka.consumer.*", "cannot create consumer: " + err);
  return consumer;
}

std::unique_ptr<RdKafka::Consumer> MakeRestoreConsumer(const ProcessorOptions& o,
                                                       const std::string& bootstrap_servers,
                                                       RdKafka::EventCb* events) {
  const std::map<std::string, std::string> defaults = {
      {"bootstrap.servers", bootstrap_servers}, {"client.id", "intentstream-restore"},
      {"enable.auto.offset.store", "false"},    {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "true"},         {"fetch.wait.max.ms", "10"},
  };
  auto conf = BaseConf(defaults, o, o.kafka_consumer, "kafka.consumer.");
  std::string err;
  if (events != nullptr && conf->set("event_cb", events, err) != RdKafka::Conf::CONF_OK) {
    throw std::runtime_error("event_cb: " + err);
  }
  std::unique_ptr<RdKafka::Consumer> consumer(RdKafka::Consumer::create(conf.get(), err));
  if (!consumer) throw ConfigError("kafka.consumer.*", "cannot create restore consumer: " + err);
  return consumer;
}

std::unique_ptr<RdKafka::Producer> MakeProducer(const ProcessorOptions& o,
                                                const std::string& bootstrap_servers,
                                                RdKafka::DeliveryReportCb* delivery,
                                                RdKafka::EventCb* events, int thread) {
  const std::map<std::string, std::string> defaults = {
      {"bootstrap.servers", bootstrap_servers},
      {"client.id", "intentstream"},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      // Outputs are produced after each batch and Deliver() flushes at once, so linger
      // can only delay them. Measured with bench_ingest --stages full --load-percent 50,90
      // (2 cores): linger.ms 0 against 5 took the produce stage from 55 to 45 us per event
      // at equal throughput, but moved the event -> decision p99 only within the run-to-run
      // noise of the event-time ordering waits (hundreds of ms): 5 is kept until a p99
      // gain shows. kafka.producer.linger.ms overrides it.
      {"linger.ms", "5"},
      {"partitioner", "murmur2_random"},
  };
  auto conf = BaseConf(defaults, o, o.kafka_producer, "kafka.producer.");
  SuffixIdsForThread(conf.get(), thread, false);
  std::string err;
  if (delivery != nullptr && conf->set("dr_cb", delivery, err) != RdKafka::Conf::CONF_OK) {
    throw std::runtime_error("dr_cb: " + err);
  }
  if (events != nullptr && conf->set("event_cb", events, err) != RdKafka::Conf::CONF_OK) {
    throw std::runtime_error("event_cb: " + err);
  }
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), err));
  if (!producer) throw ConfigError("kafka.producer.*", "cannot create producer: " + err);
  return producer;
}

}  // namespace intentstream::runtime
