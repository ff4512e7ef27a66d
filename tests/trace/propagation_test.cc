#include "keel/trace/propagation.h"

#include <map>
#include <string>
#include <unordered_map>

#include "gtest/gtest.h"

namespace keel::trace {
namespace {

constexpr char kParent[] =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(PropagationTest, ExtractReadsTraceparentAndTracestate) {
  std::map<std::string, std::string> headers = {
      {"traceparent", kParent}, {"tracestate", "congo=t61,rojo=00f"}};
  MapCarrier carrier(headers);
  SpanContext context = Extract(carrier);
  ASSERT_TRUE(context.IsValid());
  EXPECT_TRUE(context.is_remote());
  EXPECT_EQ(context.trace_state().ToHeader(), "congo=t61,rojo=00f");
}

TEST(PropagationTest, MissingTraceparentYieldsInvalidContext) {
  std::map<std::string, std::string> headers = {{"tracestate", "a=1"}};
  MapCarrier carrier(headers);
  EXPECT_FALSE(Extract(carrier).IsValid());
}

// An invalid traceparent restarts the trace: tracestate is discarded too.
TEST(PropagationTest, InvalidTraceparentDiscardsEverything) {
  std::map<std::string, std::string> headers = {
      {"traceparent", "00-zz-00f067aa0ba902b7-01"}, {"tracestate", "a=1"}};
  MapCarrier carrier(headers);
  EXPECT_FALSE(Extract(carrier).IsValid());
}

// An invalid tracestate is dropped; the trace continues.
TEST(PropagationTest, InvalidTracestateKeepsTraceparent) {
  std::map<std::string, std::string> headers = {{"traceparent", kParent},
                                                {"tracestate", "a=1,a=2"}};
  MapCarrier carrier(headers);
  SpanContext context = Extract(carrier);
  EXPECT_TRUE(context.IsValid());
  EXPECT_TRUE(context.trace_state().empty());
}

TEST(PropagationTest, SeveralTracestateLinesAreJoined) {
  std::multimap<std::string, std::string> headers = {
      {"traceparent", kParent}, {"tracestate", "a=1"}, {"tracestate", "b=2"}};
  MapCarrier carrier(headers);
  EXPECT_EQ(Extract(carrier).trace_state().ToHeader(), "a=1,b=2");
}

TEST(PropagationTest, RepeatedTraceparentIsInvalid) {
  std::multimap<std::string, std::string> headers = {{"traceparent", kParent},
                                                     {"traceparent", kParent}};
  MapCarrier carrier(headers);
  EXPECT_FALSE(Extract(carrier).IsValid());
}

TEST(PropagationTest, InjectWritesHeadersAndRoundTrips) {
  std::unordered_map<std::string, std::string> in = {{"traceparent", kParent},
                                                     {"tracestate", "a=1"}};
  MapCarrier in_carrier(in);
  const SpanContext context = Extract(in_carrier);

  std::unordered_map<std::string, std::string> out = {{"traceparent", "stale"}};
  MapCarrier out_carrier(out);
  Inject(context, out_carrier);
  EXPECT_EQ(out["traceparent"], kParent);
  EXPECT_EQ(out["tracestate"], "a=1");
}

TEST(PropagationTest, InjectOfInvalidContextWritesNothing) {
  std::map<std::string, std::string> out;
  MapCarrier carrier(out);
  Inject(SpanContext(), carrier);
  EXPECT_TRUE(out.empty());
}

TEST(PropagationTest, BaggageInjectExtract) {
  Baggage baggage;
  ASSERT_TRUE(baggage.Set("tenant", "acme corp").ok());
  std::map<std::string, std::string> headers;
  MapCarrier carrier(headers);
  InjectBaggage(baggage, carrier);
  EXPECT_EQ(headers["baggage"], "tenant=acme%20corp");
  EXPECT_EQ(ExtractBaggage(carrier), baggage);
}

TEST(PropagationTest, InvalidBaggageExtractsEmpty) {
  std::map<std::string, std::string> headers = {{"baggage", "bad key=1"}};
  MapCarrier carrier(headers);
  EXPECT_TRUE(ExtractBaggage(carrier).empty());
}

}  // namespace
}  // namespace keel::trace
