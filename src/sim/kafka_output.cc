#include "sim/kafka_output.h"

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace intentstream::sim {

namespace {
class DeliveryCounter : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    if (message.err() == RdKafka::ERR_NO_ERROR) {
      delivered.fetch_add(1, std::memory_order_relaxed);
    } else {
      failed.fetch_add(1, std::memory_order_relaxed);
    }
  }
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> failed{0};
};
}  // namespace

class KafkaOutput::Impl {
 public:
  KafkaOutputOptions options;
  DeliveryCounter reports;
  std::unique_ptr<RdKafka::Producer> producer;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  uint64_t produced = 0;
};

std::unique_ptr<KafkaOutput> KafkaOutput::Create(const KafkaOutputOptions& options,
                                                 std::string* error) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  auto set = [&](const char* key, const std::string& value) {
    if (conf->set(key, value, err) != RdKafka::Conf::CONF_OK) {
      *error = std::string("--bootstrap: cannot set ") + key + ": " + err;
      return false;
    }
    return true;
  };
  if (!set("bootstrap.servers", options.bootstrap) ||
      // Same partition for a key as the Java clients, so the processor's identity
      // hand-off (KafkaMurmur2Partition) finds the customer's owner.
      !set("partitioner", "murmur2_random") ||
      // Batches amortise requests; 20 ms adds little latency to a load generator.
      !set("linger.ms", "20") ||
      // No duplicates on retries: the demo should see each event once.
      !set("enable.idempotence", "true") || !set("client.id", "intentstream-journeygen")) {
    return nullptr;
  }
  for (const std::string& property : options.properties) {
    const size_t eq = property.find('=');
    if (eq == std::string::npos || eq == 0) {
      *error = "--kafka-property: expected key=value, got \"" + property + "\"";
      return nullptr;
    }
    if (conf->set(property.substr(0, eq), property.substr(eq + 1), err) != RdKafka::Conf::CONF_OK) {
      *error = "--kafka-property " + property + ": " + err;
      return nullptr;
    }
  }
  if (conf->set("dr_cb", &impl->reports, err) != RdKafka::Conf::CONF_OK) {
    *error = "cannot set the delivery report callback: " + err;
    return nullptr;
  }
  impl->producer.reset(RdKafka::Producer::create(conf.get(), err));
  if (!impl->producer) {
    *error = "--bootstrap: cannot create the Kafka producer: " + err;
    return nullptr;
  }
  return std::unique_ptr<KafkaOutput>(new KafkaOutput(std::move(impl)));
}

KafkaOutput::KafkaOutput(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KafkaOutput::~KafkaOutput() = default;

bool KafkaOutput::Produce(const sim::Record& record, std::string* error) {
  Impl& k = *impl_;
  if (k.options.rate_per_s > 0) {
    // Pace against the start time, so short stalls are caught up smoothly.
    const auto due =
        k.started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(k.produced / k.options.rate_per_s));
    const auto now = std::chrono::steady_clock::now();
    if (due > now + std::chrono::milliseconds(1)) std::this_thread::sleep_until(due);
  }
  const std::string topic = k.options.topic_prefix + std::string(sim::TopicName(record.topic));
  for (;;) {
    const RdKafka::ErrorCode err =
        k.producer->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                            const_cast<char*>(record.value.data()), record.value.size(),
                            record.key.data(), record.key.size(), record.event_time_ms, nullptr);
    switch (err) {
      case RdKafka::ERR_NO_ERROR:
        ++k.produced;
        k.producer->poll(0);
        return true;
      case RdKafka::ERR__QUEUE_FULL:
        k.producer->poll(100);  // let deliveries drain the local queue, then retry
        continue;
      default:
        *error = "produce to " + topic + " failed: " + RdKafka::err2str(err);
        return false;
    }
  }
}

int KafkaOutput::Flush(int timeout_ms) {
  impl_->producer->flush(timeout_ms);
  return impl_->producer->outq_len();
}

uint64_t KafkaOutput::delivered() const {
  return impl_->reports.delivered.load();
}
uint64_t KafkaOutput::failed() const {
  return impl_->reports.failed.load();
}

}  // namespace intentstream::sim
