// Kafka helpers for integration tests against the embedded mock cluster: a producer that
// keys like Java clients (murmur2) and a reader that drains a topic from the beginning.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace intentstream::testing {

class TestProducer {
 public:
  explicit TestProducer(const std::string& bootstrap) {
    std::string err;
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    conf->set("bootstrap.servers", bootstrap, err);
    conf->set("partitioner", "murmur2_random", err);
    conf->set("linger.ms", "2", err);
    producer_.reset(RdKafka::Producer::create(conf.get(), err));
    if (!producer_) throw std::runtime_error(err);
  }
  ~TestProducer() { Flush(); }

  void Send(const std::string& topic, const std::string& key, const std::string& payload) {
    while (producer_->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                              const_cast<char*>(payload.data()), payload.size(),
                              key.empty() ? nullptr : key.data(), key.size(), 0,
                              nullptr) == RdKafka::ERR__QUEUE_FULL) {
      producer_->poll(10);
    }
    producer_->poll(0);
  }
  void Flush() {
    if (producer_->flush(30000) != RdKafka::ERR_NO_ERROR) throw std::runtime_error("flush");
  }

 private:
  std::unique_ptr<RdKafka::Producer> producer_;
};

struct ConsumedMessage {
  std::string topic;
  int32_t partition;
  int64_t offset;
  std::string key;
  std::string value;
};

// Reads every partition of `topic` from the beginning to its current end.
inline std::vector<ConsumedMessage> DrainTopic(const std::string& bootstrap,
                                               const std::string& topic, int partitions) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap, err);
  conf->set("group.id", "test-drain", err);
  conf->set("enable.auto.commit", "false", err);
  conf->set("enable.partition.eof", "true", err);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer) throw std::runtime_error(err);
  std::vector<RdKafka::TopicPartition*> tps;
  for (int p = 0; p < partitions; ++p) {
    tps.push_back(RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_BEGINNING));
  }
  consumer->assign(tps);
  for (auto* tp : tps) delete tp;
  std::vector<ConsumedMessage> out;
  std::set<int32_t> at_end;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (static_cast<int>(at_end.size()) < partitions &&
         std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(200));
    if (m->err() == RdKafka::ERR_NO_ERROR) {
      out.push_back({m->topic_name(), m->partition(), m->offset(), m->key() ? *m->key() : "",
                     std::string(static_cast<const char*>(m->payload()), m->len())});
    } else if (m->err() == RdKafka::ERR__PARTITION_EOF) {
      at_end.insert(m->partition());
    }
  }
  consumer->close();
  if (static_cast<int>(at_end.size()) < partitions) throw std::runtime_error("drain timed out");
  return out;
}

}  // namespace intentstream::testing
