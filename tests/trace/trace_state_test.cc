// W3C tracestate rules, one test each.

#include "keel/trace/trace_state.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace keel::trace {
namespace {

TEST(TraceStateTest, ParsesMembersInOrder) {
  auto state = TraceState::Parse("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
  ASSERT_TRUE(state.has_value());
  ASSERT_EQ(state->size(), 2u);
  EXPECT_EQ(state->entries()[0].key, "congo");
  EXPECT_EQ(state->entries()[1].value, "00f067aa0ba902b7");
  EXPECT_EQ(*state->Get("rojo"), "00f067aa0ba902b7");
  EXPECT_FALSE(state->Get("absent").has_value());
  EXPECT_EQ(state->ToHeader(), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
}

TEST(TraceStateTest, EmptyHeaderIsValidAndEmpty) {
  auto state = TraceState::Parse("");
  ASSERT_TRUE(state.has_value());
  EXPECT_TRUE(state->empty());
  EXPECT_EQ(state->ToHeader(), "");
}

// list = list-member 0*31( OWS "," OWS list-member ); empty members allowed.
TEST(TraceStateTest, OptionalWhitespaceAndEmptyMembersTolerated) {
  auto state = TraceState::Parse(" a=1 ,\t, ,b=2,");
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->ToHeader(), "a=1,b=2");
}

TEST(TraceStateTest, MultiTenantKey) {
  auto state = TraceState::Parse("fw529a3039@dt=abc,1tenant@sys-1=x");
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(*state->Get("fw529a3039@dt"), "abc");
}

TEST(TraceStateTest, KeyGrammar) {
  EXPECT_TRUE(TraceState::IsValidKey("a"));
  EXPECT_TRUE(TraceState::IsValidKey("a0_-*/"));
  EXPECT_FALSE(TraceState::IsValidKey(""));
  EXPECT_FALSE(TraceState::IsValidKey("Abc"));   // upper case
  EXPECT_FALSE(TraceState::IsValidKey("0abc"));  // simple key starts lcalpha
  EXPECT_FALSE(TraceState::IsValidKey("a.b"));   // '.' not a key char
  EXPECT_TRUE(TraceState::IsValidKey(std::string(256, 'a')));
  EXPECT_FALSE(TraceState::IsValidKey(std::string(257, 'a')));
}

TEST(TraceStateTest, MultiTenantKeyGrammar) {
  EXPECT_TRUE(TraceState::IsValidKey("0t@s"));   // tenant may start with digit
  EXPECT_FALSE(TraceState::IsValidKey("t@0s"));  // system starts with lcalpha
  EXPECT_FALSE(TraceState::IsValidKey("@s"));
  EXPECT_FALSE(TraceState::IsValidKey("t@"));
  EXPECT_FALSE(TraceState::IsValidKey("t@s@x"));
  EXPECT_TRUE(TraceState::IsValidKey(std::string(241, 't') + "@" +
                                     std::string(14, 's')));
  EXPECT_FALSE(TraceState::IsValidKey(std::string(242, 't') + "@s"));
  EXPECT_FALSE(TraceState::IsValidKey("t@" + std::string(15, 's')));
}

TEST(TraceStateTest, ValueGrammar) {
  EXPECT_TRUE(TraceState::IsValidValue("x"));
  EXPECT_TRUE(TraceState::IsValidValue("a b"));  // inner space allowed
  EXPECT_FALSE(TraceState::IsValidValue("a "));  // trailing space not
  EXPECT_FALSE(TraceState::IsValidValue(""));
  EXPECT_FALSE(TraceState::IsValidValue("a,b"));
  EXPECT_FALSE(TraceState::IsValidValue("a=b"));
  EXPECT_FALSE(TraceState::IsValidValue("a\x7f"));
  EXPECT_FALSE(TraceState::IsValidValue("\xc3\xa9"));  // non-ASCII
  EXPECT_TRUE(TraceState::IsValidValue(std::string(256, 'v')));
  EXPECT_FALSE(TraceState::IsValidValue(std::string(257, 'v')));
}

TEST(TraceStateTest, InvalidMemberDiscardsWholeHeader) {
  EXPECT_FALSE(TraceState::Parse("a=1,B=2"));
  EXPECT_FALSE(TraceState::Parse("a=1,novalue"));
  EXPECT_FALSE(TraceState::Parse("a=1,b="));
  EXPECT_FALSE(TraceState::Parse("a=1,=2"));
}

TEST(TraceStateTest, DuplicateKeysDiscardWholeHeader) {
  EXPECT_FALSE(TraceState::Parse("a=1,b=2,a=3"));
}

TEST(TraceStateTest, AtMost32Members) {
  std::string header;
  for (int i = 0; i < 32; ++i) {
    header += (i ? "," : "") + std::string("k") + std::to_string(i) + "=v";
  }
  EXPECT_TRUE(TraceState::Parse(header));
  EXPECT_FALSE(TraceState::Parse(header + ",k32=v"));
  // Empty members do not count.
  EXPECT_TRUE(TraceState::Parse(header + ",,"));
}

TEST(TraceStateTest, SeveralHeaderLinesAreJoined) {
  auto state = TraceState::ParseLines({"a=1", "b=2"});
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->ToHeader(), "a=1,b=2");
  EXPECT_FALSE(TraceState::ParseLines({"a=1", "a=2"}));
}

TEST(TraceStateTest, SetMovesKeyToFrontAndValidates) {
  auto state = TraceState::Parse("a=1,b=2,c=3");
  ASSERT_TRUE(state.has_value());
  auto updated = state->Set("b", "9");
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->ToHeader(), "b=9,a=1,c=3");
  EXPECT_EQ(state->ToHeader(), "a=1,b=2,c=3");  // original unchanged
  EXPECT_FALSE(state->Set("Bad", "x").ok());
  EXPECT_FALSE(state->Set("ok", "x,y").ok());
}

TEST(TraceStateTest, SetOnFullListDropsRightMost) {
  std::string header;
  for (int i = 0; i < 32; ++i) {
    header += (i ? "," : "") + std::string("k") + std::to_string(i) + "=v";
  }
  auto state = TraceState::Parse(header);
  ASSERT_TRUE(state.has_value());
  auto updated = state->Set("new", "x");
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->size(), 32u);
  EXPECT_EQ(updated->entries().front().key, "new");
  EXPECT_FALSE(updated->Get("k31").has_value());
}

TEST(TraceStateTest, Delete) {
  auto state = TraceState::Parse("a=1,b=2");
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->Delete("a").ToHeader(), "b=2");
  EXPECT_EQ(state->Delete("zz").ToHeader(), "a=1,b=2");
}

// Truncation past 512 characters drops members > 128 characters first.
TEST(TraceStateTest, TruncationDropsLargeMembersFirst) {
  const std::string big(200, 'x');
  std::string header = "a=" + big;  // 202 chars, large
  for (int i = 0; i < 4; ++i) {
    header += ",k" + std::to_string(i) + "=" + std::string(100, 'v');  // 103
  }
  auto state = TraceState::Parse(header);
  ASSERT_TRUE(state.has_value());
  const std::string out = state->ToHeader();
  EXPECT_LE(out.size(), 512u);
  EXPECT_EQ(out.find("a="), std::string::npos);
  EXPECT_NE(out.find("k0="), std::string::npos);
  EXPECT_NE(out.find("k3="), std::string::npos);
}

TEST(TraceStateTest, TruncationThenDropsFromTheRight) {
  std::string header;
  for (int i = 0; i < 8; ++i) {
    header += (i ? "," : "") + std::string("k") + std::to_string(i) + "=" +
              std::string(100, 'v');
  }
  auto state = TraceState::Parse(header);
  ASSERT_TRUE(state.has_value());
  const std::string out = state->ToHeader();
  EXPECT_LE(out.size(), 512u);
  EXPECT_NE(out.find("k0="), std::string::npos);
  EXPECT_EQ(out.find("k7="), std::string::npos);
}

}  // namespace
}  // namespace keel::trace
