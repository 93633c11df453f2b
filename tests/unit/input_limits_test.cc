// Every field of every input contract has a documented bound (proto comments, enforced
// by the decoder): strings by length, repeated fields by count, integers by range. Each
// case here is a field one past its bound, and must be rejected with a detail naming it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "ingest/decoder.h"
#include "ingest/session_event.h"
#include "support/events.h"

namespace intentstream::ingest {
namespace {

constexpr int64_t kNow = 1'750'000'000'000;  // processor clock in these tests

struct Case {
  std::string name;  // the field, as the detail names it
  TopicKind kind;
  std::function<std::string(size_t)> payload;  // the message with the field `n` bytes long
  std::string key;
  size_t limit;
};

std::string WebWith(const std::function<void(v1::WebEvent&, const std::string&)>& set, size_t n) {
  auto e = testing::Web("e1", "anon-1", kNow - 1000);
  set(e, std::string(n, 'w'));
  return e.SerializeAsString();
}

std::string AppWith(const std::function<void(v1::AppEvent&, const std::string&)>& set, size_t n) {
  auto e = testing::App("a1", "cust-1", kNow - 1000);
  set(e, std::string(n, 'a'));
  return e.SerializeAsString();
}

std::string ProfileWith(const std::function<void(v1::CustomerProfile&, const std::string&)>& set,
                        size_t n) {
  auto p = testing::Profile("cust-1", kNow - 1000);
  set(p, std::string(n, 'p'));
  return p.SerializeAsString();
}

v1::IdentityHandoff Handoff() {
  v1::IdentityHandoff h;
  h.set_handoff_id("l1");
  h.set_anonymous_id("anon-1");
  h.set_customer_id("cust-1");
  h.set_link_time_ms(kNow - 1000);
  auto* e = h.add_events();
  e->set_event_key(1);
  e->set_time_ms(kNow - 2000);
  e->set_source(v1::SOURCE_WEB);
  e->set_event_type(v1::WEB_EVENT_TYPE_PAGE_VIEW);
  e->set_category("/mortgages");
  e->set_product("MORTGAGE_FIXED_5Y");
  e->set_channel("organic");
  e->set_dwell_ms(1000);
  return h;
}

std::string HandoffWith(const std::function<void(v1::IdentityHandoff&, const std::string&)>& set,
                        size_t n) {
  auto h = Handoff();
  set(h, std::string(n, 'h'));
  return h.SerializeAsString();
}

std::vector<Case> StringCases() {
  using W = v1::WebEvent;
  using A = v1::AppEvent;
  using P = v1::CustomerProfile;
  using H = v1::IdentityHandoff;
  const auto web = [](auto set) { return [set](size_t n) { return WebWith(set, n); }; };
  const auto app = [](auto set) { return [set](size_t n) { return AppWith(set, n); }; };
  const auto profile = [](auto set) { return [set](size_t n) { return ProfileWith(set, n); }; };
  const auto handoff = [](auto set) { return [set](size_t n) { return HandoffWith(set, n); }; };
  const auto link = [](size_t n) {
    return testing::Link("l1", "anon-1", std::string(n, 'c'), kNow - 1000).SerializeAsString();
  };
  const std::string anon = "anon-1", cust = "cust-1";
  return {
      {"session_id", TopicKind::kWeb, web([](W& e, auto& v) { e.set_session_id(v); }), anon, 128},
      {"url_path", TopicKind::kWeb, web([](W& e, auto& v) { e.set_url_path("/" + v.substr(1)); }),
       anon, 2048},
      {"referrer", TopicKind::kWeb, web([](W& e, auto& v) { e.set_referrer(v); }), anon, 2048},
      {"page_title", TopicKind::kWeb, web([](W& e, auto& v) { e.set_page_title(v); }), anon, 2048},
      {"page_category", TopicKind::kWeb, web([](W& e, auto& v) { e.set_page_category(v); }), anon,
       256},
      {"search_query", TopicKind::kWeb, web([](W& e, auto& v) { e.set_search_query(v); }), anon,
       2048},
      {"channel", TopicKind::kWeb, web([](W& e, auto& v) { e.set_channel(v); }), anon, 256},
      {"utm_campaign", TopicKind::kWeb, web([](W& e, auto& v) { e.set_utm_campaign(v); }), anon,
       256},
      {"product_code", TopicKind::kWeb, web([](W& e, auto& v) { e.set_product_code(v); }), anon,
       128},
      {"device_id", TopicKind::kApp, app([](A& e, auto& v) { e.set_device_id(v); }), cust, 128},
      {"screen", TopicKind::kApp, app([](A& e, auto& v) { e.set_screen(v); }), cust, 256},
      {"tile_id", TopicKind::kApp, app([](A& e, auto& v) { e.set_tile_id(v); }), cust, 128},
      {"offer_id", TopicKind::kApp, app([](A& e, auto& v) { e.set_offer_id(v); }), cust, 128},
      {"search_query", TopicKind::kApp, app([](A& e, auto& v) { e.set_search_query(v); }), cust,
       2048},
      {"customer_id", TopicKind::kLink, link, anon, 128},
      {"products_held[1]", TopicKind::kProfile, profile([](P& p, auto& v) {
         p.add_products_held("CURRENT_ACCOUNT");
         p.add_products_held(v);
       }),
       cust, 128},
      {"opted_out_channels[0]", TopicKind::kProfile,
       profile([](P& p, auto& v) { p.add_opted_out_channels(v); }), cust, 256},
      {"monitoring.gender", TopicKind::kProfile,
       profile([](P& p, auto& v) { p.mutable_monitoring()->set_gender(v); }), cust, 256},
      {"events[0].category", TopicKind::kHandoff,
       handoff([](H& h, auto& v) { h.mutable_events(0)->set_category(v); }), cust, 2048},
      {"events[0].product", TopicKind::kHandoff,
       handoff([](H& h, auto& v) { h.mutable_events(0)->set_product(v); }), cust, 128},
      {"events[0].channel", TopicKind::kHandoff,
       handoff([](H& h, auto& v) { h.mutable_events(0)->set_channel(v); }), cust, 256},
  };
}

class InputLimitsTest : public ::testing::Test {
 protected:
  std::optional<Rejection> Decode(TopicKind kind, const std::string& payload,
                                  const std::string& key) {
    return decoder_.Decode(kind, payload, key, kNow, &out_);
  }
  void ExpectRejected(TopicKind kind, const std::string& payload, const std::string& key,
                      v1::DeadLetterReason reason, const std::string& detail) {
    const auto r = Decode(kind, payload, key);
    ASSERT_TRUE(r.has_value()) << "accepted, expected: " << detail;
    EXPECT_EQ(r->reason, reason) << r->detail;
    EXPECT_EQ(r->detail, detail);
  }

  Decoder decoder_{ValidationOptions{}};
  DecodedMessage out_;
};

TEST_F(InputLimitsTest, EveryStringFieldHasAMaximum) {
  for (const Case& c : StringCases()) {
    SCOPED_TRACE(c.name);
    EXPECT_FALSE(Decode(c.kind, c.payload(c.limit), c.key)) << "at the limit is accepted";
    ExpectRejected(c.kind, c.payload(c.limit + 1), c.key, v1::DEAD_LETTER_REASON_OVERSIZE,
                   c.name + " has " + std::to_string(c.limit + 1) + " bytes, limit " +
                       std::to_string(c.limit));
  }
}

TEST_F(InputLimitsTest, SixtyKilobyteCategoryIsOversize) {
  // 64 of these used to make a 4 MB visitor.
  auto e = testing::Web("e1", "anon-1", kNow - 1000);
  e.set_page_category(std::string(60'000, 'c'));
  ExpectRejected(TopicKind::kWeb, e.SerializeAsString(), "anon-1", v1::DEAD_LETTER_REASON_OVERSIZE,
                 "page_category has 60000 bytes, limit 256");
}

TEST_F(InputLimitsTest, RepeatedFieldsHaveAMaximumCount) {
  auto p = testing::Profile("cust-1", kNow - 1000);
  for (int i = 0; i < 64; ++i) p.add_products_held("P" + std::to_string(i));
  EXPECT_FALSE(Decode(TopicKind::kProfile, p.SerializeAsString(), "cust-1"));
  p.add_products_held("P64");
  ExpectRejected(TopicKind::kProfile, p.SerializeAsString(), "cust-1",
                 v1::DEAD_LETTER_REASON_OVERSIZE, "products_held has 65 items, limit 64");

  auto q = testing::Profile("cust-1", kNow - 1000);
  for (int i = 0; i < 65; ++i) q.add_opted_out_channels("push");
  ExpectRejected(TopicKind::kProfile, q.SerializeAsString(), "cust-1",
                 v1::DEAD_LETTER_REASON_OVERSIZE, "opted_out_channels has 65 items, limit 64");

  auto h = Handoff();
  v1::SessionEvent tiny;  // 13 bytes a piece: 4097 of them fit in the payload limit
  tiny.set_event_key(1);
  tiny.set_source(v1::SOURCE_WEB);
  while (h.events_size() < 4097) *h.add_events() = tiny;
  ExpectRejected(TopicKind::kHandoff, h.SerializeAsString(), "cust-1",
                 v1::DEAD_LETTER_REASON_OVERSIZE, "events has 4097 items, limit 4096");

  auto terms = Handoff();
  for (uint32_t i = 0; i < 5; ++i) terms.mutable_events(0)->add_query_term_hashes(i);
  ExpectRejected(TopicKind::kHandoff, terms.SerializeAsString(), "cust-1",
                 v1::DEAD_LETTER_REASON_OVERSIZE,
                 "events[0].query_term_hashes has 5 items, limit 4");
}

TEST_F(InputLimitsTest, EmptyListElementIsInvalid) {
  auto p = testing::Profile("cust-1", kNow - 1000);
  p.add_products_held("CURRENT_ACCOUNT");
  p.add_products_held("");
  ExpectRejected(TopicKind::kProfile, p.SerializeAsString(), "cust-1",
                 v1::DEAD_LETTER_REASON_INVALID_FIELD, "products_held[1] is empty");
}

TEST_F(InputLimitsTest, IdsWithControlCharactersAreInvalid) {
  auto e = testing::Web("e1", "anon-1", kNow - 1000);
  e.set_session_id("s\n1");
  ExpectRejected(TopicKind::kWeb, e.SerializeAsString(), "anon-1",
                 v1::DEAD_LETTER_REASON_INVALID_FIELD, "session_id contains a control character");
}

// --- Integers: every conversion of an input integer is range-checked.

TEST_F(InputLimitsTest, TimestampSecondsOutsideTheProtobufRangeAreRejected) {
  auto e = testing::Web("e1", "anon-1", kNow);
  e.mutable_event_time()->set_seconds(std::numeric_limits<int64_t>::min());
  ExpectRejected(TopicKind::kWeb, e.SerializeAsString(), "anon-1",
                 v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP,
                 "event_time seconds -9223372036854775808 outside the Timestamp range "
                 "[-62135596800, 253402300799]");
  e.mutable_event_time()->set_seconds(std::numeric_limits<int64_t>::max());
  ExpectRejected(TopicKind::kWeb, e.SerializeAsString(), "anon-1",
                 v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP,
                 "event_time seconds 9223372036854775807 outside the Timestamp range "
                 "[-62135596800, 253402300799]");
  // Year 9999, the last valid second: a timestamp, but far in the future.
  e.mutable_event_time()->set_seconds(253402300799);
  const auto r = Decode(TopicKind::kWeb, e.SerializeAsString(), "anon-1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP);
  EXPECT_THAT(r->detail, ::testing::EndsWith("s in the future"));
}

TEST_F(InputLimitsTest, YearSeventyThreeBillionDoesNotWrapToAnHourAgo) {
  // seconds * 1000 wraps modulo 2^64 to exactly one hour before kNow.
  const int64_t wraps_to_an_hour_ago = 2305843010963690352;
  auto app = testing::App("a1", "cust-1", kNow);
  app.mutable_event_time()->set_seconds(wraps_to_an_hour_ago);
  app.mutable_event_time()->set_nanos(0);
  ExpectRejected(TopicKind::kApp, app.SerializeAsString(), "cust-1",
                 v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP,
                 "event_time seconds 2305843010963690352 outside the Timestamp range "
                 "[-62135596800, 253402300799]");
  auto p = testing::Profile("cust-1", kNow);
  p.mutable_updated_time()->set_seconds(wraps_to_an_hour_ago);
  ExpectRejected(TopicKind::kProfile, p.SerializeAsString(), "cust-1",
                 v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP,
                 "updated_time seconds 2305843010963690352 outside the Timestamp range "
                 "[-62135596800, 253402300799]");
}

TEST_F(InputLimitsTest, TimestampNanosOutsideTheRangeAreRejected) {
  auto link = testing::Link("l1", "anon-1", "cust-1", kNow - 1000);
  link.mutable_event_time()->set_nanos(1'000'000'000);
  ExpectRejected(TopicKind::kLink, link.SerializeAsString(), "anon-1",
                 v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP,
                 "event_time nanos 1000000000 outside [0, 999999999]");
  link.mutable_event_time()->set_nanos(std::numeric_limits<int32_t>::min());
  ExpectRejected(TopicKind::kLink, link.SerializeAsString(), "anon-1",
                 v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP,
                 "event_time nanos -2147483648 outside [0, 999999999]");
}

TEST_F(InputLimitsTest, NegativeDwellInBinaryIsInvalidNotFourBillion) {
  // A producer writing dwell_ms = -5 as an int32 varint (ten bytes, sign-extended); a
  // uint32 field reads it as 4294967291.
  std::string bytes = testing::Web("e1", "anon-1", kNow - 1000).SerializeAsString();
  bytes += std::string("\x58\xfb\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
  ExpectRejected(TopicKind::kWeb, bytes, "anon-1", v1::DEAD_LETTER_REASON_INVALID_FIELD,
                 "dwell_ms 4294967291 above the limit 86400000");
  auto app = testing::App("a1", "cust-1", kNow - 1000);
  app.set_dwell_ms(86'400'000);
  EXPECT_FALSE(Decode(TopicKind::kApp, app.SerializeAsString(), "cust-1")) << "24 h is allowed";
  app.set_dwell_ms(86'400'001);
  ExpectRejected(TopicKind::kApp, app.SerializeAsString(), "cust-1",
                 v1::DEAD_LETTER_REASON_INVALID_FIELD,
                 "dwell_ms 86400001 above the limit 86400000");
}

TEST_F(InputLimitsTest, ProfileIntegersAreRangeChecked) {
  auto p = testing::Profile("cust-1", kNow - 1000);
  p.set_tenure_months(1200);
  EXPECT_FALSE(Decode(TopicKind::kProfile, p.SerializeAsString(), "cust-1"));
  p.set_tenure_months(static_cast<uint32_t>(-5));
  ExpectRejected(TopicKind::kProfile, p.SerializeAsString(), "cust-1",
                 v1::DEAD_LETTER_REASON_INVALID_FIELD,
                 "tenure_months 4294967291 above the limit 1200");
  p.set_tenure_months(12);
  p.set_credit_grade(static_cast<uint32_t>(-1));
  ExpectRejected(TopicKind::kProfile, p.SerializeAsString(), "cust-1",
                 v1::DEAD_LETTER_REASON_INVALID_FIELD, "credit_grade 4294967295 outside 0..10");
}

TEST_F(InputLimitsTest, HandoffIntegersAreRangeChecked) {
  auto h = Handoff();
  h.set_link_time_ms(std::numeric_limits<int64_t>::min());
  ExpectRejected(TopicKind::kHandoff, h.SerializeAsString(), "cust-1",
                 v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP,
                 "link_time_ms -9223372036854775808 outside the Timestamp range "
                 "[-62135596800000, 253402300799999]");
  h = Handoff();
  h.mutable_events(0)->set_time_ms(std::numeric_limits<int64_t>::max());
  ExpectRejected(TopicKind::kHandoff, h.SerializeAsString(), "cust-1",
                 v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP,
                 "events[0].time_ms 9223372036854775807 outside the Timestamp range "
                 "[-62135596800000, 253402300799999]");
  h = Handoff();
  h.mutable_events(0)->set_dwell_ms(4294967291u);
  ExpectRejected(TopicKind::kHandoff, h.SerializeAsString(), "cust-1",
                 v1::DEAD_LETTER_REASON_INVALID_FIELD,
                 "events[0].dwell_ms 4294967291 above the limit 86400000");
  h = Handoff();
  h.mutable_events(0)->set_source(static_cast<v1::Source>(7));
  ExpectRejected(TopicKind::kHandoff, h.SerializeAsString(), "cust-1",
                 v1::DEAD_LETTER_REASON_UNKNOWN_ENUM, "events[0].source has unknown value 7");
  h = Handoff();
  h.mutable_events(0)->set_event_type(99);
  ExpectRejected(TopicKind::kHandoff, h.SerializeAsString(), "cust-1",
                 v1::DEAD_LETTER_REASON_UNKNOWN_ENUM, "events[0].event_type has unknown value 99");
  h = Handoff();
  h.mutable_events(0)->set_device(static_cast<v1::Device>(-3));
  ExpectRejected(TopicKind::kHandoff, h.SerializeAsString(), "cust-1",
                 v1::DEAD_LETTER_REASON_UNKNOWN_ENUM, "events[0].device has unknown value -3");
  EXPECT_FALSE(Decode(TopicKind::kHandoff, Handoff().SerializeAsString(), "cust-1"));
}

TEST_F(InputLimitsTest, LimitsAreConfigurable) {
  ValidationOptions opts;
  opts.max_label_bytes = 8;
  opts.max_list_items = 1;
  opts.max_dwell_ms = 10;
  const Decoder strict(opts);
  auto e = testing::Web("e1", "anon-1", kNow - 1000);
  e.set_channel("paid_search");
  auto r = strict.Decode(TopicKind::kWeb, e.SerializeAsString(), "anon-1", kNow, &out_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->detail, "channel has 11 bytes, limit 8");
  e.set_channel("email");
  e.set_dwell_ms(11);
  r = strict.Decode(TopicKind::kWeb, e.SerializeAsString(), "anon-1", kNow, &out_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->detail, "dwell_ms 11 above the limit 10");
  auto p = testing::Profile("cust-1", kNow - 1000);
  p.add_products_held("A");
  p.add_products_held("B");
  r = strict.Decode(TopicKind::kProfile, p.SerializeAsString(), "cust-1", kNow, &out_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->detail, "products_held has 2 items, limit 1");
}

// --- Whatever fields the contracts gain: a field without a bound fails here.

struct FieldStep {
  const google::protobuf::FieldDescriptor* field;
  int index;  // element of a repeated message field, -1 for a singular one
};
using FieldPath = std::vector<FieldStep>;

// "events[0].category", "monitoring.gender"; a Timestamp's seconds and nanos are named
// by the Timestamp field ("event_time seconds ...").
std::string DetailPrefix(const FieldPath& path) {
  std::string out;
  for (const auto& step : path) {
    if (step.field->containing_type()->full_name() == "google.protobuf.Timestamp") break;
    if (!out.empty()) out += ".";
    out += step.field->name();
    if (step.index >= 0) out += "[" + std::to_string(step.index) + "]";
  }
  return out;
}

// Calls `fn` with the path of every scalar field under `d`, recursing into singular
// message fields and the first element of repeated ones.
void ForEachScalarField(const google::protobuf::Descriptor* d, FieldPath path,
                        const std::function<void(const FieldPath&)>& fn) {
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    FieldPath next = path;
    if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      next.push_back({f, f->is_repeated() ? 0 : -1});
      ForEachScalarField(f->message_type(), next, fn);
    } else {
      next.push_back({f, -1});
      fn(next);
    }
  }
}

// The message holding the last field of `path`, inside `root`.
google::protobuf::Message* Container(google::protobuf::Message* root, const FieldPath& path) {
  google::protobuf::Message* m = root;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    const auto* r = m->GetReflection();
    m = path[i].index >= 0 ? r->MutableRepeatedMessage(m, path[i].field, path[i].index)
                           : r->MutableMessage(m, path[i].field);
  }
  return m;
}

// Sets the field at the end of `path` to a value past any bound; false for fields that
// carry no bound by design (hashes, counters, flags).
bool SetPastTheBound(google::protobuf::Message* root, const FieldPath& path, size_t text_bytes,
                     bool minimum) {
  using FD = google::protobuf::FieldDescriptor;
  google::protobuf::Message* m = Container(root, path);
  const auto* f = path.back().field;
  const auto* r = m->GetReflection();
  const std::string unbounded[] = {"intentstream.v1.IdentityHandoff.web_events_total",
                                   "intentstream.v1.SessionEvent.event_key",
                                   "intentstream.v1.SessionEvent.query_term_hashes"};
  for (const auto& name : unbounded) {
    if (f->full_name() == name) return false;
  }
  switch (f->cpp_type()) {
    case FD::CPPTYPE_STRING: {
      const std::string big(text_bytes + 1, 'x');
      f->is_repeated() ? r->AddString(m, f, big) : r->SetString(m, f, big);
      return !minimum;
    }
    case FD::CPPTYPE_ENUM:
      if (f->is_repeated()) return false;
      r->SetEnumValue(m, f, minimum ? -7 : 999);
      return true;
    case FD::CPPTYPE_INT32:
      r->SetInt32(
          m, f,
          minimum ? std::numeric_limits<int32_t>::min() : std::numeric_limits<int32_t>::max());
      return true;
    case FD::CPPTYPE_INT64:
      r->SetInt64(
          m, f,
          minimum ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max());
      return true;
    case FD::CPPTYPE_UINT32:
      if (f->is_repeated() || minimum) return false;
      r->SetUInt32(m, f, std::numeric_limits<uint32_t>::max());
      return true;
    case FD::CPPTYPE_UINT64:
      if (f->is_repeated() || minimum) return false;
      r->SetUInt64(m, f, std::numeric_limits<uint64_t>::max());
      return true;
    default:  // bool (a flag), message (recursed into)
      return false;
  }
}

TEST_F(InputLimitsTest, EveryScalarFieldOfEveryContractIsBounded) {
  auto app = testing::App("a1", "cust-1", kNow - 1000, v1::APP_ACTION_TILE_CLICK, "OFFER_X");
  auto profile = testing::Profile("cust-1", kNow - 1000);
  profile.add_products_held("CURRENT_ACCOUNT");
  profile.add_opted_out_channels("email");
  profile.mutable_monitoring()->set_gender("f");
  const std::tuple<TopicKind, std::string, const google::protobuf::Message*> contracts[] = {
      {TopicKind::kWeb, "anon-1", new v1::WebEvent(testing::Web("e1", "anon-1", kNow - 1000))},
      {TopicKind::kApp, "cust-1", new v1::AppEvent(app)},
      {TopicKind::kLink, "anon-1",
       new v1::IdentityLink(testing::Link("l1", "anon-1", "cust-1", kNow - 1000))},
      {TopicKind::kProfile, "cust-1", new v1::CustomerProfile(profile)},
      {TopicKind::kHandoff, "cust-1", new v1::IdentityHandoff(Handoff())},
  };
  int checked = 0;
  for (const auto& [kind, key, base] : contracts) {
    std::unique_ptr<const google::protobuf::Message> owned(base);
    ASSERT_FALSE(Decode(kind, base->SerializeAsString(), key)) << base->GetTypeName();
    ForEachScalarField(base->GetDescriptor(), {}, [&](const FieldPath& path) {
      for (const bool minimum : {false, true}) {
        std::unique_ptr<google::protobuf::Message> m(base->New());
        m->CopyFrom(*base);
        if (!SetPastTheBound(m.get(), path, ValidationOptions{}.max_text_bytes, minimum)) continue;
        SCOPED_TRACE(path.back().field->full_name() + (minimum ? " (minimum)" : " (maximum)"));
        ++checked;
        // The keyed id is compared with the key before its size is checked.
        const std::string& name = path.back().field->name();
        const bool keyed =
            (name == "anonymous_id" && (kind == TopicKind::kWeb || kind == TopicKind::kLink)) ||
            (name == "customer_id" && kind != TopicKind::kWeb && kind != TopicKind::kLink &&
             path.size() == 1);
        const auto r = Decode(kind, m->SerializeAsString(), keyed ? std::string(2049, 'x') : key);
        ASSERT_TRUE(r.has_value()) << "accepted past any bound";
        EXPECT_THAT(r->detail, ::testing::StartsWith(DetailPrefix(path)));
        EXPECT_NE(r->reason, v1::DEAD_LETTER_REASON_KEY_MISMATCH) << r->detail;
      }
    });
  }
  EXPECT_GT(checked, 60);
}

TEST(CategoryFromPath, IsCappedAtACharacterBoundary) {
  // A category derived from a 2 KB path stays a label's size, and valid UTF-8.
  EXPECT_EQ(CategoryFromPath("/" + std::string(2047, 'x')).size(), kMaxPathCategoryBytes);
  const std::string path = "/" + std::string(254, 'x') + "\xc3\xa9" + "tail";  // 'é' at 255
  EXPECT_EQ(CategoryFromPath(path), "/" + std::string(254, 'x'));
}

TEST(TimestampToMillis, SaturatesInsteadOfOverflowing) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(std::numeric_limits<int64_t>::min());
  EXPECT_EQ(TimestampToMillis(ts), kMinTimestampMillis);
  ts.set_seconds(std::numeric_limits<int64_t>::max());
  ts.set_nanos(std::numeric_limits<int32_t>::max());
  EXPECT_EQ(TimestampToMillis(ts), kMaxTimestampMillis);
  ts.set_seconds(1'750'000'000);
  ts.set_nanos(123'456'789);
  EXPECT_EQ(TimestampToMillis(ts), 1'750'000'000'123);
  ts.set_nanos(-5);
  EXPECT_EQ(TimestampToMillis(ts), 1'750'000'000'000) << "nanos clamp to [0, 999999999]";
}

}  // namespace
}  // namespace intentstream::ingest
