// OTLP payload encoding, checked field by field: JSON with nlohmann::json,
// protobuf with a small wire-format decoder (and `protoc --decode_raw` when
// KEEL_PROTOC is defined).

#include "keel/trace/otlp_encoding.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "otlp_test_spans.h"

namespace keel::trace {
namespace {

using nlohmann::json;

// --- JSON -------------------------------------------------------------------

json Span0(const json& request) {
  return request["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
}

TEST(OtlpJsonTest, EnvelopeUsesResourceSpansAndScopeSpans) {
  const json request = json::parse(EncodeOtlpJson(TestResource(), TestBatch()));
  const json& rs = request["resourceSpans"];
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0]["resource"]["attributes"][0]["key"], "service.name");
  EXPECT_EQ(rs[0]["resource"]["attributes"][0]["value"]["stringValue"],
            "checkout");
  EXPECT_EQ(rs[0]["scopeSpans"][0]["scope"]["name"], "keel.test");
  EXPECT_EQ(rs[0]["scopeSpans"][0]["scope"]["version"], "1.0.0");
}

TEST(OtlpJsonTest, IdsAreLowerCaseHexNotBase64) {
  const json span =
      Span0(json::parse(EncodeOtlpJson(TestResource(), TestBatch())));
  EXPECT_EQ(span["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(span["spanId"], "00f067aa0ba902b7");
  EXPECT_EQ(span["parentSpanId"], "0102030405060708");
  EXPECT_EQ(span["links"][0]["traceId"], "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(span["links"][0]["spanId"], "b7ad6b7169203331");
}

TEST(OtlpJsonTest, EnumsAreIntegers) {
  const json span =
      Span0(json::parse(EncodeOtlpJson(TestResource(), TestBatch())));
  EXPECT_TRUE(span["kind"].is_number_integer());
  EXPECT_EQ(span["kind"], 2);            // SPAN_KIND_SERVER
  EXPECT_EQ(span["status"]["code"], 2);  // STATUS_CODE_ERROR
  EXPECT_EQ(span["status"]["message"], "upstream timeout");
}

TEST(OtlpJsonTest, SixtyFourBitIntegersAreStrings) {
  const json span =
      Span0(json::parse(EncodeOtlpJson(TestResource(), TestBatch())));
  EXPECT_EQ(span["startTimeUnixNano"], "1700000000123456789");
  EXPECT_EQ(span["endTimeUnixNano"], "1700000000223456789");
  EXPECT_EQ(span["events"][0]["timeUnixNano"], "1700000000150000000");
  EXPECT_EQ(span["attributes"][1]["value"]["intValue"], "200");
  EXPECT_EQ(span["attributes"][4]["value"]["intValue"], "-9007199254740993");
  EXPECT_EQ(span["events"][0]["attributes"][0]["value"]["intValue"], "2");
}

TEST(OtlpJsonTest, AttributeValueKinds) {
  const json span =
      Span0(json::parse(EncodeOtlpJson(TestResource(), TestBatch())));
  const json& attributes = span["attributes"];
  EXPECT_EQ(attributes[0]["key"], "http.method");
  EXPECT_EQ(attributes[0]["value"]["stringValue"], "GET");
  EXPECT_EQ(attributes[2]["value"]["doubleValue"], 0.5);
  EXPECT_EQ(attributes[3]["value"]["boolValue"], false);
  EXPECT_EQ(attributes[5]["value"]["arrayValue"]["values"][1]["stringValue"],
            "b");
}

TEST(OtlpJsonTest, KeysAreLowerCamelCaseAndCountsPresent) {
  const json span =
      Span0(json::parse(EncodeOtlpJson(TestResource(), TestBatch())));
  EXPECT_EQ(span["name"], "GET \"/users\"");  // escaped and decoded back
  EXPECT_EQ(span["traceState"], "vendor=abc");
  EXPECT_EQ(span["droppedAttributesCount"], 2);
  EXPECT_FALSE(span.contains("droppedEventsCount"));  // zero is omitted
  EXPECT_FALSE(span.contains("trace_id"));
  // flags: trace flags 0x03 | HAS_IS_REMOTE | IS_REMOTE (remote parent).
  EXPECT_EQ(span["flags"], 0x303);
  EXPECT_EQ(span["links"][0]["flags"], 0x301);
}

TEST(OtlpJsonTest, SpansGroupedPerScope) {
  SpanBatch batch = TestBatch();
  static const InstrumentationScope kOther{"other", ""};
  auto second = std::make_unique<SpanData>(*batch[0]);
  second->scope = &kOther;
  auto third = std::make_unique<SpanData>(*batch[0]);
  batch.push_back(std::move(second));
  batch.push_back(std::move(third));
  const json request = json::parse(EncodeOtlpJson(TestResource(), batch));
  const json& scopes = request["resourceSpans"][0]["scopeSpans"];
  ASSERT_EQ(scopes.size(), 2u);
  EXPECT_EQ(scopes[0]["spans"].size(), 2u);
  EXPECT_EQ(scopes[1]["scope"]["name"], "other");
  EXPECT_FALSE(scopes[1]["scope"].contains("version"));
}

TEST(OtlpJsonTest, ControlCharactersAreEscaped) {
  SpanBatch batch = TestBatch();
  batch[0]->name = std::string("a\nb\x01", 4);
  const json span = Span0(json::parse(EncodeOtlpJson(TestResource(), batch)));
  EXPECT_EQ(span["name"], std::string("a\nb\x01", 4));
}

// --- protobuf ---------------------------------------------------------------

struct Field {
  std::uint32_t number = 0;
  int wire_type = 0;
  std::uint64_t value = 0;  // varint, fixed32, fixed64
  std::string bytes;        // length-delimited
};

bool ReadVarint(std::string_view& in, std::uint64_t* out) {
  *out = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto b = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    *out |= std::uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// Decodes one message level; fails the test on malformed input.
std::vector<Field> Decode(std::string_view in) {
  std::vector<Field> fields;
  while (!in.empty()) {
    std::uint64_t key;
    EXPECT_TRUE(ReadVarint(in, &key));
    Field f;
    f.number = static_cast<std::uint32_t>(key >> 3);
    f.wire_type = static_cast<int>(key & 7);
    if (f.wire_type == 0) {
      EXPECT_TRUE(ReadVarint(in, &f.value));
    } else if (f.wire_type == 1 || f.wire_type == 5) {
      const std::size_t n = f.wire_type == 1 ? 8 : 4;
      EXPECT_GE(in.size(), n);
      for (std::size_t i = 0; i < n; ++i) {
        f.value |= std::uint64_t{static_cast<unsigned char>(in[i])} << (8 * i);
      }
      in.remove_prefix(n);
    } else if (f.wire_type == 2) {
      std::uint64_t size;
      EXPECT_TRUE(ReadVarint(in, &size));
      EXPECT_GE(in.size(), size);
      f.bytes = std::string(in.substr(0, size));
      in.remove_prefix(size);
    } else {
      ADD_FAILURE() << "unexpected wire type " << f.wire_type;
      return fields;
    }
    fields.push_back(std::move(f));
  }
  return fields;
}

std::vector<Field> All(const std::vector<Field>& fields, std::uint32_t number) {
  std::vector<Field> out;
  for (const Field& f : fields) {
    if (f.number == number) out.push_back(f);
  }
  return out;
}

Field One(const std::vector<Field>& fields, std::uint32_t number) {
  auto all = All(fields, number);
  EXPECT_EQ(all.size(), 1u) << "field " << number;
  return all.empty() ? Field() : all[0];
}

std::string Bytes(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<char>(
        std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::vector<Field> DecodedSpan() {
  const std::string payload = EncodeOtlpProtobuf(TestResource(), TestBatch());
  const auto request = Decode(payload);
  const auto resource_spans = Decode(One(request, 1).bytes);
  const auto scope_spans = Decode(One(resource_spans, 2).bytes);
  return Decode(One(scope_spans, 2).bytes);
}

TEST(OtlpProtobufTest, ResourceAndScope) {
  const auto request = Decode(EncodeOtlpProtobuf(TestResource(), TestBatch()));
  ASSERT_EQ(request.size(), 1u);
  const auto resource_spans = Decode(One(request, 1).bytes);
  const auto resource = Decode(One(resource_spans, 1).bytes);
  const auto attribute = Decode(One(resource, 1).bytes);
  EXPECT_EQ(One(attribute, 1).bytes, "service.name");
  EXPECT_EQ(One(Decode(One(attribute, 2).bytes), 1).bytes, "checkout");
  const auto scope_spans = Decode(One(resource_spans, 2).bytes);
  const auto scope = Decode(One(scope_spans, 1).bytes);
  EXPECT_EQ(One(scope, 1).bytes, "keel.test");
  EXPECT_EQ(One(scope, 2).bytes, "1.0.0");
}

TEST(OtlpProtobufTest, SpanFields) {
  const auto span = DecodedSpan();
  EXPECT_EQ(One(span, 1).bytes, Bytes("4bf92f3577b34da6a3ce929d0e0e4736"));
  EXPECT_EQ(One(span, 2).bytes, Bytes("00f067aa0ba902b7"));
  EXPECT_EQ(One(span, 3).bytes, "vendor=abc");
  EXPECT_EQ(One(span, 4).bytes, Bytes("0102030405060708"));
  EXPECT_EQ(One(span, 5).bytes, "GET \"/users\"");
  EXPECT_EQ(One(span, 6).wire_type, 0);
  EXPECT_EQ(One(span, 6).value, 2u);     // SERVER
  EXPECT_EQ(One(span, 7).wire_type, 1);  // fixed64
  EXPECT_EQ(One(span, 7).value, 1700000000123456789u);
  EXPECT_EQ(One(span, 8).value, 1700000000223456789u);
  EXPECT_EQ(All(span, 9).size(), 6u);
  EXPECT_EQ(One(span, 10).value, 2u);     // dropped attributes
  EXPECT_TRUE(All(span, 12).empty());     // zero counts omitted
  EXPECT_EQ(One(span, 16).wire_type, 5);  // fixed32
  EXPECT_EQ(One(span, 16).value, 0x303u);
}

TEST(OtlpProtobufTest, AttributeValues) {
  const auto attributes = All(DecodedSpan(), 9);
  auto any = [&](std::size_t i) {
    return Decode(One(Decode(attributes[i].bytes), 2).bytes);
  };
  EXPECT_EQ(One(any(0), 1).bytes, "GET");
  EXPECT_EQ(One(any(1), 3).value, 200u);
  double ratio;
  const std::uint64_t bits = One(any(2), 4).value;
  std::memcpy(&ratio, &bits, sizeof(ratio));
  EXPECT_EQ(ratio, 0.5);
  EXPECT_EQ(One(any(3), 2).value, 0u);  // false is written inside the oneof
  EXPECT_EQ(static_cast<std::int64_t>(One(any(4), 3).value), -9007199254740993);
  const auto array = Decode(One(any(5), 5).bytes);
  ASSERT_EQ(All(array, 1).size(), 2u);
  EXPECT_EQ(One(Decode(All(array, 1)[1].bytes), 1).bytes, "b");
}

TEST(OtlpProtobufTest, EventsLinksStatus) {
  const auto span = DecodedSpan();
  const auto event = Decode(One(span, 11).bytes);
  EXPECT_EQ(One(event, 1).value, 1700000000150000000u);
  EXPECT_EQ(One(event, 2).bytes, "retry");
  const auto link = Decode(One(span, 13).bytes);
  EXPECT_EQ(One(link, 1).bytes, Bytes("0af7651916cd43dd8448eb211c80319c"));
  EXPECT_EQ(One(link, 6).value, 0x301u);
  const auto status = Decode(One(span, 15).bytes);
  EXPECT_EQ(One(status, 2).bytes, "upstream timeout");
  EXPECT_EQ(One(status, 3).value, 2u);
}

TEST(OtlpProtobufTest, LongMessagesGetMultiByteLengths) {
  SpanBatch batch = TestBatch();
  batch[0]->name = std::string(300, 'n');  // length needs a 2-byte varint
  const auto request = Decode(EncodeOtlpProtobuf(TestResource(), batch));
  const auto span =
      Decode(One(Decode(One(Decode(One(request, 1).bytes), 2).bytes), 2).bytes);
  EXPECT_EQ(One(span, 5).bytes, std::string(300, 'n'));
}

#ifdef KEEL_PROTOC
// protoc's own decoder agrees with the wire format.
TEST(OtlpProtobufTest, ProtocDecodeRawAcceptsPayload) {
  const std::string path = ::testing::TempDir() + "/otlp_payload.bin";
  {
    std::ofstream out(path, std::ios::binary);
    out << EncodeOtlpProtobuf(TestResource(), TestBatch());
  }
  const std::string command =
      std::string(KEEL_PROTOC) + " --decode_raw < " + path + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  std::size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    output.append(buffer, n);
  }
  ASSERT_EQ(pclose(pipe), 0) << output;
  EXPECT_NE(output.find("5: \"GET \\\"/users\\\"\""), std::string::npos)
      << output;
  EXPECT_NE(output.find("1: \"service.name\""), std::string::npos) << output;
  EXPECT_NE(output.find("7: 0x17979cfe3d85cd15"), std::string::npos)
      << output;  // start time as fixed64
  EXPECT_NE(output.find("16: 0x00000303"), std::string::npos) << output;
}
#endif

}  // namespace
}  // namespace keel::trace
