// Distinct small types for the ids that flow through the processor, so an offset can't
// be passed where a partition is expected.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>

namespace intentstream {

struct Partition {
  int32_t value = -1;
  auto operator<=>(const Partition&) const = default;
};

// A Kafka offset. `next` offsets (the offset of the next message to read) are what
// the state stores, as Kafka's committed offsets do.
struct Offset {
  int64_t value = -1;
  auto operator<=>(const Offset&) const = default;
};

struct TopicPartition {
  std::string topic;
  Partition partition;
  auto operator<=>(const TopicPartition&) const = default;
  std::string ToString() const { return topic + "[" + std::to_string(partition.value) + "]"; }
};

}  // namespace intentstream

template <>
struct std::hash<intentstream::TopicPartition> {
  size_t operator()(const intentstream::TopicPartition& tp) const noexcept {
    return std::hash<std::string>()(tp.topic) * 31 + std::hash<int32_t>()(tp.partition.value);
  }
};
