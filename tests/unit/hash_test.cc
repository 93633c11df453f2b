#include "common/hash.h"

#include <gtest/gtest.h>

namespace intentstream {
namespace {

// Reference values of the Java client's Utils.murmur2 (as signed 32-bit ints).
TEST(KafkaMurmur2, MatchesJavaClientReferenceValues) {
  EXPECT_EQ(static_cast<int32_t>(KafkaMurmur2("21")), -973932308);
  EXPECT_EQ(static_cast<int32_t>(KafkaMurmur2("foobar")), -790332482);
  EXPECT_EQ(static_cast<int32_t>(KafkaMurmur2("a-little-bit-long-string")), -985981536);
  EXPECT_EQ(static_cast<int32_t>(KafkaMurmur2("a-little-bit-longer-string")), -1486304829);
  EXPECT_EQ(static_cast<int32_t>(KafkaMurmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8")),
            -58897971);
  EXPECT_EQ(static_cast<int32_t>(KafkaMurmur2("abc")), 479470107);
}

TEST(KafkaMurmur2, PartitionIsPositiveModulo) {
  for (int n : {1, 3, 4, 12}) {
    const int32_t p = KafkaMurmur2Partition("21", n);
    EXPECT_GE(p, 0);
    EXPECT_LT(p, n);
    EXPECT_EQ(p, static_cast<int32_t>((KafkaMurmur2("21") & 0x7fffffff) % n));
  }
}

TEST(Fnv1a, IsStable) {
  // Persisted in state: these values must never change.
  EXPECT_EQ(Fnv1a64(""), 14695981039346656037ull);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(Fnv1a32("a"), 0xe40c292cu);
}

}  // namespace
}  // namespace intentstream
