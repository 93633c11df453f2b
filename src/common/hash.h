// Stable, seedless hashes used in persisted formats (state keys, event keys, hashed
// query terms). Changing them changes what is on disk: don't.
#pragma once

#include <cstdint>
#include <string_view>

namespace intentstream {

// FNV-1a, 64 bit.
constexpr uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// FNV-1a, 32 bit.
constexpr uint32_t Fnv1a32(std::string_view s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

// Kafka's default partitioner for keyed messages in Java clients and in librdkafka's
// "murmur2_random": murmur2 of the key, positive, modulo the partition count. The
// identity hand-off relies on it to reach the owner of a customer's partition.
uint32_t KafkaMurmur2(std::string_view key);
int32_t KafkaMurmur2Partition(std::string_view key, int32_t partition_count);

}  // namespace intentstream
