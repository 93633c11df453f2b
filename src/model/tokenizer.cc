#include "model/tokenizer.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <fstream>
#include <sstream>

#include "common/hash.h"

namespace intentstream::model {

namespace {

bool PrefixMatchesSegments(std::string_view path, std::string_view prefix) {
  if (prefix.empty() || path.size() < prefix.size()) return false;
  if (path.compare(0, prefix.size(), prefix) != 0) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/' || prefix.back() == '/';
}

std::string Trim(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return std::string(s.substr(b, e - b));
}

}  // namespace

Vocabulary Vocabulary::Build(const std::map<std::string, int64_t>& counts, int64_t min_count,
                             size_t max_size) {
  std::vector<std::pair<std::string, int64_t>> kept;
  for (const auto& [s, n] : counts) {
    if (!s.empty() && n >= min_count) kept.emplace_back(s, n);
  }
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (kept.size() > max_size) kept.resize(max_size);
  Vocabulary v;
  v.entries_ = std::move(kept);
  for (size_t i = 0; i < v.entries_.size(); ++i) {
    v.index_.emplace(v.entries_[i].first, kFirstVocabId + static_cast<int32_t>(i));
  }
  return v;
}

Vocabulary Vocabulary::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ModelError(path + ": cannot open vocabulary file");
  std::map<std::string, int64_t> unused;
  Vocabulary v;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    const size_t tab = line.rfind('\t');
    if (tab == std::string::npos || tab == 0) {
      throw ModelError(path + ":" + std::to_string(line_no) + ": expected '<value>\\t<count>'");
    }
    std::string key = line.substr(0, tab);
    int64_t count = 0;
    try {
      count = std::stoll(line.substr(tab + 1));
    } catch (const std::exception&) {
      throw ModelError(path + ":" + std::to_string(line_no) + ": count is not a number");
    }
    const auto id = kFirstVocabId + static_cast<int32_t>(v.entries_.size());
    if (!v.index_.emplace(key, id).second) {
      throw ModelError(path + ":" + std::to_string(line_no) + ": duplicate entry '" + key + "'");
    }
    v.entries_.emplace_back(std::move(key), count);
  }
  return v;
}

void Vocabulary::Save(const std::string& path) const {
  std::ofstream out(path);
  for (const auto& [s, n] : entries_) out << s << '\t' << n << '\n';
  if (!out) throw ModelError(path + ": cannot write vocabulary file");
}

int32_t Vocabulary::Lookup(std::string_view s) const {
  if (s.empty()) return kIdNone;
  const auto it = index_.find(s);
  return it == index_.end() ? kIdOov : it->second;
}

uint64_t Vocabulary::Digest() const {
  std::string all;
  for (const auto& e : entries_) {
    all += e.first;
    all.push_back('\n');
  }
  return Fnv1a64(all);
}

std::vector<PathRule> LoadPathRules(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ModelError(path + ": cannot open path rules file");
  std::vector<PathRule> rules;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    const size_t sep = t.find_first_of(" \t");
    if (sep == std::string::npos) {
      throw ModelError(path + ":" + std::to_string(line_no) + ": expected '<prefix> <category>'");
    }
    rules.push_back({t.substr(0, sep), Trim(std::string_view(t).substr(sep))});
  }
  return rules;
}

void SavePathRules(const std::vector<PathRule>& rules, const std::string& path) {
  std::ofstream out(path);
  out << "# URL path or screen prefix -> category (longest whole-segment prefix wins)\n";
  for (const auto& r : rules) out << r.prefix << '\t' << r.category << '\n';
  if (!out) throw ModelError(path + ": cannot write path rules file");
}

std::string TruncateSegments(std::string_view path, int depth) {
  std::string out;
  int segments = 0;
  size_t i = 0;
  if (!path.empty() && path[0] == '/') out.push_back('/');
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    if (i >= path.size() || segments == depth) break;
    if (segments > 0) out.push_back('/');
    while (i < path.size() && path[i] != '/') out.push_back(path[i++]);
    ++segments;
  }
  return out;
}

int32_t EventTypeId(v1::Source source, uint32_t event_type) {
  const int s = static_cast<int>(source);
  if (s < 0 || s > 2 || event_type >= static_cast<uint32_t>(kTypesPerSource)) return kIdOov;
  if (event_type == 0 && s == 0) return kIdNone;
  return kFirstVocabId + s * kTypesPerSource + static_cast<int32_t>(event_type);
}

// Log-scale buckets: 0 = not measured; then doubling from 250 ms.
int32_t DwellBucket(uint32_t dwell_ms) {
  if (dwell_ms == 0) return 0;
  const double b = 1.0 + std::floor(std::log2(dwell_ms / 250.0 + 1.0));
  return static_cast<int32_t>(std::min<double>(b, kDwellBuckets - 1));
}

// Log-scale buckets: 0 = first position of the window; then doubling from one second,
// so the last bucket is reached at about 48 days.
int32_t GapBucket(int64_t gap_ms) {
  if (gap_ms < 0) gap_ms = 0;
  const double b = 1.0 + std::floor(std::log2(static_cast<double>(gap_ms) / 1000.0 + 1.0));
  return static_cast<int32_t>(std::min<double>(b, kGapBuckets - 1));
}

int32_t QueryBucket(uint32_t term_hash, int buckets) {
  return 1 + static_cast<int32_t>(term_hash % static_cast<uint32_t>(buckets));
}

Tokenizer::Tokenizer(TokenizerConfig config, Vocabulary categories, Vocabulary products,
                     Vocabulary channels)
    : config_(std::move(config)),
      categories_(std::move(categories)),
      products_(std::move(products)),
      channels_(std::move(channels)) {
  // Longest prefix first, so the first match is the most specific.
  std::stable_sort(
      config_.path_rules.begin(), config_.path_rules.end(),
      [](const PathRule& a, const PathRule& b) { return a.prefix.size() > b.prefix.size(); });
  auto& s = sizes_.size;
  s[kFieldSource] = kSourceSize;
  s[kFieldEventType] = kEventTypeSize;
  sizes_.category_vocab_end = kFirstVocabId + static_cast<int32_t>(categories_.size());
  s[kFieldCategory] = sizes_.category_vocab_end + config_.category_hash_buckets;
  s[kFieldProduct] = kFirstVocabId + static_cast<int32_t>(products_.size());
  for (int q = 0; q < kNumQuerySlots; ++q) s[kFieldQuery0 + q] = config_.query_buckets + 1;
  s[kFieldDwell] = kDwellBuckets;
  s[kFieldGap] = kGapBuckets;
  s[kFieldDevice] = kDeviceSize;
  s[kFieldChannel] = kFirstVocabId + static_cast<int32_t>(channels_.size());
}

std::string Tokenizer::CategoryKey(std::string_view category) const {
  for (const auto& rule : config_.path_rules) {
    if (PrefixMatchesSegments(category, rule.prefix)) return rule.category;
  }
  return TruncateSegments(category, config_.category_depth);
}

int32_t Tokenizer::CategoryId(std::string_view category) const {
  if (category.empty()) return kIdNone;
  const std::string key = CategoryKey(category);
  const int32_t id = categories_.Lookup(key);
  if (id != kIdOov || config_.category_hash_buckets <= 0) return id;
  return sizes_.category_vocab_end +
         static_cast<int32_t>(Fnv1a32(key) % static_cast<uint32_t>(config_.category_hash_buckets));
}

Token Tokenizer::Tokenize(const v1::SessionEvent& e, const v1::SessionEvent* previous) const {
  Token t{};
  const int src = static_cast<int>(e.source());
  t[kFieldSource] = (src >= 0 && src <= 2) ? src : 3;
  t[kFieldEventType] = EventTypeId(e.source(), e.event_type());
  t[kFieldCategory] = CategoryId(e.category());
  t[kFieldProduct] = products_.Lookup(e.product());
  for (int q = 0; q < kNumQuerySlots; ++q) {
    t[kFieldQuery0 + q] = q < e.query_term_hashes_size()
                              ? QueryBucket(e.query_term_hashes(q), config_.query_buckets)
                              : 0;
  }
  t[kFieldDwell] = DwellBucket(e.dwell_ms());
  t[kFieldGap] = previous == nullptr ? 0 : GapBucket(e.time_ms() - previous->time_ms());
  const int dev = static_cast<int>(e.device());
  t[kFieldDevice] = (dev >= 0 && dev < kDeviceSize - 1) ? dev : kDeviceSize - 1;
  t[kFieldChannel] = channels_.Lookup(e.channel());
  return t;
}

void Tokenizer::TokenizeWindow(EventPtrs window, std::vector<Token>* out) const {
  out->clear();
  out->reserve(window.size());
  for (size_t i = 0; i < window.size(); ++i) {
    out->push_back(Tokenize(*window[i], i == 0 ? nullptr : window[i - 1]));
  }
}

std::vector<const v1::SessionEvent*> PointersTo(std::span<const v1::SessionEvent> events) {
  std::vector<const v1::SessionEvent*> out;
  out.reserve(events.size());
  for (const auto& e : events) out.push_back(&e);
  return out;
}

uint64_t AnchorRank(uint64_t event_key) {
  // Remix: event keys are FNV hashes whose low bits are weak.
  uint64_t x = event_key;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

size_t WindowStart(EventPtrs events, int window, int stride) {
  const size_t n = events.size();
  const auto w = static_cast<size_t>(window);
  if (stride <= 1) return n > w ? n - w : 0;  // plain sliding window
  if (n + static_cast<size_t>(stride) <= w) return 0;
  // Winnowing: the lowest-ranked event among the oldest window/2 candidates. As the
  // candidates slide by one, the minimum stays put until it leaves or a lower one
  // enters: about once per window/4 events.
  const size_t lo = n > w ? n - w : 0;
  const size_t hi = std::min(n, lo + w / 2);
  size_t best = lo;
  uint64_t best_rank = AnchorRank(events[lo]->event_key());
  for (size_t i = lo + 1; i < hi; ++i) {
    const uint64_t r = AnchorRank(events[i]->event_key());
    if (r < best_rank) {
      best_rank = r;
      best = i;
    }
  }
  return best;
}

}  // namespace intentstream::model
