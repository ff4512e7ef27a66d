#include "keel/trace/span_context.h"

#include <string>

#include "gtest/gtest.h"

namespace keel::trace {
namespace {

TEST(TraceIdTest, DefaultIsInvalidAllZero) {
  TraceId id;
  EXPECT_FALSE(id.IsValid());
  EXPECT_EQ(id.ToHex(), std::string(32, '0'));
}

TEST(TraceIdTest, HexRoundTrip) {
  auto id = TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736");
  ASSERT_TRUE(id.has_value());
  EXPECT_TRUE(id->IsValid());
  EXPECT_EQ(id->bytes()[0], 0x4b);
  EXPECT_EQ(id->bytes()[15], 0x36);
  EXPECT_EQ(id->ToHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(TraceIdTest, RejectsUpperCaseWrongLengthAndNonHex) {
  EXPECT_FALSE(TraceId::FromHex("4BF92F3577B34DA6A3CE929D0E0E4736"));
  EXPECT_FALSE(TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e473"));
  EXPECT_FALSE(TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e47366"));
  EXPECT_FALSE(TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e473g"));
  EXPECT_FALSE(TraceId::FromHex(""));
}

TEST(TraceIdTest, AllZeroParsesButIsInvalid) {
  auto id = TraceId::FromHex(std::string(32, '0'));
  ASSERT_TRUE(id.has_value());
  EXPECT_FALSE(id->IsValid());
}

TEST(SpanIdTest, HexRoundTripAndEquality) {
  auto a = SpanId::FromHex("00f067aa0ba902b7");
  auto b = SpanId::FromHex("00f067aa0ba902b7");
  auto c = SpanId::FromHex("00f067aa0ba902b8");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  EXPECT_EQ(a->ToHex(), "00f067aa0ba902b7");
  EXPECT_FALSE(SpanId::FromHex("00f067aa0ba902b"));
}

TEST(SpanContextTest, DefaultIsInvalid) {
  SpanContext context;
  EXPECT_FALSE(context.IsValid());
  EXPECT_FALSE(context.sampled());
  EXPECT_FALSE(context.is_remote());
  EXPECT_TRUE(context.trace_state().empty());
}

TEST(SpanContextTest, FlagsAndValidity) {
  SpanContext context(*TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736"),
                      *SpanId::FromHex("00f067aa0ba902b7"),
                      kTraceFlagSampled | kTraceFlagRandom, true);
  EXPECT_TRUE(context.IsValid());
  EXPECT_TRUE(context.sampled());
  EXPECT_TRUE(context.random());
  EXPECT_TRUE(context.is_remote());
  EXPECT_EQ(context.trace_flags(), 0x03);
}

TEST(SpanContextTest, InvalidIfEitherIdIsZero) {
  EXPECT_FALSE(
      SpanContext(TraceId(), *SpanId::FromHex("00f067aa0ba902b7"), 1, false)
          .IsValid());
  EXPECT_FALSE(
      SpanContext(*TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736"),
                  SpanId(), 1, false)
          .IsValid());
}

}  // namespace
}  // namespace keel::trace
