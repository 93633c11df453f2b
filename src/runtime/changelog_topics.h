// The changelog topics exist with the partition count of the inputs and a compacting
// cleanup policy before the processor writes to them (state.changelog). Missing ones are
// created (Admin API) with that configuration: `compact` for stores that never expire,
// `compact,delete` with retention.ms = the TTL for `sessions` and `dedup`, whose entries
// RocksDB drops in compaction without a write (no tombstone): Kafka drops them on the
// same schedule, and a restored entry past its TTL is dropped by the same filter.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <string>

struct rd_kafka_queue_s;

#include "common/logging.h"
#include "state/store.h"

namespace intentstream::runtime {

// topic -> (setting -> value) that CheckChangelogTopics creates a missing topic with.
std::map<std::string, std::map<std::string, std::string>> ChangelogTopicConfigs(
    const std::string& group_id, const state::StoreOptions& store);

// The check, in two steps so that the cluster's answer about configurations arrives
// while the consumer joins its group. Both throw std::runtime_error naming the topic and
// the setting (partitions, cleanup.policy) when a changelog topic is wrong or cannot be
// created.
class ChangelogTopicCheck {
 public:
  // Creates the missing topics, checks the partition counts of the others and asks for
  // their configurations.
  ChangelogTopicCheck(RdKafka::Producer* producer, const std::string& group_id, int32_t partitions,
                      const state::StoreOptions& store, const Logger& log);
  ~ChangelogTopicCheck();
  ChangelogTopicCheck(const ChangelogTopicCheck&) = delete;
  ChangelogTopicCheck& operator=(const ChangelogTopicCheck&) = delete;

  // Waits for the configurations (a few seconds at most) and checks cleanup.policy. Where
  // the cluster does not describe configurations (librdkafka's mock cluster), a warning
  // says the policy was not checked.
  void Finish();

 private:
  Logger log_;
  std::map<std::string, std::string> expected_policy_;  // topics that existed
  rd_kafka_queue_s* queue_ = nullptr;                   // the pending DescribeConfigs
};

}  // namespace intentstream::runtime
