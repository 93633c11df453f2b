// Training windows and batches (internal to src/model: includes torch through network.h).
//
// A window is a run of consecutive events of one visitor's timeline, at most
// `window` long; every position of it predicts the next event's fields, and a few have a
// field masked. Batches group windows of similar length so little of a batch is padding.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "model/dataset.h"
#include "model/network.h"
#include "model/trainer.h"

namespace intentstream::model {

struct Window {
  const Timeline* timeline;
  size_t begin;
  size_t end;
  size_t size() const { return end - begin; }
};

// Cuts every timeline into windows of at most `window` events, back from its last event
// (kFixed) or from a random offset (kRandomOffset); each event is in exactly one window.
std::vector<Window> CutWindows(const std::vector<Timeline>& timelines, int window, WindowCut cut,
                               std::mt19937_64& rng);

// Shuffles `windows` and groups them into batches of `batch` windows; with
// `length_buckets`, windows of similar length share a batch (sorted within groups of 32
// batches, then the batches shuffled).
std::vector<std::vector<Window>> PlanBatches(std::vector<Window> windows, size_t batch,
                                             bool length_buckets, std::mt19937_64& rng);

struct Batch {
  torch::Tensor tokens;  // [B, T, F] with masked fields
  // Targets, [B, T], -100 = ignore.
  torch::Tensor next_category, next_product, next_type;
  torch::Tensor mask_category, mask_product, mask_type;
};

// `session_gap_ms` > 0: a position whose next event comes after that much inactivity (a
// new session) has no next-event targets: the objective is the session's next event, as
// the evaluation's is, rather than a guess at how the visitor's next session opens.
Batch MakeBatch(const Tokenizer& tokenizer, std::span<const Window> windows,
                double mask_probability, int64_t session_gap_ms, std::mt19937_64& rng);

}  // namespace intentstream::model
