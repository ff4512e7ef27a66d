#include "testing/internal/resp_codec.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace keel::testing_internal {
namespace {

using keel::testing::RespReply;
using ::testing::HasSubstr;

RespReply ParseAll(const std::string& wire) {
  size_t consumed = 0;
  auto reply = ParseRespReply(wire, &consumed);
  EXPECT_TRUE(reply.ok()) << reply.status();
  if (!reply.ok() || !reply->has_value()) return RespReply();
  EXPECT_EQ(consumed, wire.size());
  return **reply;
}

TEST(RespCodec, EncodesCommandAsArrayOfBulkStrings) {
  EXPECT_EQ(EncodeRespCommand({"SET", "k", ""}),
            "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
  // Binary-safe: CRLF inside an argument is length-prefixed, not a separator.
  EXPECT_EQ(EncodeRespCommand({"a\r\nb"}), "*1\r\n$4\r\na\r\nb\r\n");
}

TEST(RespCodec, ParsesScalarReplies) {
  RespReply ok = ParseAll("+OK\r\n");
  EXPECT_EQ(ok.type, RespReply::Type::kSimpleString);
  EXPECT_EQ(ok.text, "OK");

  RespReply error = ParseAll("-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(error.type, RespReply::Type::kError);
  EXPECT_EQ(error.text, "NOAUTH Authentication required.");

  RespReply integer = ParseAll(":-42\r\n");
  EXPECT_EQ(integer.type, RespReply::Type::kInteger);
  EXPECT_EQ(integer.integer, -42);

  RespReply bulk = ParseAll("$5\r\na\r\nbc\r\n");
  EXPECT_EQ(bulk.type, RespReply::Type::kBulkString);
  EXPECT_EQ(bulk.text, "a\r\nbc");

  EXPECT_EQ(ParseAll("$-1\r\n").type, RespReply::Type::kNil);
  EXPECT_EQ(ParseAll("*-1\r\n").type, RespReply::Type::kNil);
}

TEST(RespCodec, ParsesNestedArrays) {
  RespReply reply = ParseAll("*3\r\n:1\r\n*2\r\n$1\r\nx\r\n$-1\r\n*0\r\n");
  ASSERT_EQ(reply.type, RespReply::Type::kArray);
  ASSERT_EQ(reply.elements.size(), 3u);
  EXPECT_EQ(reply.elements[0].integer, 1);
  ASSERT_EQ(reply.elements[1].elements.size(), 2u);
  EXPECT_EQ(reply.elements[1].elements[0].text, "x");
  EXPECT_EQ(reply.elements[1].elements[1].type, RespReply::Type::kNil);
  EXPECT_TRUE(reply.elements[2].elements.empty());
  EXPECT_EQ(reply.DebugString(), "[1, [\"x\", nil], []]");
}

TEST(RespCodec, EveryStrictPrefixNeedsMoreInput) {
  const std::string wire = "*2\r\n$3\r\nfoo\r\n:7\r\n";
  for (size_t cut = 0; cut < wire.size(); ++cut) {
    size_t consumed = 99;
    auto reply =
        ParseRespReply(std::string_view(wire).substr(0, cut), &consumed);
    ASSERT_TRUE(reply.ok()) << "cut " << cut << ": " << reply.status();
    EXPECT_FALSE(reply->has_value()) << "cut " << cut;
    EXPECT_EQ(consumed, 0u);
  }
}

TEST(RespCodec, ConsumesOnlyTheFirstOfPipelinedReplies) {
  const std::string wire = "+first\r\n+second\r\n";
  size_t consumed = 0;
  auto reply = ParseRespReply(wire, &consumed);
  ASSERT_TRUE(reply.ok() && reply->has_value());
  EXPECT_EQ((*reply)->text, "first");
  ASSERT_EQ(consumed, 8u);
  reply = ParseRespReply(std::string_view(wire).substr(consumed), &consumed);
  ASSERT_TRUE(reply.ok() && reply->has_value());
  EXPECT_EQ((*reply)->text, "second");
}

TEST(RespCodec, RejectsMalformedInput) {
  const char* const bad[] = {
      "?what\r\n",          // Unknown type byte.
      "\r\n",               // Empty line.
      ":12x\r\n",           // Bad integer.
      "$-2\r\n",            // Length below -1.
      "$abc\r\n",           // Non-numeric length.
      "$3\r\nabcXY",        // Bulk string without CRLF.
      "$999999999999\r\n",  // Above the 512 MiB limit.
      "*1\r\n!\r\n",        // Bad element.
  };
  for (const char* input : bad) {
    size_t consumed = 0;
    auto reply = ParseRespReply(input, &consumed);
    EXPECT_TRUE(absl::IsInvalidArgument(reply.status()))
        << "input " << ::testing::PrintToString(input) << ": "
        << reply.status();
  }
}

TEST(RespCodec, RejectsNestingBeyondTheLimit) {
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "*1\r\n";
  deep += ":1\r\n";
  size_t consumed = 0;
  auto reply = ParseRespReply(deep, &consumed);
  EXPECT_TRUE(absl::IsInvalidArgument(reply.status()));
  EXPECT_THAT(reply.status().message(), HasSubstr("nested"));
}

}  // namespace
}  // namespace keel::testing_internal
