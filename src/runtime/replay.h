// Replays event files into Kafka: each <dir>/<name>.jsonl (web-events, app-events,
// identity-links, customer-profiles; one protobuf-JSON object per line, as the journey
// generator writes them) goes to the configured topic, keyed by the message's id.
// A line that doesn't parse is still produced (without key): the processor dead-letters
// it, which is what a replay of bad input should show.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/logging.h"
#include "runtime/options.h"

namespace intentstream::runtime {

struct ReplayStats {
  std::map<std::string, uint64_t> produced_by_topic;
  uint64_t unparsable_lines = 0;
};

// Blocks until everything is delivered. Throws std::runtime_error when the directory
// holds none of the files or delivery fails.
ReplayStats ReplayDirectory(const std::string& dir, const TopicNames& topics,
                            const std::string& bootstrap_servers, const Logger& log);

}  // namespace intentstream::runtime
