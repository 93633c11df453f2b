// Journey generator: a reproducible synthetic world of a retail bank's digital
// channels (see docs/journeys.md for the generative story).
//
//   sim::WorldOptions options;
//   options.seed = 7;
//   options.customers = 5000;
//   options.days = 30;
//   sim::Generator generator(options);        // throws std::invalid_argument if invalid
//   sim::Record record;
//   while (generator.Next(&record)) produce(TopicName(record.topic), record.key, record.value);
//
// Records come in event-time order (ties broken by creation order). The world is
// built one simulated day at a time, so memory holds one day of records plus the
// per-person state (a few hundred bytes per person). Not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/catalog.h"
#include "sim/options.h"
#include "sim/record.h"

namespace intentstream::sim {

// Counts of what has been yielded so far, and of the hidden world behind it.
struct WorldStats {
  std::array<uint64_t, kTopicCount> records_by_topic{};
  std::array<uint64_t, 16> web_by_type{};    // index: WebEventType
  std::array<uint64_t, 16> app_by_type{};    // index: AppAction
  std::array<uint64_t, 8> link_by_method{};  // index: LinkMethod
  uint64_t web_sessions = 0;
  uint64_t bot_sessions = 0;
  uint64_t app_sessions = 0;
  uint64_t linked_web_sessions = 0;   // web sessions ending in an identity link
  uint64_t anonymous_ids = 0;         // distinct cookies that produced events
  uint64_t linked_anonymous_ids = 0;  // of those, linked at least once
  uint64_t customers_with_app_sessions = 0;
  std::array<uint64_t, kIntentCount> episodes{};     // active at day 0 or started later
  std::array<uint64_t, kIntentCount> conversions{};  // completed applications, by intent
};

class Generator {
 public:
  // `options` must be valid (see WorldOptions::Validate); throws std::invalid_argument
  // with Validate()'s message otherwise. `truth`, if given, must outlive the generator.
  explicit Generator(const WorldOptions& options, TruthSink* truth = nullptr);
  ~Generator();
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  // Fills `out` with the next record in event-time order. Returns false at the end of
  // the world (or after options.max_records records).
  bool Next(Record* out);

  // Day being generated (0-based) and the world's length, for progress output.
  int32_t current_day() const;
  int32_t days() const;
  const WorldStats& stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace intentstream::sim
