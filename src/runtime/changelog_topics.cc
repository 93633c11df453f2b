#include "runtime/changelog_topics.h"

#include <librdkafka/rdkafka.h>

#include <memory>
#include <stdexcept>

#include "state/changelog.h"

namespace intentstream::runtime {

namespace {

constexpr int kAdminTimeoutMs = 15000;

struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};
using Queue = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using Event = std::unique_ptr<rd_kafka_event_t, EventDeleter>;

Event Await(rd_kafka_queue_t* queue, const std::string& what) {
  Event e(rd_kafka_queue_poll(queue, kAdminTimeoutMs));
  if (!e) {
    throw std::runtime_error(what + ": no answer from the cluster (create it beforehand, with " +
                             "the inputs' partition count and a compacting cleanup.policy, " +
                             "or set state.changelog = false)");
  }
  return e;
}

void Create(rd_kafka_t* rk, const std::string& topic, int32_t partitions,
            const std::map<std::string, std::string>& config) {
  char err[512];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, -1, err, sizeof err);
  if (nt == nullptr) throw std::runtime_error("changelog topic '" + topic + "': " + err);
  for (const auto& [k, v] : config) rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
  Queue queue(rd_kafka_queue_new(rk));
  rd_kafka_CreateTopics(rk, &nt, 1, nullptr, queue.get());
  rd_kafka_NewTopic_destroy(nt);
  const std::string what = "cannot create changelog topic '" + topic + "'";
  Event e = Await(queue.get(), what);
  if (rd_kafka_event_error(e.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(what + ": " + rd_kafka_event_error_string(e.get()));
  }
  size_t n = 0;
  const auto* results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(e.get()), &n);
  for (size_t i = 0; i < n; ++i) {
    const auto code = rd_kafka_topic_result_error(results[i]);
    if (code != RD_KAFKA_RESP_ERR_NO_ERROR && code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      throw std::runtime_error(what + ": " + rd_kafka_err2str(code));
    }
  }
}

// How long the cluster may take to describe configurations (the mock cluster never does).
constexpr int kDescribeTimeoutMs = 4000;

}  // namespace

std::map<std::string, std::map<std::string, std::string>> ChangelogTopicConfigs(
    const std::string& group_id, const state::StoreOptions& store) {
  std::map<std::string, std::map<std::string, std::string>> out;
  for (const state::Cf cf : state::ChangelogStores()) {
    auto& c = out[state::ChangelogTopic(group_id, cf)];
    c["cleanup.policy"] = "compact";
    const int64_t ttl_s = cf == state::Cf::kSessions ? store.session_ttl_s
                          : cf == state::Cf::kDedup  ? store.dedup_ttl_s
                                                     : 0;
    if (ttl_s > 0) {
      c["cleanup.policy"] = "compact,delete";
      c["retention.ms"] = std::to_string(ttl_s * 1000);
    }
  }
  return out;
}

ChangelogTopicCheck::ChangelogTopicCheck(RdKafka::Producer* producer, const std::string& group_id,
                                         int32_t partitions, const state::StoreOptions& store,
                                         const Logger& log)
    : log_(log) {
  RdKafka::Metadata* raw = nullptr;
  if (producer->metadata(true, nullptr, &raw, kAdminTimeoutMs) != RdKafka::ERR_NO_ERROR) {
    throw std::runtime_error("cannot read topic metadata to check the changelog topics");
  }
  std::unique_ptr<RdKafka::Metadata> md(raw);
  std::map<std::string, int32_t> counts;
  for (const auto* t : *md->topics()) {
    if (t->err() == RdKafka::ERR_NO_ERROR) {
      counts[t->topic()] = static_cast<int32_t>(t->partitions()->size());
    }
  }
  for (const auto& [topic, config] : ChangelogTopicConfigs(group_id, store)) {
    const auto it = counts.find(topic);
    if (it == counts.end()) {
      Create(producer->c_ptr(), topic, partitions, config);
      log_.Info("changelog topic created", {{"topic", topic},
                                            {"partitions", std::to_string(partitions)},
                                            {"cleanup.policy", config.at("cleanup.policy")}});
      continue;
    }
    if (it->second != partitions) {
      throw std::runtime_error("changelog topic '" + topic + "': partitions is " +
                               std::to_string(it->second) + ", it must be " +
                               std::to_string(partitions) + " (the inputs' partition count)");
    }
    expected_policy_[topic] = config.at("cleanup.policy");
  }
  if (expected_policy_.empty()) return;
  rd_kafka_t* rk = producer->c_ptr();
  std::vector<rd_kafka_ConfigResource_t*> resources;
  for (const auto& [topic, policy] : expected_policy_) {
    resources.push_back(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()));
  }
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
  char err[512];
  rd_kafka_AdminOptions_set_request_timeout(opts, kDescribeTimeoutMs, err, sizeof err);
  queue_ = rd_kafka_queue_new(rk);
  rd_kafka_DescribeConfigs(rk, resources.data(), resources.size(), opts, queue_);
  rd_kafka_AdminOptions_destroy(opts);
  for (auto* r : resources) rd_kafka_ConfigResource_destroy(r);
}

ChangelogTopicCheck::~ChangelogTopicCheck() {
  if (queue_ != nullptr) rd_kafka_queue_destroy(queue_);
}

void ChangelogTopicCheck::Finish() {
  if (queue_ == nullptr) return;
  Queue queue(queue_);
  queue_ = nullptr;
  Event e(rd_kafka_queue_poll(queue.get(), kDescribeTimeoutMs + 1000));
  if (!e || rd_kafka_event_error(e.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    log_.Warn(
        "the cluster did not describe topic configurations; the changelog topics' "
        "cleanup.policy is not checked",
        {{"error", e ? rd_kafka_event_error_string(e.get()) : "no answer"}});
    return;
  }
  size_t n = 0;
  const auto* resources =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(e.get()), &n);
  for (size_t i = 0; i < n; ++i) {
    const std::string topic = rd_kafka_ConfigResource_name(resources[i]);
    if (rd_kafka_ConfigResource_error(resources[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      log_.Warn("changelog topic configuration not described; cleanup.policy not checked",
                {{"topic", topic}, {"error", rd_kafka_ConfigResource_error_string(resources[i])}});
      continue;
    }
    size_t m = 0;
    const auto* entries = rd_kafka_ConfigResource_configs(resources[i], &m);
    for (size_t j = 0; j < m; ++j) {
      if (std::string(rd_kafka_ConfigEntry_name(entries[j])) != "cleanup.policy") continue;
      const char* v = rd_kafka_ConfigEntry_value(entries[j]);
      const std::string policy = v != nullptr ? v : "";
      if (policy.find("compact") == std::string::npos) {
        const auto it = expected_policy_.find(topic);
        throw std::runtime_error(
            "changelog topic '" + topic + "': cleanup.policy is '" + policy +
            "', it must include 'compact' (expected '" +
            (it != expected_policy_.end() ? it->second : std::string("compact")) + "')");
      }
    }
  }
}

}  // namespace intentstream::runtime
