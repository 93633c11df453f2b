// Compiles an offer's message template (catalog.h MessageTemplate) against the loaded
// documents and taxonomy. Used by the catalogue loader only.
#pragma once

#include <optional>
#include <string>

#include "catalog/catalog.h"

namespace intentstream::catalog {

// Parses `source` (empty: the default template) for `offer`, resolves its documents and
// passages in `catalog`, and checks that its own text states no fact. Returns nullopt
// with a readable `error` (without file or offer: the caller names them).
std::optional<MessageTemplate> CompileMessageTemplate(const std::string& source,
                                                      const Catalog& catalog, const Offer& offer,
                                                      std::string* error);

// The risk warnings of the product's documents, in document order.
std::vector<PassageRef> RiskWarningsOf(const Catalog& catalog, int product);

}  // namespace intentstream::catalog
