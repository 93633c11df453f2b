// librdkafka's mock cluster, started in-process: it speaks the Kafka protocol on
// loopback, so the processor, kcat and any Kafka client can use it. Known limits
// (librdkafka 2.0.2): ~5 MiB or 100k message sets per partition are kept, older data is
// dropped silently; the first group join waits 3 s; a rebalance waits
// session.timeout.ms - 1 s.
#pragma once

#include <string>
#include <vector>

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace intentstream::runtime {

class EmbeddedCluster {
 public:
  explicit EmbeddedCluster(int brokers = 1);
  ~EmbeddedCluster();
  EmbeddedCluster(const EmbeddedCluster&) = delete;
  EmbeddedCluster& operator=(const EmbeddedCluster&) = delete;

  // "127.0.0.1:port,..." for bootstrap.servers.
  std::string bootstrap_servers() const;
  // Throws std::runtime_error on failure.
  void CreateTopic(const std::string& name, int partitions);
  void CreateTopics(const std::vector<std::string>& names, int partitions) {
    for (const auto& name : names) CreateTopic(name, partitions);
  }
  // The mock cluster itself, for tests that inject faults with rdkafka_mock.h (brokers
  // down and up, request errors). Owned by this object.
  rd_kafka_mock_cluster_s* mock_cluster() const { return cluster_; }

 private:
  rd_kafka_s* handle_ = nullptr;
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
};

}  // namespace intentstream::runtime
