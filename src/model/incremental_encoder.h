// The serving-side session encoder: keeps each visitor's embedding up to date by
// computing only the new positions of its window against cached keys and values.
//
// How it works (docs/model.md, "Incremental serving"):
// - Per visitor, an in-memory LRU entry holds the event keys of the encoded window and,
//   per layer, the keys and values of every position.
// - On Encode(), the window policy (WindowStart in tokenizer.h) picks the window of the
//   state's events. If the cached event keys are a prefix of the window, only the
//   positions after it are computed; otherwise (cache miss, eviction, a merged hand-off
//   that inserted older events, the window's anchor dropped out) the whole window is
//   rebuilt from state->events(). Either way the result equals SessionModel::EncodeFull
//   to float tolerance (tests/model/incremental_encoder_test.cc).
// - All new positions of one Encode() call, across visitors, go through each layer's
//   matrix products together; only the attention over each visitor's cache is per row.
//
// Thread-safety: not thread-safe; one instance per processing thread (stage.h).
// Memory: a cached visitor holds 2 * layers * window * d_model floats at most
// (64 KiB at the defaults) plus its event keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "model/model.h"
#include "operator/stage.h"

namespace intentstream::model {

struct IncrementalEncoderOptions {
  // Visitors whose keys/values stay cached (LRU). 0 disables the cache, so every update
  // re-encodes the whole window. Default 8192 (at most 512 MiB at the default size).
  size_t cache_capacity = 8192;
};

struct IncrementalEncoderStats {
  uint64_t updates = 0;            // visitors encoded
  uint64_t positions = 0;          // positions computed (1 per appended event when warm)
  uint64_t attended_keys = 0;      // sum over computed positions of the keys attended to
  uint64_t cache_hits = 0;         // cached prefix reused
  uint64_t cache_misses = 0;       // no entry: rebuilt from state
  uint64_t prefix_mismatches = 0;  // entry found but stale (merge, window moved): rebuilt
  uint64_t evictions = 0;
};

class IncrementalEncoder final : public op::SessionEncoder {
 public:
  IncrementalEncoder(std::shared_ptr<const SessionModel> model,
                     IncrementalEncoderOptions options = {});
  ~IncrementalEncoder() override;
  IncrementalEncoder(const IncrementalEncoder&) = delete;
  IncrementalEncoder& operator=(const IncrementalEncoder&) = delete;

  std::string model_version() const override;
  // Writes state->embedding (d_model float32, little endian, L2-normalised; empty when
  // the visitor has no events) and state->model_version for every update.
  void Encode(std::span<op::VisitorUpdate> updates) override;
  void Forget(std::string_view visitor_id) override;
  // Hits: the cached prefix was reused. Misses: rebuilt from state (no entry, or stale).
  CacheStats cache_stats() const override;

  const IncrementalEncoderStats& stats() const;
  size_t cached_visitors() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Decodes state->embedding bytes (float32 little endian).
std::vector<float> DecodeEmbedding(const std::string& bytes);

}  // namespace intentstream::model
