// The session encoder's next-item ranking for evaluation cases (evaluation.h). No torch
// includes.
//
// A case's context is what serving would hold: the visitor's events before the target,
// through the window policy (WindowStart), so the model sees the window the processor
// would have encoded. Because the encoder is causal, cases whose windows start at the
// same event share one forward pass: the output at position p of a window is the
// encoding of the window cut after p. The next-category head ranks the items; ids below
// kFirstVocabId (none, OOV, mask) are never ranked.
#pragma once

#include <cstdint>
#include <vector>

#include "model/evaluation.h"
#include "model/model.h"

namespace intentstream::model {

// Top-k item ids per case, best first. The model must be in evaluation mode (a loaded
// model is; the trainer switches its model while scoring).
std::vector<std::vector<int32_t>> EncoderTopK(const SessionModel& model,
                                              const std::vector<NextItemCase>& cases, size_t k);

// The encoder output (after the final LayerNorm, before L2 normalisation) that ranks each
// case: normalised, it is SessionModel::EncodeFull of the events before the target.
std::vector<std::vector<float>> EncoderOutputs(const SessionModel& model,
                                               const std::vector<NextItemCase>& cases);

}  // namespace intentstream::model
