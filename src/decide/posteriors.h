// Online Beta posteriors of offer click-through, per task and per offer x segment
// (the adaptive models of offer-decisioning hubs: every response updates them).
//
// Determinism: a decision at event time t reads the counts of all feedback before the
// start of t's bucket (decision.posterior.bucket_ms), never feedback applied in the same
// bucket, so a decision does not depend on how its input was batched or on the order of
// other customers' events within the bucket. Recent buckets are kept apart; older ones
// fold into totals (a decision later than the kept buckets reads the folded totals).
//
// Posteriors are per task (partition number), like every other state: decisions stay
// deterministic, the state moves with its partition, and each task learns from the
// feedback of its own customers (1/N of the traffic with N partitions).
//
// Not thread-safe: one per task, owned by the processing thread's operator.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "intentstream/v1/state.pb.h"

namespace intentstream::decide {

struct BetaCounts {
  double impressions = 0;
  double clicks = 0;
};

class PosteriorTable {
 public:
  PosteriorTable(int64_t bucket_ms, int kept_buckets)
      : bucket_ms_(bucket_ms), kept_buckets_(kept_buckets) {}

  // Counts of (offer, segment) from feedback before the start of the bucket of `t_ms`.
  BetaCounts AsOf(const std::string& offer, const std::string& segment, int64_t t_ms) const;
  // Feedback at event time `t_ms`.
  void Add(const std::string& offer, const std::string& segment, int64_t t_ms, double impressions,
           double clicks);

  bool dirty() const { return dirty_; }
  std::string Serialize();  // clears dirty
  // Replaces the contents; returns false when the bytes do not parse.
  bool Parse(const std::string& bytes);

 private:
  struct Arm {
    BetaCounts total;  // folded buckets
    std::map<int64_t, BetaCounts> recent;
  };
  int64_t Bucket(int64_t t_ms) const;

  int64_t bucket_ms_;
  int kept_buckets_;
  std::map<std::pair<std::string, std::string>, Arm> arms_;
  bool dirty_ = false;
};

}  // namespace intentstream::decide
