// Fault injection: the processor runs on a three-broker mock cluster while input is being
// produced; mid-stream Produce, Fetch and OffsetCommit requests fail with retriable
// errors, slow responses and dropped connections, and a broker (the group coordinator)
// goes down for longer than the session timeout and comes back. The processor must ride
// it out (Run() neither throws nor returns) and end with every visitor's state equal to
// the reference computed from the input alone, every malformed message dead-lettered.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <librdkafka/rdkafkacpp.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <thread>
#include <tuple>

#include "runtime/embedded_cluster.h"
#include "runtime/processor.h"
#include "state/store.h"
#include "support/kafka.h"
#include "support/reference_world.h"
#include "support/temp_dir.h"
#include "support/wait.h"

namespace intentstream {
namespace {

constexpr int kBrokers = 3;
constexpr int kPartitions = 4;
// Kafka protocol request types (ApiKey).
constexpr int16_t kProduce = 0;
constexpr int16_t kFetch = 1;
constexpr int16_t kOffsetCommit = 8;
// The broker that goes down; it is also the group coordinator.
constexpr int32_t kFailingBroker = 2;
// How long it stays down: the fault itself, not a wait for a result. Longer than the
// consumer's session timeout (6 s), so the processor also loses its assignment and
// rejoins the group, with a batch in flight.
constexpr auto kBrokerDownFor = std::chrono::seconds(10);

// End offsets (high watermarks) of every partition of `topics`.
std::map<std::pair<std::string, int32_t>, int64_t> EndOffsets(
    const std::string& bootstrap, const std::vector<std::string>& topics) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap, err);
  std::unique_ptr<RdKafka::Producer> handle(RdKafka::Producer::create(conf.get(), err));
  if (!handle) throw std::runtime_error(err);
  std::map<std::pair<std::string, int32_t>, int64_t> ends;
  for (const auto& topic : topics) {
    for (int32_t p = 0; p < kPartitions; ++p) {
      int64_t low = 0, high = 0;
      const auto rc = handle->query_watermark_offsets(topic, p, &low, &high, 10000);
      if (rc != RdKafka::ERR_NO_ERROR) {
        throw std::runtime_error("watermarks of " + topic + ": " + RdKafka::err2str(rc));
      }
      ends[{topic, p}] = high;
    }
  }
  return ends;
}

// True when the processor's committed offsets reached `ends`.
bool CommittedUpTo(const state::StateStore& store,
                   const std::map<std::pair<std::string, int32_t>, int64_t>& ends) {
  for (const auto& [tp, end] : ends) {
    // A partition with nothing in it has no stored offset.
    const auto offset = store.GetOffset({tp.first, Partition{tp.second}});
    if (offset.value_or(Offset{0}).value != end) return false;
  }
  return true;
}

TEST(FaultInjection, BrokerDownAndRequestErrorsMidStreamLeaveTheStateExact) {
  testing::TempDir dir;
  runtime::EmbeddedCluster cluster(kBrokers);
  rd_kafka_mock_cluster_t* mock = cluster.mock_cluster();
  const runtime::TopicNames topics;
  cluster.CreateTopics(topics.All(), kPartitions);

  const testing::ReferenceWorld world =
      testing::MakeReferenceWorld(topics, 20261123, testing::NowMs() - 48 * 3'600'000);
  const auto& order = world.order;

  runtime::ProcessorOptions options;
  options.store.dir = dir.Sub("state");
  options.http_listen = "";
  options.batch_max_messages = 100;
  options.kafka_consumer["session.timeout.ms"] = "6000";
  options.kafka_consumer["heartbeat.interval.ms"] = "500";
  // Reconnect to a broker that is back within a second, not the default 10 s.
  options.kafka_common["reconnect.backoff.max.ms"] = "1000";
  ASSERT_EQ(rd_kafka_mock_coordinator_set(mock, "group", options.group_id.c_str(), kFailingBroker),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  LogSink sink(LogSink::Format::kText, LogLevel::kWarn);
  runtime::Processor processor(options, cluster.bootstrap_servers(), &sink,
                               std::make_shared<prometheus::Registry>(), nullptr, nullptr);

  std::atomic<bool> stop{false};
  std::atomic<bool> run_returned{false};
  std::string run_error;
  runtime::RunSummary summary;
  std::thread runner([&] {
    try {
      summary = processor.Run(stop);
    } catch (const std::exception& e) {
      run_error = e.what();
    }
    run_returned = true;
  });

  // Produce at a steady pace, so the faults land mid-stream.
  std::atomic<size_t> produced{0};
  std::string producer_error;
  std::thread producer_thread;
  // A failed assertion returns early: stop and join both threads first.
  struct Joiner {
    std::atomic<bool>& stop;
    std::thread& a;
    std::thread& b;
    ~Joiner() {
      stop = true;
      if (a.joinable()) a.join();
      if (b.joinable()) b.join();
    }
  } joiner{stop, producer_thread, runner};
  producer_thread = std::thread([&] {
    try {
      testing::TestProducer producer(cluster.bootstrap_servers());
      for (size_t i = 0; i < order.size(); ++i) {
        producer.Send(order[i].topic, order[i].key, order[i].payload);
        if (i % 20 == 19) {  // ~200 messages a second: about 10 s for the whole input
          producer.Flush();
          produced = i + 1;
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
      producer.Flush();
      produced = order.size();
    } catch (const std::exception& e) {
      producer_error = e.what();
    }
  });

  // Once the processor has committed part of the input: errors on every request type
  // the data path uses, then a broker outage.
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        int64_t consumed = 0;
        for (const auto& [tp, off] : processor.store().AllOffsets()) consumed += off.value;
        return consumed > 200 || run_returned;
      },
      std::chrono::seconds(60)))
      << "the processor never committed";
  ASSERT_FALSE(run_returned) << run_error;
  ASSERT_LT(produced.load(), order.size()) << "the input was produced before the faults";
  for (int32_t broker = 1; broker <= kBrokers; ++broker) {
    // (error, response delay ms) pairs, taken by the next requests of that type.
    ASSERT_EQ(rd_kafka_mock_broker_push_request_error_rtts(
                  mock, broker, kProduce, 4, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, 0,
                  RD_KAFKA_RESP_ERR__TRANSPORT, 0, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, 300,
                  RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, 0),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(rd_kafka_mock_broker_push_request_error_rtts(
                  mock, broker, kFetch, 4, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, 0,
                  RD_KAFKA_RESP_ERR__TRANSPORT, 0, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, 0,
                  RD_KAFKA_RESP_ERR_NO_ERROR, 1000),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  rd_kafka_mock_push_request_errors(mock, kOffsetCommit, 2, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                    RD_KAFKA_RESP_ERR__TRANSPORT);
  const size_t produced_at_outage = produced;
  ASSERT_EQ(rd_kafka_mock_broker_set_down(mock, kFailingBroker), RD_KAFKA_RESP_ERR_NO_ERROR);
  std::this_thread::sleep_for(kBrokerDownFor);
  ASSERT_EQ(rd_kafka_mock_broker_set_up(mock, kFailingBroker), RD_KAFKA_RESP_ERR_NO_ERROR);

  producer_thread.join();
  ASSERT_EQ(producer_error, "");
  EXPECT_LT(produced_at_outage, order.size()) << "the outage was not mid-stream";

  // Everything produced is consumed and committed, hand-offs included (they are
  // produced by the processor itself, so their end moves until the inputs are done).
  const std::vector<std::string> inputs = {topics.web, topics.app, topics.links, topics.profiles};
  const auto input_ends = EndOffsets(cluster.bootstrap_servers(), inputs);
  EXPECT_TRUE(
      testing::WaitFor([&] { return run_returned || CommittedUpTo(processor.store(), input_ends); },
                       std::chrono::seconds(120)))
      << "inputs not consumed";
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        return run_returned ||
               CommittedUpTo(processor.store(),
                             EndOffsets(cluster.bootstrap_servers(), {topics.handoff}));
      },
      std::chrono::seconds(60)))
      << "hand-offs not consumed";
  EXPECT_FALSE(run_returned) << "the processor stopped by itself: " << run_error;
  stop = true;
  runner.join();
  ASSERT_EQ(run_error, "");
  EXPECT_EQ(summary.stop_reason, "stopped");

  testing::ExpectStateMatches(processor.store(), world);
  // Every injected error was served: the faults happened.
  for (int32_t broker = 1; broker <= kBrokers; ++broker) {
    for (const int16_t api : {kProduce, kFetch}) {
      size_t left = 1;
      ASSERT_EQ(rd_kafka_mock_broker_error_stack_cnt(mock, broker, api, &left),
                RD_KAFKA_RESP_ERR_NO_ERROR);
      EXPECT_EQ(left, 0u) << "broker " << broker << " api " << api;
    }
  }

  // Every malformed message was dead-lettered (at least once: retries may repeat).
  std::set<std::tuple<std::string, int32_t, int64_t>> malformed_at, dead_at;
  for (const auto* t : {&topics.web, &topics.app}) {
    for (const auto& m : testing::DrainTopic(cluster.bootstrap_servers(), *t, kPartitions)) {
      if (world.malformed.count(m.value)) malformed_at.insert({m.topic, m.partition, m.offset});
    }
  }
  EXPECT_EQ(malformed_at.size(), world.malformed.size());
  for (const auto& m :
       testing::DrainTopic(cluster.bootstrap_servers(), topics.dead_letters, kPartitions)) {
    v1::DeadLetter dl;
    ASSERT_TRUE(dl.ParseFromString(m.value));
    dead_at.insert({dl.source_topic(), dl.source_partition(), dl.source_offset()});
  }
  EXPECT_EQ(dead_at, malformed_at);
}

}  // namespace
}  // namespace intentstream
