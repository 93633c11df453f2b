// Restore of one partition's state from the changelog topics, on assignment
// (state.changelog; docs/operations.md, "State, volumes and rebuilds").
//
// The local state of a partition records how far into each changelog partition it
// reflects (state/changelog.h). Restoring reads the `meta` changelog from there to its
// end and takes the last commit marker (changelog_writer.h): the stores are applied up to
// the marker's ends in batched WriteSets (each with its progress, so a restore killed
// half-way resumes where it stopped), then the `meta` entries up to the marker, which
// carry the input offsets: input resumes from there, so nothing is read or emitted twice.
// A partition whose local state is current reads only the `meta` tail (usually empty).
//
// Not thread-safe: the processing thread only (inside the assignment callback).
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/logging.h"
#include "runtime/changelog_writer.h"
#include "runtime/options.h"
#include "state/store.h"

namespace intentstream::runtime {

struct RestoreResult {
  bool restored = false;  // the changelog held commits the local state lacked
  uint64_t records = 0;   // applied (stores and meta)
  uint64_t bytes = 0;     // keys and values applied
  double seconds = 0;
  ChangelogEnds ends;  // what the local state reflects now
};

class ChangelogRestorer {
 public:
  // progress(records applied, records remaining) is called after each batch.
  using Progress = std::function<void(uint64_t, uint64_t)>;

  ChangelogRestorer(const ProcessorOptions& options, const std::string& bootstrap_servers,
                    state::StateStore& store, const Logger& log, RdKafka::EventCb* events);
  ~ChangelogRestorer();

  // kTakeOver: the task is about to be processed here; a commit its previous owner never
  // completed is skipped for good. kFollow (a standby): the owner is still writing, so
  // an incomplete commit is read again at the next catch-up; logged at debug only.
  enum class Mode { kTakeOver, kFollow };

  // Throws std::runtime_error when a changelog can't be read (the processor stops; a
  // restart tries again from the progress recorded so far).
  RestoreResult Restore(int32_t partition, const Progress& progress, Mode mode = Mode::kTakeOver);

 private:
  struct Range {
    std::string topic;
    int32_t partition = 0;
    int64_t from = 0, to = 0;  // [from, to)
    bool complete = false;     // read up to `to` (false: the partition ended before it)
  };
  // Reads every range at once (one fetch round trip per batch for all of them, not one
  // start and stop per range), calling fn(range index, record) for each record in order
  // within its range; sets each range's `complete`.
  void ReadRanges(std::vector<Range>& ranges,
                  const std::function<void(size_t, RdKafka::Message&)>& fn);
  RdKafka::Topic* TopicHandle(const std::string& topic);

  const ProcessorOptions& options_;
  state::StateStore& store_;
  Logger log_;
  std::unique_ptr<RdKafka::Consumer> consumer_;
  std::map<std::string, std::unique_ptr<RdKafka::Topic>> topics_;
};

}  // namespace intentstream::runtime
