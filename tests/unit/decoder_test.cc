#include "ingest/decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ingest/wire_format_check.h"
#include "support/events.h"

namespace intentstream::ingest {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int64_t kNow = 1'750'000'000'000;  // processor clock in these tests

class DecoderTest : public ::testing::Test {
 protected:
  // `key`: the Kafka message key; a message the test doesn't get that far with passes "-".
  std::optional<Rejection> Decode(TopicKind kind, const std::string& payload,
                                  const std::string& key) {
    return decoder_.Decode(kind, payload, key, kNow, &out_);
  }
  void ExpectRejected(TopicKind kind, const std::string& payload, v1::DeadLetterReason reason,
                      const std::string& detail, const std::string& key = "-") {
    const auto r = Decode(kind, payload, key);
    ASSERT_TRUE(r.has_value()) << "accepted: " << payload.substr(0, 80);
    EXPECT_EQ(r->reason, reason) << r->detail;
    EXPECT_EQ(r->detail, detail);
  }

  Decoder decoder_{ValidationOptions{}};
  DecodedMessage out_;
};

TEST_F(DecoderTest, AcceptsBinaryProtobuf) {
  const auto web = testing::Web("e1", "anon-1", kNow - 1000);
  ASSERT_FALSE(Decode(TopicKind::kWeb, web.SerializeAsString(), "anon-1"));
  EXPECT_EQ(out_.web.event_id(), "e1");
  EXPECT_EQ(out_.web.url_path(), "/credit-cards/travel-rewards");
}

TEST_F(DecoderTest, AcceptsProtobufJsonWithEitherFieldNames) {
  const std::string camel =
      R"({"eventId":"e2","anonymousId":"anon-2","eventTime":"2025-06-15T15:06:40Z",)"
      R"("eventType":"WEB_EVENT_TYPE_SEARCH","searchQuery":"travel card"})";
  ASSERT_FALSE(Decode(TopicKind::kWeb, camel, "anon-2"));
  EXPECT_EQ(out_.web.search_query(), "travel card");
  const std::string snake =
      R"(  {"event_id":"e3","customer_id":"c-1","event_time":"2025-06-15T15:06:40Z",)"
      R"("action":"APP_ACTION_TILE_CLICK","offer_id":"CC_TRAVEL"})";
  ASSERT_FALSE(Decode(TopicKind::kApp, snake, "c-1"));
  EXPECT_EQ(out_.app.offer_id(), "CC_TRAVEL");
}

TEST_F(DecoderTest, TruncatedBinaryIsNamed) {
  std::string bytes = testing::Web("e1", "anon-1", kNow).SerializeAsString();
  bytes.resize(bytes.size() - 2);  // inside the last string field
  const auto r = Decode(TopicKind::kWeb, bytes, "anon-1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, v1::DEAD_LETTER_REASON_TRUNCATED);
  EXPECT_THAT(r->detail, StartsWith("binary protobuf ends in the middle of a field"));
}

TEST_F(DecoderTest, NonProtobufBytesAreUndecodable) {
  ExpectRejected(TopicKind::kWeb, std::string("\x07garbage", 8), v1::DEAD_LETTER_REASON_UNDECODABLE,
                 "neither JSON nor valid binary protobuf for intentstream.v1.WebEvent");
  ExpectRejected(TopicKind::kWeb, "", v1::DEAD_LETTER_REASON_UNDECODABLE, "empty payload");
}

TEST_F(DecoderTest, InvalidJsonIsNamed) {
  const auto r = Decode(TopicKind::kWeb, R"({"eventId": )", "-");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, v1::DEAD_LETTER_REASON_INVALID_JSON);
  EXPECT_THAT(r->detail, StartsWith("JSON: "));
}

TEST_F(DecoderTest, JsonWithUnknownFieldIsRejected) {
  const auto r = Decode(TopicKind::kWeb, R"({"eventId":"e1","colour":"red"})", "-");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, v1::DEAD_LETTER_REASON_INVALID_JSON);
  EXPECT_THAT(r->detail, HasSubstr("colour"));
}

TEST_F(DecoderTest, UnknownEnumInJsonAndBinary) {
  const auto r =
      Decode(TopicKind::kWeb,
             R"({"eventId":"e1","anonymousId":"a","eventType":"WEB_EVENT_TYPE_TELEPORT"})", "a");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, v1::DEAD_LETTER_REASON_UNKNOWN_ENUM) << r->detail;
  EXPECT_THAT(r->detail, HasSubstr("WEB_EVENT_TYPE_TELEPORT"));

  auto web = testing::Web("e1", "anon-1", kNow);
  web.set_event_type(static_cast<v1::WebEventType>(42));  // proto3 keeps unknown values
  ExpectRejected(TopicKind::kWeb, web.SerializeAsString(), v1::DEAD_LETTER_REASON_UNKNOWN_ENUM,
                 "event_type has unknown value 42", "anon-1");
}

TEST_F(DecoderTest, MissingIdsAreNamed) {
  ExpectRejected(TopicKind::kWeb, testing::Web("", "anon-1", kNow).SerializeAsString(),
                 v1::DEAD_LETTER_REASON_MISSING_FIELD, "event_id is empty");
  ExpectRejected(TopicKind::kWeb, testing::Web("e1", "", kNow).SerializeAsString(),
                 v1::DEAD_LETTER_REASON_MISSING_FIELD, "anonymous_id is empty");
  ExpectRejected(TopicKind::kApp, testing::App("e1", "", kNow).SerializeAsString(),
                 v1::DEAD_LETTER_REASON_MISSING_FIELD, "customer_id is empty");
  ExpectRejected(TopicKind::kLink, testing::Link("l1", "anon", "", kNow).SerializeAsString(),
                 v1::DEAD_LETTER_REASON_MISSING_FIELD, "customer_id is empty");
  auto web = testing::Web("e1", "anon-1", kNow);
  web.set_event_type(v1::WEB_EVENT_TYPE_UNSPECIFIED);
  ExpectRejected(TopicKind::kWeb, web.SerializeAsString(), v1::DEAD_LETTER_REASON_MISSING_FIELD,
                 "event_type is missing", "anon-1");
  ExpectRejected(TopicKind::kApp,
                 testing::App("e1", "c", kNow, v1::APP_ACTION_TILE_CLICK, "").SerializeAsString(),
                 v1::DEAD_LETTER_REASON_MISSING_FIELD, "offer_id is empty for a tile action", "c");
}

TEST_F(DecoderTest, AbsurdTimestampsAreRejected) {
  auto web = testing::Web("e1", "anon-1", kNow);
  web.clear_event_time();
  ExpectRejected(TopicKind::kWeb, web.SerializeAsString(), v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP,
                 "event_time is missing", "anon-1");
  ExpectRejected(TopicKind::kWeb, testing::Web("e1", "a", kNow + 7'200'000).SerializeAsString(),
                 v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP, "event_time is 7200 s in the future",
                 "a");
  ExpectRejected(TopicKind::kWeb, testing::Web("e1", "a", 0).SerializeAsString(),
                 v1::DEAD_LETTER_REASON_INVALID_TIMESTAMP,
                 "event_time is older than the allowed event age", "a");
}

TEST_F(DecoderTest, OversizeIsRejected) {
  ExpectRejected(TopicKind::kWeb, std::string(70000, 'x'), v1::DEAD_LETTER_REASON_OVERSIZE,
                 "payload has 70000 bytes, limit 65536");
  ExpectRejected(TopicKind::kWeb,
                 testing::Web(std::string(200, 'e'), "a", kNow).SerializeAsString(),
                 v1::DEAD_LETTER_REASON_OVERSIZE, "event_id has 200 bytes, limit 128");
  auto web = testing::Web("e1", "a", kNow);
  web.set_url_path("/" + std::string(3000, 'p'));
  ExpectRejected(TopicKind::kWeb, web.SerializeAsString(), v1::DEAD_LETTER_REASON_OVERSIZE,
                 "url_path has 3001 bytes, limit 2048", "a");
}

TEST_F(DecoderTest, KeyMustMatchTheKeyedId) {
  ExpectRejected(TopicKind::kWeb, testing::Web("e1", "anon-1", kNow).SerializeAsString(),
                 v1::DEAD_LETTER_REASON_KEY_MISMATCH,
                 "message key 'anon-2' differs from anonymous_id 'anon-1'", "anon-2");
}

TEST_F(DecoderTest, OutOfRangeAndNonUtf8FieldsAreInvalid) {
  auto p = testing::Profile("c-1", kNow);
  p.set_credit_grade(11);
  ExpectRejected(TopicKind::kProfile, p.SerializeAsString(), v1::DEAD_LETTER_REASON_INVALID_FIELD,
                 "credit_grade 11 outside 0..10", "c-1");
  // Field 2 (anonymous_id, a string) holding bytes that are not UTF-8.
  const std::string bad_utf8 = std::string(
      "\x0a\x02"
      "e1"
      "\x12\x02\xff\xfe",
      8);
  const auto r = Decode(TopicKind::kWeb, bad_utf8, "-");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, v1::DEAD_LETTER_REASON_INVALID_FIELD);
}

TEST_F(DecoderTest, EmptyKeyIsMissingForEveryTopicKind) {
  v1::IdentityHandoff handoff;
  handoff.set_handoff_id("l1");
  handoff.set_anonymous_id("anon-1");
  handoff.set_customer_id("c-1");
  handoff.set_link_time_ms(kNow);
  const std::pair<TopicKind, std::string> good[] = {
      {TopicKind::kWeb, testing::Web("e1", "anon-1", kNow).SerializeAsString()},
      {TopicKind::kApp, testing::App("a1", "c-1", kNow).SerializeAsString()},
      {TopicKind::kLink, testing::Link("l1", "anon-1", "c-1", kNow).SerializeAsString()},
      {TopicKind::kProfile, testing::Profile("c-1", kNow).SerializeAsString()},
      {TopicKind::kHandoff, handoff.SerializeAsString()},
  };
  for (const auto& [kind, payload] : good) {
    SCOPED_TRACE(std::string(TopicKindName(kind)));
    ExpectRejected(kind, payload, v1::DEAD_LETTER_REASON_MISSING_FIELD, "message key is empty", "");
  }
  // JSON too, and the id the key would carry is still named first when it is missing.
  ExpectRejected(TopicKind::kWeb,
                 R"({"eventId":"e2","anonymousId":"anon-2","eventTime":"2025-06-15T15:06:40Z",)"
                 R"("eventType":"WEB_EVENT_TYPE_SEARCH"})",
                 v1::DEAD_LETTER_REASON_MISSING_FIELD, "message key is empty", "");
  ExpectRejected(TopicKind::kWeb, testing::Web("e1", "", kNow).SerializeAsString(),
                 v1::DEAD_LETTER_REASON_MISSING_FIELD, "anonymous_id is empty", "");
}

TEST_F(DecoderTest, JsonValuesThatAreNotObjectsAreInvalidJson) {
  for (const std::string payload :
       {"[1,2,3]", " \n[1,2,3]", "[]", "\"a string\"", "123", "-5", "true", "false", "null"}) {
    SCOPED_TRACE(payload);
    const auto r = Decode(TopicKind::kWeb, payload, "-");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->reason, v1::DEAD_LETTER_REASON_INVALID_JSON) << r->detail;
    EXPECT_THAT(r->detail, StartsWith("JSON: "));
  }
  // Not JSON and not protobuf: a quote or a digit that starts nothing valid.
  ExpectRejected(TopicKind::kWeb, "\"unterminated", v1::DEAD_LETTER_REASON_TRUNCATED,
                 "binary protobuf ends in the middle of a field (13 bytes)");
}

TEST_F(DecoderTest, BinaryWhoseFirstLengthByteIsABraceIsBinary) {
  // Field 1's tag is 0x0a (a JSON blank) and a 123-byte id's length is 0x7b ('{'); 91
  // bytes is 0x5b ('['): binary events that look like JSON after the blank.
  for (const size_t n : {size_t{123}, size_t{91}}) {
    SCOPED_TRACE(n);
    const std::string id(n, 'e');
    ASSERT_FALSE(
        Decode(TopicKind::kWeb, testing::Web(id, "anon-1", kNow).SerializeAsString(), "anon-1"));
    EXPECT_EQ(out_.web.event_id(), id);
  }
  // And JSON after blanks is still JSON.
  ASSERT_FALSE(Decode(TopicKind::kLink,
                      "\n\t {\"eventId\":\"l1\",\"anonymousId\":\"anon-1\",\"customerId\":\"c-1\","
                      "\"eventTime\":\"2025-06-15T15:06:40Z\"}",
                      "anon-1"));
  EXPECT_EQ(out_.link.customer_id(), "c-1");
}

TEST_F(DecoderTest, KeyMismatchDetailIsValidUtf8) {
  // A key that is not UTF-8, and an id cut where the detail quotes 64 bytes of it.
  ExpectRejected(TopicKind::kWeb, testing::Web("e1", "anon-1", kNow).SerializeAsString(),
                 v1::DEAD_LETTER_REASON_KEY_MISMATCH,
                 "message key 'anon-\\xff\\xfe' differs from anonymous_id 'anon-1'",
                 "anon-\xff\xfe");
  const std::string id = std::string(63, 'a') + "\xc3\xa9";  // 63 bytes, then a 2-byte 'é'
  const auto r = Decode(TopicKind::kWeb, testing::Web("e1", id, kNow).SerializeAsString(), "k");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->detail,
            "message key 'k' differs from anonymous_id '" + std::string(61, 'a') + "...'");
}

TEST(WireFormatCheck, ClassifiesFailures) {
  EXPECT_EQ(CheckWireFormat(std::string("\x0a\x03"
                                        "abc",
                                        5)),
            WireFormatVerdict::kWellFormed);
  EXPECT_EQ(CheckWireFormat(std::string("\x0a\x05"
                                        "abc",
                                        5)),
            WireFormatVerdict::kTruncated);
  EXPECT_EQ(CheckWireFormat(std::string("\x08\xff", 2)), WireFormatVerdict::kTruncated);
  EXPECT_EQ(CheckWireFormat(std::string("\x0f", 1)), WireFormatVerdict::kMalformed);
  EXPECT_EQ(CheckWireFormat(std::string("\x00\x01", 2)), WireFormatVerdict::kMalformed);
}

}  // namespace
}  // namespace intentstream::ingest
