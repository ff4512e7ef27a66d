// W3C baggage rules, one test each.

#include "keel/trace/baggage.h"

#include <string>

#include "gtest/gtest.h"

namespace keel::trace {
namespace {

TEST(BaggageTest, ParsesMembersWithOptionalWhitespace) {
  auto baggage =
      Baggage::Parse("userId=alice , serverNode = DF28,isProd=false");
  ASSERT_TRUE(baggage.has_value());
  ASSERT_EQ(baggage->size(), 3u);
  EXPECT_EQ(*baggage->Get("userId"), "alice");
  EXPECT_EQ(*baggage->Get("serverNode"), "DF28");
}

TEST(BaggageTest, PercentDecodesValues) {
  auto baggage = Baggage::Parse("name=DF%2028%2C%3B%25");
  ASSERT_TRUE(baggage.has_value());
  EXPECT_EQ(*baggage->Get("name"), "DF 28,;%");
}

TEST(BaggageTest, InvalidUtf8AfterDecodingBecomesReplacementChar) {
  auto baggage = Baggage::Parse("k=%FFa");
  ASSERT_TRUE(baggage.has_value());
  EXPECT_EQ(*baggage->Get("k"),
            "\xef\xbf\xbd"
            "a");
}

TEST(BaggageTest, UnpairedPercentStaysLiteral) {
  auto baggage = Baggage::Parse("k=50%");
  ASSERT_TRUE(baggage.has_value());
  EXPECT_EQ(*baggage->Get("k"), "50%");
  EXPECT_EQ(baggage->ToHeader(), "k=50%25");
}

TEST(BaggageTest, FormatPercentEncodesOutsideBaggageOctets) {
  Baggage baggage;
  ASSERT_TRUE(baggage.Set("k", "a b,c;d\\e\"f%g\xc3\xa9").ok());
  EXPECT_EQ(baggage.ToHeader(), "k=a%20b%2Cc%3Bd%5Ce%22f%25g%C3%A9");
  auto parsed = Baggage::Parse(baggage.ToHeader());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, baggage);
}

TEST(BaggageTest, PropertiesAreKeptAndNormalised) {
  auto baggage = Baggage::Parse("k=v; p1 = x ;flag,k2=w");
  ASSERT_TRUE(baggage.has_value());
  EXPECT_EQ(baggage->entries()[0].properties, "p1=x;flag");
  EXPECT_EQ(baggage->ToHeader(), "k=v;p1=x;flag,k2=w");
}

TEST(BaggageTest, InvalidKeyIsInvalidHeader) {
  EXPECT_FALSE(Baggage::Parse("bad key=v"));
  EXPECT_FALSE(Baggage::Parse("=v"));
  EXPECT_FALSE(Baggage::Parse("k(1)=v"));
}

TEST(BaggageTest, MemberWithoutEqualsIsInvalid) {
  EXPECT_FALSE(Baggage::Parse("a=1,justakey"));
}

TEST(BaggageTest, InvalidValueOctetIsInvalid) {
  EXPECT_FALSE(Baggage::Parse("k=a b"));
  EXPECT_FALSE(Baggage::Parse("k=\"q\""));
  EXPECT_FALSE(Baggage::Parse("k=a\\b"));
}

TEST(BaggageTest, InvalidPropertyIsInvalid) {
  EXPECT_FALSE(Baggage::Parse("k=v;"));
  EXPECT_FALSE(Baggage::Parse("k=v;bad key"));
}

TEST(BaggageTest, EmptyMembersTolerated) {
  auto baggage = Baggage::Parse("a=1,,b=2,");
  ASSERT_TRUE(baggage.has_value());
  EXPECT_EQ(baggage->size(), 2u);
}

TEST(BaggageTest, EmptyValueAllowed) {
  auto baggage = Baggage::Parse("k=");
  ASSERT_TRUE(baggage.has_value());
  EXPECT_EQ(*baggage->Get("k"), "");
}

TEST(BaggageTest, DuplicateKeyKeepsLastValue) {
  auto baggage = Baggage::Parse("a=1,b=2,a=3");
  ASSERT_TRUE(baggage.has_value());
  EXPECT_EQ(baggage->size(), 2u);
  EXPECT_EQ(*baggage->Get("a"), "3");
}

TEST(BaggageTest, AtMost64Members) {
  std::string header;
  for (int i = 0; i < 64; ++i) {
    header += (i ? "," : "") + std::string("k") + std::to_string(i) + "=v";
  }
  EXPECT_TRUE(Baggage::Parse(header));
  EXPECT_FALSE(Baggage::Parse(header + ",k64=v"));
}

TEST(BaggageTest, AtMost8192Bytes) {
  const std::string fits = "k=" + std::string(8190, 'v');
  EXPECT_TRUE(Baggage::Parse(fits));
  EXPECT_FALSE(Baggage::Parse(fits + "v"));
}

TEST(BaggageTest, ToHeaderDropsWholeMembersPastLimits) {
  Baggage baggage;
  ASSERT_TRUE(baggage.Set("a", std::string(5000, 'x')).ok());
  ASSERT_TRUE(baggage.Set("b", std::string(5000, 'y')).ok());
  ASSERT_TRUE(baggage.Set("c", "small").ok());
  const std::string header = baggage.ToHeader();
  EXPECT_LE(header.size(), Baggage::kMaxBytes);
  // Output is the longest prefix of members that fits.
  EXPECT_EQ(header, "a=" + std::string(5000, 'x'));

  Baggage many;
  for (int i = 0; i < 70; ++i) {
    ASSERT_TRUE(many.Set("k" + std::to_string(i), "v").ok());
  }
  auto reparsed = Baggage::Parse(many.ToHeader());
  ASSERT_TRUE(reparsed.has_value());
  EXPECT_EQ(reparsed->size(), 64u);
}

TEST(BaggageTest, SetValidatesKeyAndProperties) {
  Baggage baggage;
  EXPECT_FALSE(baggage.Set("bad key", "v").ok());
  EXPECT_FALSE(baggage.Set("k", "v", "bad prop").ok());
  EXPECT_TRUE(baggage.Set("k", "v", "p=1").ok());
  EXPECT_TRUE(baggage.Set("k", "w").ok());  // replaces
  EXPECT_EQ(baggage.ToHeader(), "k=w");
  baggage.Remove("k");
  EXPECT_TRUE(baggage.empty());
}

TEST(BaggageTest, SeveralHeaderLinesAreJoined) {
  auto baggage = Baggage::ParseLines({"a=1", "b=2"});
  ASSERT_TRUE(baggage.has_value());
  EXPECT_EQ(baggage->ToHeader(), "a=1,b=2");
}

}  // namespace
}  // namespace keel::trace
