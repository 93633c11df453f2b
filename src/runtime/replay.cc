#include "runtime/replay.h"

#include <google/protobuf/util/json_util.h>
#include <librdkafka/rdkafkacpp.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "intentstream/v1/events.pb.h"

namespace intentstream::runtime {

namespace {

// The id a message of each file is keyed by, or "" when the line doesn't parse.
std::string KeyOf(const std::string& file, const std::string& line) {
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  auto parse = [&](google::protobuf::Message* m) {
    return google::protobuf::util::JsonStringToMessage(line, m, opts).ok();
  };
  if (file == "web-events") {
    v1::WebEvent e;
    return parse(&e) ? e.anonymous_id() : "";
  }
  if (file == "app-events") {
    v1::AppEvent e;
    return parse(&e) ? e.customer_id() : "";
  }
  if (file == "identity-links") {
    v1::IdentityLink e;
    return parse(&e) ? e.anonymous_id() : "";
  }
  v1::CustomerProfile p;
  return parse(&p) ? p.customer_id() : "";
}

}  // namespace

ReplayStats ReplayDirectory(const std::string& dir, const TopicNames& topics,
                            const std::string& bootstrap_servers, const Logger& log) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap_servers, err);
  conf->set("client.id", "intentstream-replay", err);
  conf->set("partitioner", "murmur2_random", err);
  conf->set("linger.ms", "5", err);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), err));
  if (!producer) throw std::runtime_error("replay: cannot create producer: " + err);

  // Profiles first so customers are known before their events; then the web journey,
  // the links that tie it to customers, and the app.
  const std::pair<std::string, std::string> files[] = {{"customer-profiles", topics.profiles},
                                                       {"web-events", topics.web},
                                                       {"identity-links", topics.links},
                                                       {"app-events", topics.app}};
  ReplayStats stats;
  bool any = false;
  for (const auto& [name, topic] : files) {
    const auto path = std::filesystem::path(dir) / (name + ".jsonl");
    std::ifstream in(path);
    if (!in) continue;
    any = true;
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      const std::string key = KeyOf(name, line);
      if (key.empty()) ++stats.unparsable_lines;
      while (producer->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                               line.data(), line.size(), key.empty() ? nullptr : key.data(),
                               key.size(), 0, nullptr) == RdKafka::ERR__QUEUE_FULL) {
        producer->poll(50);
      }
      ++stats.produced_by_topic[topic];
      producer->poll(0);
    }
  }
  if (!any) throw std::runtime_error("replay: no *.jsonl event files in '" + dir + "'");
  if (producer->flush(30000) != RdKafka::ERR_NO_ERROR) {
    throw std::runtime_error("replay: delivery did not complete");
  }
  uint64_t total = 0;
  for (const auto& [t, n] : stats.produced_by_topic) total += n;
  log.Info("replay produced", {{"messages", std::to_string(total)}, {"dir", dir}});
  return stats;
}

}  // namespace intentstream::runtime
