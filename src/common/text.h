// How page paths and search text are normalised, wherever events are read (the ingest
// stage's SessionEvent conversion, the taxonomy's rules): one definition, so a taxonomy
// example and a live event compare equal.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace intentstream {

// A category derived from a URL path keeps at most this many bytes (as a page_category
// label may have), so a visitor's window stays small whatever the paths.
inline constexpr size_t kMaxPathCategoryBytes = 256;

// Page category of a URL path when the CMS gives none: the path without query or
// fragment, lower-cased, trailing slash removed, cut to its first three segments and to
// kMaxPathCategoryBytes (at a UTF-8 character boundary).
// "/Credit-Cards/Travel-Rewards/?utm=x" -> "/credit-cards/travel-rewards".
std::string CategoryFromPath(std::string_view url_path);

// The terms of a search text: lower-cased runs of ASCII letters and digits.
// "Travel CARD, no-fee" -> {"travel", "card", "no", "fee"}.
std::vector<std::string> SearchTerms(std::string_view text);

}  // namespace intentstream
