#include "model/tokenizer.h"

#include <gtest/gtest.h>

#include <random>

#include "common/hash.h"
#include "test_util.h"

namespace intentstream::model {
namespace {

using testing::SmallTokenizer;

TEST(TokenizerBucketsTest, DwellIsLogScale) {
  EXPECT_EQ(DwellBucket(0), 0);  // not measured
  EXPECT_EQ(DwellBucket(1), 1);
  EXPECT_EQ(DwellBucket(249), 1);
  EXPECT_EQ(DwellBucket(250), 2);
  EXPECT_EQ(DwellBucket(750), 3);
  EXPECT_EQ(DwellBucket(1750), 4);
  EXPECT_EQ(DwellBucket(4000000000u), kDwellBuckets - 1);  // clipped, no overflow
}

TEST(TokenizerBucketsTest, GapIsLogScale) {
  EXPECT_EQ(GapBucket(0), 1);
  EXPECT_EQ(GapBucket(-5), 1);  // clock skew never yields a negative id
  EXPECT_EQ(GapBucket(999), 1);
  EXPECT_EQ(GapBucket(1000), 2);
  EXPECT_EQ(GapBucket(3000), 3);
  EXPECT_EQ(GapBucket(60 * 1000), 6);
  EXPECT_EQ(GapBucket(int64_t{1} << 60), kGapBuckets - 1);
}

TEST(TokenizerBucketsTest, EventTypeSeparatesSources) {
  EXPECT_NE(EventTypeId(v1::SOURCE_WEB, 1), EventTypeId(v1::SOURCE_APP, 1));
  EXPECT_EQ(EventTypeId(v1::SOURCE_WEB, 99), kIdOov);
  EXPECT_EQ(EventTypeId(static_cast<v1::Source>(7), 1), kIdOov);
  EXPECT_LT(EventTypeId(v1::SOURCE_APP, kTypesPerSource - 1), kEventTypeSize);
}

TEST(TokenizerBucketsTest, QueryBucketsSkipZero) {
  EXPECT_EQ(QueryBucket(0, 10), 1);
  EXPECT_EQ(QueryBucket(19, 10), 10);
}

TEST(TokenizerBucketsTest, TruncateSegments) {
  EXPECT_EQ(TruncateSegments("/credit-cards/travel/gold", 2), "/credit-cards/travel");
  EXPECT_EQ(TruncateSegments("cards/compare/x", 1), "cards");
  EXPECT_EQ(TruncateSegments("/", 2), "/");
  EXPECT_EQ(TruncateSegments("home", 2), "home");
}

TEST(TokenizerTest, PathRulesLongestWholeSegmentPrefixWins) {
  TokenizerConfig c;
  c.path_rules = {{"/credit-cards", "cards"}, {"/credit-cards/travel", "travel_cards"}};
  const Tokenizer tok = SmallTokenizer(c);
  EXPECT_EQ(tok.CategoryKey("/credit-cards/travel/gold"), "travel_cards");
  EXPECT_EQ(tok.CategoryKey("/credit-cards/cashback"), "cards");
  EXPECT_EQ(tok.CategoryKey("/credit-cards"), "cards");
  EXPECT_EQ(tok.CategoryKey("/credit-cardsx/a/b"), "/credit-cardsx/a");  // not a segment match
}

TEST(TokenizerTest, KnownCategoryGetsVocabularyId) {
  TokenizerConfig c;
  c.category_depth = 1;
  const Tokenizer tok = SmallTokenizer(c);
  const int32_t id = tok.CategoryId("/credit-cards/travel");
  EXPECT_GE(id, kFirstVocabId);
  EXPECT_LT(id, tok.sizes().category_vocab_end);
  EXPECT_EQ(tok.CategoryId(""), kIdNone);
}

TEST(TokenizerTest, UnseenCategoryFallsIntoStableHashedBucket) {
  TokenizerConfig c;
  c.category_hash_buckets = 8;
  const Tokenizer tok = SmallTokenizer(c);
  const int32_t id = tok.CategoryId("/brand-new/section");
  EXPECT_GE(id, tok.sizes().category_vocab_end);
  EXPECT_LT(id, tok.sizes().size[kFieldCategory]);
  EXPECT_EQ(id, tok.CategoryId("/brand-new/section"));
  // "rare" was seen once, below the cut-off of 2: hashed, not in the vocabulary.
  EXPECT_GE(tok.CategoryId("rare"), tok.sizes().category_vocab_end);
}

TEST(TokenizerTest, NoHashBucketsMeansOov) {
  TokenizerConfig c;
  c.category_hash_buckets = 0;
  EXPECT_EQ(SmallTokenizer(c).CategoryId("/brand-new"), kIdOov);
}

TEST(TokenizerTest, UnseenValuesMapToOovAndStayInRange) {
  const Tokenizer tok = SmallTokenizer();
  v1::SessionEvent e;
  e.set_source(static_cast<v1::Source>(42));
  e.set_event_type(1234);
  e.set_category("/nowhere/at/all");
  e.set_product("UNKNOWN_PRODUCT");
  e.set_channel("carrier-pigeon");
  e.set_device(static_cast<v1::Device>(99));
  e.set_dwell_ms(4000000000u);
  for (int i = 0; i < 4; ++i) e.add_query_term_hashes(0xffffffffu - i);
  v1::SessionEvent prev;
  prev.set_time_ms(e.time_ms() + 5000);  // out of order: negative gap
  const Token t = tok.Tokenize(e, &prev);
  EXPECT_EQ(t[kFieldProduct], kIdOov);
  EXPECT_EQ(t[kFieldChannel], kIdOov);
  EXPECT_EQ(t[kFieldEventType], kIdOov);
  EXPECT_EQ(t[kFieldDevice], kDeviceSize - 1);
  EXPECT_EQ(t[kFieldSource], kSourceSize - 1);
  for (int f = 0; f < kNumFields; ++f) {
    EXPECT_GE(t[f], 0) << "field " << f;
    EXPECT_LT(t[f], tok.sizes().size[f]) << "field " << f;
  }
}

TEST(TokenizerTest, FirstPositionHasNoGap) {
  const Tokenizer tok = SmallTokenizer();
  v1::SessionEvent a;
  a.set_time_ms(1000);
  v1::SessionEvent b;
  b.set_time_ms(61000);
  EXPECT_EQ(tok.Tokenize(a, nullptr)[kFieldGap], 0);
  EXPECT_EQ(tok.Tokenize(b, &a)[kFieldGap], GapBucket(60000));
}

TEST(VocabularyTest, CutOffAndDeterministicOrder) {
  const auto v = Vocabulary::Build({{"b", 5}, {"a", 5}, {"c", 9}, {"d", 1}, {"", 50}}, 2, 10);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v.Lookup("c"), kFirstVocabId);
  EXPECT_EQ(v.Lookup("a"), kFirstVocabId + 1);  // tie broken by string
  EXPECT_EQ(v.Lookup("b"), kFirstVocabId + 2);
  EXPECT_EQ(v.Lookup("d"), kIdOov);
  EXPECT_EQ(v.Lookup(""), kIdNone);
  EXPECT_EQ(Vocabulary::Build({{"x", 3}, {"y", 2}}, 1, 1).size(), 1u);
}

std::vector<v1::SessionEvent> EventsWithKeys(const std::vector<uint64_t>& keys) {
  std::vector<v1::SessionEvent> out;
  for (uint64_t k : keys) {
    out.emplace_back();
    out.back().set_event_key(k);
  }
  return out;
}

TEST(WindowStartTest, ShortListsAreEncodedWhole) {
  const auto ev = EventsWithKeys({1, 2, 3, 4, 5});
  const auto p = PointersTo(ev);
  EXPECT_EQ(WindowStart(p, 8, 2), 0u);  // 5 + 2 <= 8
}

TEST(WindowStartTest, StartsAtTheLowestRankAndRarelyMoves) {
  std::mt19937_64 rng(3);
  std::vector<uint64_t> keys;
  for (int i = 0; i < 400; ++i) keys.push_back(rng());
  const auto ev = EventsWithKeys(keys);
  const int window = 64;
  const int stride = 8;
  // A state capped at 64 events: each step drops the oldest and appends one.
  size_t moves = 0;
  uint64_t prev_start_key = 0;
  for (size_t first = 0; first + 64 <= ev.size(); ++first) {
    const auto p = PointersTo(std::span(ev).subspan(first, 64));
    const size_t s = WindowStart(p, window, stride);
    ASSERT_LT(s, 32u);  // the window keeps at least window/2 + 1 events
    for (size_t i = 0; i < 32; ++i) {
      ASSERT_LE(AnchorRank(ev[first + s].event_key()), AnchorRank(ev[first + i].event_key()));
    }
    if (first > 0 && ev[first + s].event_key() != prev_start_key) ++moves;
    prev_start_key = ev[first + s].event_key();
  }
  // About once per window/4 events; far from once per event.
  EXPECT_GT(moves, 337u / 40);
  EXPECT_LT(moves, 337u / 8);
}

TEST(WindowStartTest, GrowingListKeepsItsStart) {
  std::mt19937_64 rng(5);
  std::vector<uint64_t> keys;
  for (int i = 0; i < 64; ++i) keys.push_back(rng());
  const auto ev = EventsWithKeys(keys);
  const size_t s57 = WindowStart(PointersTo(std::span(ev).first(57)), 64, 8);
  for (size_t n = 58; n <= 64; ++n) {
    EXPECT_EQ(WindowStart(PointersTo(std::span(ev).first(n)), 64, 8), s57);
  }
  EXPECT_EQ(WindowStart(PointersTo(std::span(ev).first(56)), 64, 8), 0u);
}

TEST(WindowStartTest, StrideOneSlides) {
  const auto ev = EventsWithKeys({1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  EXPECT_EQ(WindowStart(PointersTo(ev), 4, 1), 6u);
}

}  // namespace
}  // namespace intentstream::model
