// A dead letter is always small enough to produce and always valid protobuf: the payload
// and key copies are capped (with the original size and a SHA-256 of the whole payload),
// and every text that reaches `detail` is valid UTF-8.
#include "ingest/dead_letter.h"

#include "ingest/printable.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/batch_processor.h"
#include "support/events.h"
#include "support/temp_dir.h"
#include "support/wait.h"

namespace intentstream::ingest {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int64_t kNow = 1'750'000'000'000;
constexpr size_t kMiB = 1024 * 1024;

v1::DeadLetter RoundTrip(const v1::DeadLetter& dl) {
  v1::DeadLetter back;
  EXPECT_TRUE(back.ParseFromString(dl.SerializeAsString())) << "not valid protobuf";
  return back;
}

TEST(DeadLetter, OneMegabytePayloadIsCappedWithItsSizeAndDigest) {
  const std::string payload(kMiB, 'A');
  const std::string key(kMiB, 'k');
  const ValidationOptions options;
  const Rejection rejection{v1::DEAD_LETTER_REASON_OVERSIZE, "payload has 1048576 bytes"};
  const auto dl = RoundTrip(MakeDeadLetter({"web-events", Partition{3}, Offset{42}}, payload, key,
                                           rejection, kNow, "0.1.0", options));

  // Under the documented bound, which is the caps plus a small constant.
  const size_t size = dl.SerializeAsString().size();
  EXPECT_LE(size, MaxDeadLetterBytes(options));
  EXPECT_LE(MaxDeadLetterBytes(options), 16 * 1024 + 1024 + 4096);
  EXPECT_EQ(options.max_dead_letter_payload_bytes, 16u * 1024);

  EXPECT_TRUE(dl.payload_truncated());
  EXPECT_EQ(dl.original_size_bytes(), kMiB);
  EXPECT_EQ(dl.original_payload(), payload.substr(0, 16 * 1024)) << "the first 16 KiB";
  EXPECT_EQ(dl.payload_sha256(), "4e29ad18ab9f42d7c233500771a39d7c852b200baf328fd00fbbe3fecea1eb56")
      << "SHA-256 of the whole original payload";
  EXPECT_TRUE(dl.key_truncated());
  EXPECT_EQ(dl.original_key_size_bytes(), kMiB);
  EXPECT_EQ(dl.original_key(), key.substr(0, options.max_dead_letter_key_bytes));
  EXPECT_EQ(dl.source_topic(), "web-events");
  EXPECT_EQ(dl.source_partition(), 3);
  EXPECT_EQ(dl.source_offset(), 42);
  EXPECT_EQ(dl.reason(), v1::DEAD_LETTER_REASON_OVERSIZE);
}

TEST(DeadLetter, SmallPayloadIsKeptWhole) {
  const auto dl = RoundTrip(MakeDeadLetter({"app-events", Partition{0}, Offset{7}}, "abc", "c-1",
                                           {v1::DEAD_LETTER_REASON_UNDECODABLE, "x"}, kNow, "v",
                                           ValidationOptions{}));
  EXPECT_FALSE(dl.payload_truncated());
  EXPECT_FALSE(dl.key_truncated());
  EXPECT_EQ(dl.original_payload(), "abc");
  EXPECT_EQ(dl.original_key(), "c-1");
  EXPECT_EQ(dl.original_size_bytes(), 3u);
  EXPECT_EQ(dl.original_key_size_bytes(), 3u);
  EXPECT_EQ(dl.payload_sha256(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DeadLetter, CapIsConfigurable) {
  ValidationOptions options;
  options.max_dead_letter_payload_bytes = 10;
  options.max_dead_letter_key_bytes = 2;
  const auto dl = MakeDeadLetter({"web-events", Partition{0}, Offset{0}}, "0123456789abc", "key",
                                 {v1::DEAD_LETTER_REASON_OVERSIZE, "x"}, kNow, "v", options);
  EXPECT_EQ(dl.original_payload(), "0123456789");
  EXPECT_TRUE(dl.payload_truncated());
  EXPECT_EQ(dl.original_key(), "ke");
  EXPECT_EQ(dl.original_size_bytes(), 13u);
}

TEST(DeadLetter, DetailOfNonUtf8JsonIsValidUtf8) {
  // JSON whose string holds bytes that are not UTF-8: the parser's message quotes them.
  const std::string payload = "{\"eventId\":\"e\xff\xfe\x80\",\"anonymousId\":\"a\"}";
  const Decoder decoder{ValidationOptions{}};
  DecodedMessage out;
  const auto r = decoder.Decode(TopicKind::kWeb, payload, "a", kNow, &out);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, v1::DEAD_LETTER_REASON_INVALID_JSON) << r->detail;
  const auto dl = RoundTrip(
      MakeDeadLetter({"web-events", Partition{0}, Offset{1}}, payload, "a", *r, kNow, "v"));
  EXPECT_THAT(dl.detail(), StartsWith("JSON: "));
  EXPECT_EQ(dl.original_payload(), payload) << "the bytes themselves are kept as they were";
}

TEST(DeadLetter, DetailIsEscapedAndCapped) {
  const Rejection raw{v1::DEAD_LETTER_REASON_INVALID_JSON,
                      "bad \xff byte, a tab\t, " + std::string(5000, 'x')};
  const auto dl = RoundTrip(MakeDeadLetter({"web-events", Partition{0}, Offset{1}}, "{", "a", raw,
                                           kNow, "v", ValidationOptions{}));
  EXPECT_THAT(dl.detail(), StartsWith("bad \\xff byte, a tab\\x09, xxx"));
  EXPECT_LE(dl.detail().size(), kMaxDeadLetterDetailBytes);
  EXPECT_THAT(dl.detail(), ::testing::EndsWith("..."));
}

TEST(DeadLetter, UnknownJsonFieldOfSixtyKilobytesGivesASmallDetail) {
  const std::string payload = "{\"" + std::string(60'000, 'f') + "\":1}";
  const Decoder decoder{ValidationOptions{}};
  DecodedMessage out;
  const auto r = decoder.Decode(TopicKind::kWeb, payload, "a", kNow, &out);
  ASSERT_TRUE(r);
  EXPECT_LE(r->detail.size(), kMaxDeadLetterDetailBytes);
  const auto dl = MakeDeadLetter({"web-events", Partition{0}, Offset{1}}, payload, "a", *r, kNow,
                                 "v", ValidationOptions{});
  EXPECT_LE(dl.SerializeAsString().size(), MaxDeadLetterBytes(ValidationOptions{}));
}

// The processor's dead-letter output (key and value) stays within what a producer with
// the default message.max.bytes (1 MB) can send, whatever the input.
TEST(DeadLetter, BatchProcessorOutputForAMegabyteMessageIsSmall) {
  testing::TempDir dir;
  runtime::ProcessorOptions options;
  options.store.dir = dir.Sub("state");
  state::StateStore store(options.store);
  runtime::BatchProcessor batch(options, store, nullptr, nullptr, nullptr, "test");
  const std::string payload =
      "{\"eventId\":\"e-w1m\",\"anonymousId\":\"anon-w1m\",\"urlPath\":\"/" +
      std::string(999'890, 'A') + "\"}";
  const std::string key(kMiB, 'k');
  const runtime::InputMessage in{
      TopicKind::kWeb, options.topics.web, Partition{0}, Offset{0}, key, payload, 0};
  std::vector<runtime::OutputMessage> out;
  runtime::BatchCounts counts;
  batch.ApplyMessages({&in, 1}, testing::NowMs(), &out, &counts);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, options.topics.dead_letters);
  EXPECT_LE(out[0].key.size() + out[0].value.size(), 64u * 1024);
  v1::DeadLetter dl;
  ASSERT_TRUE(dl.ParseFromString(out[0].value));
  EXPECT_EQ(dl.reason(), v1::DEAD_LETTER_REASON_OVERSIZE);
  EXPECT_EQ(dl.original_size_bytes(), payload.size());
  EXPECT_EQ(dl.original_key(), out[0].key) << "keyed by the (capped) source key";
  EXPECT_THAT(dl.detail(), HasSubstr("payload has " + std::to_string(payload.size()) + " bytes"));
}

TEST(PrintableText, KeepsUtf8EscapesTheRestAndCutsAtCharacters) {
  EXPECT_EQ(PrintableText("caf\xc3\xa9 \xf0\x9f\x92\xb3", 100), "caf\xc3\xa9 \xf0\x9f\x92\xb3");
  // Overlong '/', a UTF-16 surrogate, above U+10FFFF, a lone continuation, a cut sequence.
  EXPECT_EQ(PrintableText("\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\x80|\xe2\x82", 100),
            "\\xc0\\xaf|\\xed\\xa0\\x80|\\xf4\\x90\\x80\\x80|\\x80|\\xe2\\x82");
  EXPECT_EQ(PrintableText("a\nb\x7f", 100), "a\\x0ab\\x7f");
  // Cut to the budget, never inside a character or an escape.
  EXPECT_EQ(PrintableText("abcdefgh", 8), "abcdefgh");
  EXPECT_EQ(PrintableText("abcdefghi", 8), "abcde...");
  EXPECT_EQ(PrintableText("abcd\xc3\xa9"
                          "fghi",
                          8),
            "abcd...");
  EXPECT_EQ(PrintableText("ab\xff"
                          "cdefgh",
                          8),
            "ab...");
  const std::string once = PrintableText("x\xff\xc3\xa9" + std::string(200, 'y'), 64);
  EXPECT_EQ(PrintableText(once, 64), once) << "idempotent";
  EXPECT_LE(once.size(), 64u);
}

std::string ConfigErrorOf(const std::vector<std::string>& sets) {
  try {
    runtime::LoadProcessorOptions("", sets);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(DeadLetterConfig, CapsAreKeysAndMustFitTheProducerLimit) {
  const auto o = runtime::LoadProcessorOptions(
      "", {"embedded=true", "validation.max_dead_letter_payload_bytes=0",
           "validation.max_dead_letter_key_bytes=128", "validation.max_label_bytes=64"});
  EXPECT_EQ(o.validation.max_dead_letter_payload_bytes, 0u) << "digest and size only";
  EXPECT_EQ(o.validation.max_dead_letter_key_bytes, 128u);
  EXPECT_EQ(o.validation.max_label_bytes, 64u);
  EXPECT_EQ(ConfigErrorOf({"embedded=true", "kafka.producer.message.max.bytes=20000"}),
            "configuration key 'validation.max_dead_letter_payload_bytes': dead letters may take "
            "22016 bytes, more than kafka.producer.message.max.bytes = 20000");
  EXPECT_EQ(ConfigErrorOf({"embedded=true", "kafka.message.max.bytes=1000000"}), "no error");
  EXPECT_EQ(ConfigErrorOf({"embedded=true", "validation.max_dead_letter_payload_bytes=600000"}),
            "configuration key 'validation.max_dead_letter_payload_bytes': value 600000 out of "
            "range [0, 524288]");
}

}  // namespace
}  // namespace intentstream::ingest
