// Every traceparent rule of W3C Trace Context Level 1/2, one test each.

#include "keel/trace/traceparent.h"

#include <string>

#include "gtest/gtest.h"

namespace keel::trace {
namespace {

constexpr char kValid[] =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceparentTest, ParsesValidVersion00) {
  auto context = ParseTraceparent(kValid);
  ASSERT_TRUE(context.has_value());
  EXPECT_EQ(context->trace_id().ToHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(context->span_id().ToHex(), "00f067aa0ba902b7");
  EXPECT_TRUE(context->sampled());
  EXPECT_TRUE(context->is_remote());
  EXPECT_TRUE(context->IsValid());
}

TEST(TraceparentTest, UnsampledFlags) {
  auto context = ParseTraceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(context.has_value());
  EXPECT_FALSE(context->sampled());
}

// Level 2: the random flag (0x02) is understood and kept.
TEST(TraceparentTest, RandomFlagIsKept) {
  auto context = ParseTraceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
  ASSERT_TRUE(context.has_value());
  EXPECT_TRUE(context->random());
  EXPECT_TRUE(context->sampled());
  EXPECT_EQ(FormatTraceparent(*context),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
}

// Flags this version does not define are cleared, not propagated.
TEST(TraceparentTest, UnknownFlagsAreCleared) {
  auto context = ParseTraceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff");
  ASSERT_TRUE(context.has_value());
  EXPECT_EQ(context->trace_flags(), 0x03);
}

TEST(TraceparentTest, FormatRoundTrips) {
  auto context = ParseTraceparent(kValid);
  ASSERT_TRUE(context.has_value());
  EXPECT_EQ(FormatTraceparent(*context), kValid);
}

// HTTP optional whitespace around the value is not part of it.
TEST(TraceparentTest, SurroundingWhitespaceIgnored) {
  EXPECT_TRUE(ParseTraceparent(std::string(" \t") + kValid + " "));
}

TEST(TraceparentTest, EmptyIsInvalid) { EXPECT_FALSE(ParseTraceparent("")); }

TEST(TraceparentTest, VersionFfIsInvalid) {
  EXPECT_FALSE(ParseTraceparent(
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
}

TEST(TraceparentTest, NonHexVersionIsInvalid) {
  EXPECT_FALSE(ParseTraceparent(
      "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
}

TEST(TraceparentTest, UpperCaseVersionIsInvalid) {
  EXPECT_FALSE(ParseTraceparent(
      "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
}

// Version 00 is exactly 55 characters: no trailing data.
TEST(TraceparentTest, Version00WithTrailingDataIsInvalid) {
  EXPECT_FALSE(ParseTraceparent(std::string(kValid) + "-extra"));
  EXPECT_FALSE(ParseTraceparent(std::string(kValid) + "0"));
}

TEST(TraceparentTest, TooShortIsInvalid) {
  EXPECT_FALSE(ParseTraceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0"));
}

// A future version is parsed as 00 and may append `-`-separated fields.
TEST(TraceparentTest, FutureVersionIsParsedLeniently) {
  auto exact = ParseTraceparent(
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(exact.has_value());
  EXPECT_TRUE(exact->sampled());
  auto longer = ParseTraceparent(
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-"
      "future");
  ASSERT_TRUE(longer.has_value());
  EXPECT_EQ(longer->span_id().ToHex(), "00f067aa0ba902b7");
  // When propagated, keel writes the version it implements.
  EXPECT_EQ(FormatTraceparent(*longer).substr(0, 3), "00-");
}

// ... but a future version's extra data must start with '-'.
TEST(TraceparentTest, FutureVersionWithoutDashAfterFlagsIsInvalid) {
  EXPECT_FALSE(ParseTraceparent(
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"));
}

TEST(TraceparentTest, FutureVersionStillRequiresValidFields) {
  EXPECT_FALSE(ParseTraceparent(
      "cc-00000000000000000000000000000000-00f067aa0ba902b7-01-x"));
}

TEST(TraceparentTest, AllZeroTraceIdIsInvalid) {
  EXPECT_FALSE(ParseTraceparent(
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
}

TEST(TraceparentTest, AllZeroParentIdIsInvalid) {
  EXPECT_FALSE(ParseTraceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
}

TEST(TraceparentTest, UpperCaseTraceIdIsInvalid) {
  EXPECT_FALSE(ParseTraceparent(
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
}

TEST(TraceparentTest, UpperCaseParentIdIsInvalid) {
  EXPECT_FALSE(ParseTraceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01"));
}

TEST(TraceparentTest, UpperCaseFlagsAreInvalid) {
  EXPECT_FALSE(ParseTraceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A"));
}

TEST(TraceparentTest, NonHexCharactersAreInvalid) {
  EXPECT_FALSE(ParseTraceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e473z-00f067aa0ba902b7-01"));
  EXPECT_FALSE(ParseTraceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01"));
  EXPECT_FALSE(ParseTraceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0z"));
}

TEST(TraceparentTest, WrongSeparatorsAreInvalid) {
  EXPECT_FALSE(ParseTraceparent(
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(ParseTraceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01"));
  EXPECT_FALSE(ParseTraceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01"));
}

// Fields of the wrong width shift the separators and are rejected.
TEST(TraceparentTest, WrongFieldWidthsAreInvalid) {
  EXPECT_FALSE(ParseTraceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01"));
  EXPECT_FALSE(ParseTraceparent(
      "0-04bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
}

// Whitespace inside the value is not tolerated.
TEST(TraceparentTest, InnerWhitespaceIsInvalid) {
  EXPECT_FALSE(ParseTraceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e4736 -00f067aa0ba902b7-01"));
}

TEST(TraceparentTest, FormatIntoBufferWritesExactly55Chars) {
  auto context = ParseTraceparent(kValid);
  ASSERT_TRUE(context.has_value());
  char buffer[kTraceparentSize + 1];
  buffer[kTraceparentSize] = '#';
  FormatTraceparent(*context, buffer);
  EXPECT_EQ(std::string(buffer, kTraceparentSize), kValid);
  EXPECT_EQ(buffer[kTraceparentSize], '#');
}

}  // namespace
}  // namespace keel::trace
