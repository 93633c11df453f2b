// Reads of committed state for interactive queries (the HTTP lookup API) and tools:
// the key layout stays private to state/. Thread-safe (RocksDB reads).
#pragma once

#include <optional>
#include <string_view>

#include "intentstream/v1/decisions.pb.h"
#include "intentstream/v1/state.pb.h"
#include "state/batch_state.h"
#include "state/store.h"

namespace intentstream::state {

// The visitor's committed state, or nullopt. Throws StateError on a corrupt value.
std::optional<v1::VisitorState> ReadVisitor(const StateStore& store, VisitorKind kind,
                                            std::string_view id);
// The latest committed decision for a customer and placement, or nullopt.
std::optional<v1::Decision> ReadDecision(const StateStore& store, std::string_view customer_id,
                                         std::string_view placement);
// The customer's committed decision-stage state, or nullopt.
std::optional<v1::CustomerOffers> ReadCustomerOffers(const StateStore& store,
                                                     std::string_view customer_id);
// The committed profile, or nullopt.
std::optional<v1::CustomerProfile> ReadProfile(const StateStore& store,
                                               std::string_view customer_id);

}  // namespace intentstream::state
