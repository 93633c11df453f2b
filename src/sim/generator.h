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
//
// Closed loop (ClosedLoopOptions::enabled): simulated time advances in steps across
// all customers. When an app session of a customer in the processor's arms has
// produced its LOGIN and home screen, Next() returns false with waiting() non-empty;
// the caller gets the processor's decision for each waiting visit, calls Answer() for
// every one, and Next() goes on. Responses are drawn from the person-day's own random
// stream, so the same seed and the same answers give the same world.
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

// An app session waiting for its homepage tiles (closed loop).
struct HomeVisit {
  std::string customer_id;
  std::string login_event_id;  // the decision's trigger_event_id
  std::string session_id;
  int64_t login_ms = 0;
  Arm arm = Arm::kTreated;
};

// A tile the processor chose for a waiting visit.
struct ShownTile {
  std::string offer_id;
  std::string tile_id;
  Intent intent = Intent::kEverydayServicing;  // what the offer serves (IntentFromOffer)
};

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
  explicit Generator(const WorldOptions& options, TruthSink* truth = nullptr,
                     const ClosedLoopOptions& loop = {});
  ~Generator();
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  // Fills `out` with the next record in event-time order. Returns false at the end of
  // the world (or after options.max_records records).
  bool Next(Record* out);

  // Closed loop: the visits waiting for tiles after Next() returned false (empty at
  // the world's end, and always in an open-loop world).
  const std::vector<HomeVisit>& waiting() const;
  // Answers waiting()[i]: the processor's tiles with source kProcessor; with kMiss or
  // kRejected (tiles ignored) the visit gets the bank's policy.
  void Answer(size_t i, std::vector<ShownTile> tiles, TileSource source);
  // True for a customer id of this world.
  bool IsCustomer(std::string_view id) const;
  const ClosedLoopOptions& closed_loop() const;

  // Day being generated (0-based) and the world's length, for progress output.
  int32_t current_day() const;
  int32_t days() const;
  const WorldStats& stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace intentstream::sim
