// Construction of the librdkafka clients from ProcessorOptions, and the one place where
// Kafka errors are classified.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <memory>
#include <string>

#include "runtime/options.h"

namespace intentstream::runtime {

enum class KafkaErrorClass {
  kInformational,  // log at debug and go on (partition EOF, timeouts)
  kRetriable,      // librdkafka retries; log a warning and go on
  kFatal,          // the client can't go on: stop the processor
};

KafkaErrorClass ClassifyKafkaError(RdKafka::ErrorCode code, bool client_says_fatal);

// The consumer: range assignment (co-partitioned inputs land together), offsets stored
// by us only after the state commit that reflects them, auto-commit of stored offsets.
// Pass-through kafka.* / kafka.consumer.* properties override the defaults; a property
// librdkafka rejects throws ConfigError naming it. `thread`: the processing thread (its
// client.id and group.instance.id get its number when > 0).
std::unique_ptr<RdKafka::KafkaConsumer> MakeConsumer(const ProcessorOptions& options,
                                                     const std::string& bootstrap_servers,
                                                     RdKafka::RebalanceCb* rebalance,
                                                     RdKafka::EventCb* events, int thread = 0);

// Whether the consumer's configured assignors make librdkafka use the cooperative
// (incremental) rebalance protocol: every assignor listed is cooperative-sticky. Known
// from the configuration because rebalance_protocol() can block when asked inside the
// rebalance callback that close() runs.
bool UsesCooperativeRebalance(const ProcessorOptions& options);

// A consumer of single partitions (changelog restore): no group, no coordinator, no
// offset commits. Same kafka.* / kafka.consumer.* pass-through.
std::unique_ptr<RdKafka::Consumer> MakeRestoreConsumer(const ProcessorOptions& options,
                                                       const std::string& bootstrap_servers,
                                                       RdKafka::EventCb* events);

// The producer for outputs: idempotent, acks=all, murmur2 partitioning (as Java clients,
// so hand-offs reach the owner of the customer's partition).
std::unique_ptr<RdKafka::Producer> MakeProducer(const ProcessorOptions& options,
                                                const std::string& bootstrap_servers,
                                                RdKafka::DeliveryReportCb* delivery,
                                                RdKafka::EventCb* events, int thread = 0);

}  // namespace intentstream::runtime
