// Writes a generated world to disk: event files split by time into train /
// validation / test, the public world description, and the ground truth (which the
// processor never reads) under truth/.
//
//   <out>/world.properties                 seed, size, split boundaries (ms)
//   <out>/<split>/web-events.jsonl         one protobuf-JSON object per line
//   <out>/<split>/app-events.jsonl
//   <out>/<split>/identity-links.jsonl
//   <out>/<split>/customer-profiles.jsonl  latest profile of every customer at the
//                                          split's start, then the split's updates
//   <out>/<split>/examples.csv             decision points (app LOGIN events)
//   <out>/truth/sessions.csv, conversions.csv, episodes.csv
//   <out>/truth/home_visits.csv            one line per homepage tile shown, with the
//                                          bank policy's propensity and the responses
//   <out>/truth/arms.csv                   closed-loop worlds: every customer's arm
#pragma once

#include <array>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/options.h"
#include "sim/record.h"

namespace intentstream::sim {

inline constexpr std::array<std::string_view, 3> kSplitNames = {"train", "validation", "test"};

struct SplitOptions {
  // Output directory; created if missing. Required.
  std::string out_dir;
  // First day (0-based, counted from the world's start) of the validation and test
  // periods. Default -1: 50% and 70% of the world's days.
  int32_t validation_start_day = -1;
  int32_t test_start_day = -1;

  // Fills the defaults from `world` and checks 0 <= validation <= test <= days.
  // Empty when valid, else a message naming the flag.
  std::string Resolve(const WorldOptions& world);
};

class WorldWriter final : public TruthSink {
 public:
  // Creates the directories and files. Returns nullptr and sets `error` (naming
  // --out) when they cannot be written. `split` must have been resolved.
  static std::unique_ptr<WorldWriter> Open(const WorldOptions& world, const SplitOptions& split,
                                           std::string* error);
  ~WorldWriter() override;

  // Appends one record to its split's file. Returns false with `error` on an I/O or
  // decoding failure.
  bool Write(const Record& record, std::string* error);
  // Flushes and closes every file; false with `error` if a write failed.
  bool Close(std::string* error);

  void OnSession(const SessionTruth& session) override;
  void OnConversion(const ConversionTruth& conversion) override;
  void OnEpisode(const EpisodeTruth& episode) override;
  void OnHomeVisit(const HomeVisitTruth& visit) override;
  void OnArm(std::string_view customer_id, Arm arm) override;

  // Records written per split.
  const std::array<uint64_t, 3>& records_per_split() const { return per_split_; }

 private:
  WorldWriter() = default;
  size_t SplitOf(int64_t time_ms) const;
  void EnterSplit(size_t split);

  std::array<int64_t, 3> split_start_ms_{};
  std::array<std::array<std::ofstream, kTopicCount>, 3> files_;
  std::array<std::ofstream, 3> examples_;
  std::ofstream sessions_, conversions_, episodes_, home_visits_, arms_;
  std::string truth_dir_;
  size_t current_split_ = 0;
  std::array<uint64_t, 3> per_split_{};
  // Latest profile JSON per customer, in first-seen order, for the split snapshots.
  std::unordered_map<std::string, size_t> profile_index_;
  std::vector<std::string> profiles_;
  std::string json_;  // reused buffer
};

}  // namespace intentstream::sim
