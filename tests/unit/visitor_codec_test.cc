// The stored visitor formats: format 1 round-trips every field exactly, is far smaller
// than format 0 with a full window, falls back to format 0 for what it cannot pack, and
// rejects corrupt bytes; format 0 (the previous release's) still reads.
#include "state/visitor_codec.h"

#include <gtest/gtest.h>

#include <google/protobuf/util/message_differencer.h>

#include <random>

namespace intentstream::state {
namespace {

using google::protobuf::util::MessageDifferencer;

v1::VisitorState FullVisitor(int events, uint64_t seed) {
  std::mt19937_64 rng(seed);
  v1::VisitorState s;
  s.set_first_seen_ms(1767571200000);
  s.set_session_count(3);
  s.set_events_total(static_cast<uint64_t>(events) + 5);
  s.set_web_events(10);
  s.set_model_version("enc-1");
  s.set_embedding(std::string(256, '\x3f'));
  s.add_linked_anonymous_ids("anon-1");
  auto* score = s.add_intents();
  score->set_intent("mortgage");
  score->set_score(0.75f);
  int64_t t = 1767571200000;
  const char* cats[] = {"/loans/personal", "home", "", "cards/compare"};
  const char* prods[] = {"", "CC_TRAVEL", "LOAN_PERSONAL"};
  for (int i = 0; i < events; ++i) {
    t += static_cast<int64_t>(rng() % 90000);
    auto* e = s.add_events();
    e->set_event_key(rng());
    e->set_time_ms(t);
    e->set_source(i % 2 == 0 ? v1::SOURCE_WEB : v1::SOURCE_APP);
    e->set_event_type(static_cast<uint32_t>(rng() % 12));
    e->set_category(cats[rng() % 4]);
    e->set_product(prods[rng() % 3]);
    if (i % 5 == 0) {
      for (int k = 0; k < 1 + i % 4; ++k) e->add_query_term_hashes(static_cast<uint32_t>(rng()));
    }
    e->set_dwell_ms(static_cast<uint32_t>(rng() % 90000));
    e->set_device(static_cast<v1::Device>(rng() % 7));
    if (i % 2 == 0) e->set_channel("paid_search");
  }
  s.set_last_event_ms(t);
  return s;
}

void ExpectRoundTrip(const v1::VisitorState& s, VisitorFormat format) {
  const std::string bytes = EncodeVisitor(s);
  EXPECT_EQ(FormatOf(bytes), format);
  v1::VisitorState back;
  ASSERT_TRUE(DecodeVisitor(bytes, &back));
  if (format == VisitorFormat::kLegacy) {
    // Read as a previous release's value: it gains the legacy dedup horizon.
    EXPECT_TRUE(back.has_legacy_dedup_through_ms());
    back.clear_legacy_dedup_through_ms();
    back.clear_evicted_through_ms();
  }
  std::string diff;
  MessageDifferencer d;
  d.ReportDifferencesToString(&diff);
  EXPECT_TRUE(d.Compare(s, back)) << diff;
}

TEST(VisitorCodec, CompactFormatRoundTripsEveryField) {
  for (int events : {0, 1, 2, 17, 64}) {
    SCOPED_TRACE(events);
    ExpectRoundTrip(FullVisitor(events, static_cast<uint64_t>(events)), VisitorFormat::kCompact);
  }
}

TEST(VisitorCodec, ManyDistinctStringsAreInternedOnceEach) {
  v1::VisitorState s = FullVisitor(64, 11);
  for (int i = 0; i < 64; ++i) {
    s.mutable_events(i)->set_category("/c/" + std::to_string(i % 40));
    s.mutable_events(i)->set_product("P" + std::to_string(i % 3));
  }
  ExpectRoundTrip(s, VisitorFormat::kCompact);
  v1::StoredVisitor stored;
  const std::string bytes = EncodeVisitor(s);
  ASSERT_TRUE(stored.ParseFromString(bytes.substr(2)));
  EXPECT_EQ(stored.events().strings_size(), 40 + 3 + 1);  // categories, products, channel
}

TEST(VisitorCodec, TimesAnywhereInTheirRangeAndOutOfOrderRoundTrip) {
  v1::VisitorState s;
  for (int64_t t : {int64_t{-62'135'596'800'000}, int64_t{253'402'300'799'999}, int64_t{0},
                    int64_t{-5}, INT64_MIN, INT64_MAX}) {
    auto* e = s.add_events();
    e->set_event_key(static_cast<uint64_t>(t));
    e->set_time_ms(t);
    e->set_event_type(UINT32_MAX);
  }
  ExpectRoundTrip(s, VisitorFormat::kCompact);
}

TEST(VisitorCodec, CompactIsLessThanHalfTheLegacySizeWithAFullWindow) {
  v1::VisitorState s = FullVisitor(64, 7);
  std::string legacy;
  EncodeLegacyVisitor(s, &legacy);
  const std::string compact = EncodeVisitor(s);
  EXPECT_LT(compact.size() * 2, legacy.size()) << compact.size() << " vs " << legacy.size();
}

TEST(VisitorCodec, WhatDoesNotPackIsWrittenInTheLegacyFormat) {
  v1::VisitorState s = FullVisitor(3, 1);
  s.mutable_events(1)->set_device(static_cast<v1::Device>(99));  // beyond the 4 packed bits
  ExpectRoundTrip(s, VisitorFormat::kLegacy);
  v1::VisitorState many = FullVisitor(3, 1);
  for (int k = 0; k < 9; ++k) many.mutable_events(2)->add_query_term_hashes(k);
  ExpectRoundTrip(many, VisitorFormat::kLegacy);
}

TEST(VisitorCodec, LegacyBytesReadAsTheSameStateAndMarkTheLegacyDedupHorizon) {
  const v1::VisitorState s = FullVisitor(20, 3);
  std::string legacy;
  EncodeLegacyVisitor(s, &legacy);
  ASSERT_EQ(FormatOf(legacy), VisitorFormat::kLegacy);
  v1::VisitorState back;
  ASSERT_TRUE(DecodeVisitor(legacy, &back));
  EXPECT_EQ(back.legacy_dedup_through_ms(), s.last_event_ms());
  EXPECT_EQ(back.evicted_through_ms(), s.last_event_ms());
  back.clear_legacy_dedup_through_ms();
  back.clear_evicted_through_ms();
  EXPECT_TRUE(MessageDifferencer::Equals(s, back));
  // An empty legacy value is an empty visitor with nothing to look up.
  ASSERT_TRUE(DecodeVisitor("", &back));
  EXPECT_FALSE(back.has_legacy_dedup_through_ms());
}

TEST(VisitorCodec, CorruptBytesAreRejected) {
  const std::string bytes = EncodeVisitor(FullVisitor(10, 5));
  v1::VisitorState out;
  EXPECT_FALSE(DecodeVisitor(bytes.substr(0, bytes.size() / 2), &out));
  std::string unknown_version = bytes;
  unknown_version[1] = '\x02';
  EXPECT_FALSE(DecodeVisitor(unknown_version, &out));
  // Columns of different lengths.
  v1::StoredVisitor stored;
  stored.mutable_events()->add_event_key(1);
  EXPECT_FALSE(DecodeVisitor(std::string("\x00\x01", 2) + stored.SerializeAsString(), &out));
  // A string index past the table.
  v1::StoredVisitor bad_index;
  auto* ev = bad_index.mutable_events();
  ev->add_event_key(1);
  ev->add_time_delta_ms(1);
  ev->add_kind(0);
  ev->add_category(3);
  ev->add_product(0);
  ev->add_channel(0);
  ev->add_dwell_ms(0);
  EXPECT_FALSE(DecodeVisitor(std::string("\x00\x01", 2) + bad_index.SerializeAsString(), &out));
}

TEST(VisitorCodec, EncodingLeavesTheStateUnchanged) {
  v1::VisitorState s = FullVisitor(8, 9);
  const v1::VisitorState before = s;
  std::string out;
  EncodeVisitor(s, &out);
  EXPECT_TRUE(MessageDifferencer::Equals(before, s));
}

}  // namespace
}  // namespace intentstream::state
