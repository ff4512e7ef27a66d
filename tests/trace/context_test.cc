#include "keel/trace/context.h"

#include <thread>

#include "gtest/gtest.h"

namespace keel::trace {
namespace {

SpanContext MakeContext(const char* span_hex) {
  return SpanContext(*TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736"),
                     *SpanId::FromHex(span_hex), kTraceFlagSampled, false);
}

TEST(ContextTest, NoScopeMeansInvalidContext) {
  EXPECT_FALSE(CurrentSpanContext().IsValid());
  EXPECT_EQ(CurrentSpanContextOrNull(), nullptr);
}

TEST(ContextTest, ScopesNestAndRestore) {
  const SpanContext outer = MakeContext("00000000000000a1");
  const SpanContext inner = MakeContext("00000000000000a2");
  {
    ContextScope outer_scope(outer);
    EXPECT_EQ(CurrentSpanContext(), outer);
    {
      ContextScope inner_scope(inner);
      EXPECT_EQ(CurrentSpanContext(), inner);
    }
    EXPECT_EQ(CurrentSpanContext(), outer);
  }
  EXPECT_FALSE(CurrentSpanContext().IsValid());
}

TEST(ContextTest, InvalidContextHidesOuterScope) {
  ContextScope outer_scope(MakeContext("00000000000000a1"));
  ContextScope hide(SpanContext{});
  EXPECT_FALSE(CurrentSpanContext().IsValid());
}

TEST(ContextTest, CurrentContextIsPerThread) {
  ContextScope scope(MakeContext("00000000000000a1"));
  bool other_thread_saw_valid = true;
  std::thread t(
      [&] { other_thread_saw_valid = CurrentSpanContext().IsValid(); });
  t.join();
  EXPECT_FALSE(other_thread_saw_valid);
}

TEST(ContextTest, BindCurrentContextCarriesContextToAnotherThread) {
  const SpanContext context = MakeContext("00000000000000a3");
  SpanContext seen;
  {
    ContextScope scope(context);
    auto bound = BindCurrentContext([&seen](int x) {
      seen = CurrentSpanContext();
      return x + 1;
    });
    int result = 0;
    std::thread t([&] { result = bound(41); });
    t.join();
    EXPECT_EQ(result, 42);
  }
  EXPECT_EQ(seen, context);
}

}  // namespace
}  // namespace keel::trace
