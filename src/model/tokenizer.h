// Tokenizer: turns the compact SessionEvents kept in visitor state into model tokens.
//
// A token is a fixed array of field ids (source, event type, category, product, up to four
// query-term buckets, dwell bucket, time-since-previous bucket, device, channel). A
// token's embedding is the sum of its field embeddings (see network.h).
//
// Id layout of the vocabulary fields (category, product, channel, event type):
//   0 = none (the event has no value), 1 = out of vocabulary, 2 = mask (training only),
//   3.. = vocabulary entries; for category, hashed fallback buckets follow the vocabulary,
//   so an unseen page still lands in a stable bucket rather than one shared OOV id.
// No torch includes: the processor and the data tools use this directly.
// Thread-safety: a const Tokenizer may be shared between threads.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "intentstream/v1/state.pb.h"

namespace intentstream::model {

// Raised when a model artifact is missing, malformed or inconsistent. what() names the
// file and, where there is one, the key.
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum Field : int {
  kFieldSource = 0,
  kFieldEventType,
  kFieldCategory,
  kFieldProduct,
  kFieldQuery0,
  kFieldQuery1,
  kFieldQuery2,
  kFieldQuery3,
  kFieldDwell,
  kFieldGap,
  kFieldDevice,
  kFieldChannel,
  kNumFields,
};
constexpr int kNumQuerySlots = 4;

using Token = std::array<int32_t, kNumFields>;

// A visitor's events in ascending order, as pointers: VisitorState.events() is a
// RepeatedPtrField, whose data() is exactly this.
using EventPtrs = std::span<const v1::SessionEvent* const>;
std::vector<const v1::SessionEvent*> PointersTo(std::span<const v1::SessionEvent> events);

constexpr int32_t kIdNone = 0;
constexpr int32_t kIdOov = 1;
constexpr int32_t kIdMask = 2;
constexpr int32_t kFirstVocabId = 3;

// Fixed-size fields (no vocabulary file).
constexpr int32_t kSourceSize = 4;       // unspecified, web, app, other
constexpr int32_t kTypesPerSource = 16;  // WebEventType / AppAction values below 16
constexpr int32_t kEventTypeSize = kFirstVocabId + 3 * kTypesPerSource;
constexpr int32_t kDwellBuckets = 16;
constexpr int32_t kGapBuckets = 24;
constexpr int32_t kDeviceSize = 8;

// String -> id with a frequency cut-off. Ids start at kFirstVocabId, in descending
// frequency (ties by string), so building twice from the same data gives the same ids.
class Vocabulary {
 public:
  Vocabulary() = default;
  // Keeps strings seen at least `min_count` times, at most `max_size` of them.
  static Vocabulary Build(const std::map<std::string, int64_t>& counts, int64_t min_count,
                          size_t max_size);
  // One entry per line: "<string>\t<count>". Throws ModelError naming the file and line.
  static Vocabulary Load(const std::string& path);
  void Save(const std::string& path) const;

  // kIdNone for "", the entry's id if known, else kIdOov.
  int32_t Lookup(std::string_view s) const;
  size_t size() const { return entries_.size(); }
  const std::vector<std::pair<std::string, int64_t>>& entries() const { return entries_; }
  // Stable digest of the entries, stored in the config to detect a swapped file.
  uint64_t Digest() const;

 private:
  // Transparent hash: lookups by string_view on the per-event path allocate nothing.
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::pair<std::string, int64_t>> entries_;
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> index_;
};

// Configurable URL-path / screen rules: the longest rule whose prefix matches whole path
// segments names the category ("/credit-cards" matches "/credit-cards/travel" but not
// "/credit-cardsx"). Unmatched categories are cut to `category_depth` segments.
struct PathRule {
  std::string prefix;
  std::string category;
};

struct TokenizerConfig {
  std::vector<PathRule> path_rules;
  // Segments kept of an unmatched category. Default 2 ("/loans/personal").
  int category_depth = 2;
  // Hashed fallback buckets for categories missing from the vocabulary. Default 256.
  int category_hash_buckets = 256;
  // Buckets of hashed query terms (fnv32 of the term modulo this). Default 1024.
  int query_buckets = 1024;
};

// The fields' table sizes, which fix the shapes of the embedding tables.
struct FieldSizes {
  std::array<int32_t, kNumFields> size{};
  int32_t category_vocab_end = 0;  // first hashed category bucket
};

// Path rules file: one "prefix<TAB or spaces>category" per line, '#' comments.
std::vector<PathRule> LoadPathRules(const std::string& path);
void SavePathRules(const std::vector<PathRule>& rules, const std::string& path);

class Tokenizer {
 public:
  Tokenizer(TokenizerConfig config, Vocabulary categories, Vocabulary products,
            Vocabulary channels);

  // The string the category vocabulary is keyed by: rule name, or the truncated path.
  std::string CategoryKey(std::string_view category) const;

  // `previous` is the event before `event` in the same window, or nullptr for the first
  // position (its gap bucket is then 0, so a window's tokens depend on the window only).
  Token Tokenize(const v1::SessionEvent& event, const v1::SessionEvent* previous) const;
  void TokenizeWindow(EventPtrs window, std::vector<Token>* out) const;

  int32_t CategoryId(std::string_view category) const;
  int32_t ProductId(std::string_view product) const { return products_.Lookup(product); }

  const TokenizerConfig& config() const { return config_; }
  const FieldSizes& sizes() const { return sizes_; }
  const Vocabulary& categories() const { return categories_; }
  const Vocabulary& products() const { return products_; }
  const Vocabulary& channels() const { return channels_; }

 private:
  TokenizerConfig config_;
  Vocabulary categories_;
  Vocabulary products_;
  Vocabulary channels_;
  FieldSizes sizes_;
};

// Buckets, exposed for tests.
int32_t EventTypeId(v1::Source source, uint32_t event_type);
int32_t DwellBucket(uint32_t dwell_ms);
int32_t GapBucket(int64_t gap_ms);
int32_t QueryBucket(uint32_t term_hash, int buckets);
// Cuts a '/'-separated path or screen to its first `depth` segments (keeps a leading '/').
std::string TruncateSegments(std::string_view path, int depth);

// Window policy (docs/model.md, "Window overflow"). The encoded window of an event list
// (ascending, as in VisitorState.events) is events[WindowStart(...):].
// - While the list holds at most window - stride events, the window is the whole list.
// - Beyond that, the window starts at the "anchor": among the oldest window/2 events that
//   a window of `window` positions could start at, the one whose key has the lowest
//   AnchorRank (winnowing). The anchor is a property of the events, not of their indexes,
//   so it stays put while events are appended or the oldest are dropped, and the cached
//   keys/values stay valid; the window is re-encoded only when the anchor changes (about
//   once per window/4 events). Windows hold between window/2 + 1 and window events.
// - stride <= 1 selects a plain sliding window (re-encoded on every event at overflow).
size_t WindowStart(EventPtrs events, int window, int stride);
uint64_t AnchorRank(uint64_t event_key);

}  // namespace intentstream::model
