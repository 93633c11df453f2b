// The distilled intent head as an evaluation labeller: each window is encoded by the
// session encoder (a full pass, which the incremental serving path equals) and scored
// by the head; its labels are the head's (thresholds, default label).
#pragma once

#include <memory>
#include <string>

#include "catalog/catalog.h"
#include "eval/intent_report.h"

namespace intentstream::evaluate {

// Throws (ModelError, std::runtime_error) when the artifacts are unreadable, or when the
// head was trained on another encoder's embeddings.
std::unique_ptr<eval::WindowLabeller> MakeIntentHeadLabeller(
    const std::string& encoder_dir, const std::string& head_dir,
    std::shared_ptr<const catalog::Catalog> catalog);

}  // namespace intentstream::evaluate
