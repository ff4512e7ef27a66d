// Unit and differential tests of the JOSE JSON scanner
// (src/security/jose_json.h): every RFC 8259 rule and JOSE addition, the
// member view, the compact form, and agreement with nlohmann_json on a
// corpus of tricky texts and on deterministic mutations of it.

#include "security/jose_json.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "jose_json_differential.h"

namespace keel::security_internal {
namespace {

struct Case {
  std::string text;
  JsonError error;
};

std::string Nested(int levels, char open, char close) {
  std::string text = "{\"x\":";
  for (int i = 1; i < levels; ++i) text += open;
  for (int i = 1; i < levels; ++i) text += close;
  return text + "}";
}

std::string ManyMembers(int n, bool repeat_first) {
  std::string text = "{";
  for (int i = 0; i < n; ++i) {
    text += "\"m" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  }
  text += repeat_first ? "\"m0\":1}" : "\"last\":1}";
  return text;
}

std::vector<Case> Corpus() {
  using E = JsonError;
  std::vector<Case> cases = {
      // Accepted.
      {"{}", E::kNone},
      {" \t\r\n{ \"a\" : 1 , \"b\" : [ ] , \"c\" : { } }\n ", E::kNone},
      {R"({"a":[1,2,{"b":null}],"c":true,"d":false,"e":null})", E::kNone},
      {R"({"n":[-0,0.5,1e5,1E+5,1e-5,-12.34e-2,0e0,1e308]})", E::kNone},
      {R"({"n":1.7976931348623157e308,"m":-1.7976931348623157e308})", E::kNone},
      {R"({"tiny":1e-400,"tinier":-2e-99999999999999999999})", E::kNone},
      {R"({"big":18446744073709551616,"neg":-9223372036854775809})", E::kNone},
      {R"({"s":"\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC"})", E::kNone},
      {R"({"s":"\ud83d\ude00","t":"\uD83D\uDE00"})", E::kNone},
      {"{\"s\":\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\x7F\"}", E::kNone},
      {R"({"s":"\u0000","\u0000":1})", E::kNone},
      {R"({"a":{"a":1},"b":{"a":2},"c":[{"a":1},{"a":2}]})", E::kNone},
      {R"({"\u0061b":1,"ab\u0063":2})", E::kNone},
      {Nested(32, '[', ']'), E::kNone},
      {ManyMembers(40, false), E::kNone},
      // Not JSON.
      {"", E::kSyntax},
      {" ", E::kSyntax},
      {"{", E::kSyntax},
      {"}", E::kSyntax},
      {R"({"a"})", E::kSyntax},
      {R"({"a":})", E::kSyntax},
      {R"({"a":1,})", E::kSyntax},
      {"{,}", E::kSyntax},
      {R"({"a":1 "b":2})", E::kSyntax},
      {"{'a':1}", E::kSyntax},
      {"{a:1}", E::kSyntax},
      {R"({"a":[1,]})", E::kSyntax},
      {R"({"a":[,1]})", E::kSyntax},
      {R"({"a":01})", E::kSyntax},
      {R"({"a":-01})", E::kSyntax},
      {R"({"a":1.})", E::kSyntax},
      {R"({"a":.5})", E::kSyntax},
      {R"({"a":+1})", E::kSyntax},
      {R"({"a":-})", E::kSyntax},
      {R"({"a":1e})", E::kSyntax},
      {R"({"a":1e+})", E::kSyntax},
      {R"({"a":0x10})", E::kSyntax},
      {R"({"a":NaN})", E::kSyntax},
      {R"({"a":Infinity})", E::kSyntax},
      {R"({"a":-Infinity})", E::kSyntax},
      {R"({"a":1e309})", E::kSyntax},
      {R"({"a":-1.8e308})", E::kSyntax},
      {R"({"a":1.7976931348623159e308})", E::kSyntax},
      {"{\"a\":1" + std::string(309, '0') + "}", E::kSyntax},
      {R"({"a":0.1e310})", E::kSyntax},
      {R"({"a":tru})", E::kSyntax},
      {R"({"a":True})", E::kSyntax},
      {R"({"a":nul})", E::kSyntax},
      {R"({"a":nulll})", E::kSyntax},
      {R"({"a":"\x"})", E::kSyntax},
      {R"({"a":"\'"})", E::kSyntax},
      {R"({"a":"\u12"})", E::kSyntax},
      {R"({"a":"\u12G4"})", E::kSyntax},
      {R"({"a":"\ud800"})", E::kSyntax},
      {R"({"a":"\udc00"})", E::kSyntax},
      {R"({"a":"\ude00\ud83d"})", E::kSyntax},
      {R"({"a":"\ud800\u0041"})", E::kSyntax},
      {R"({"a":"\ud800\ud800"})", E::kSyntax},
      {R"({"a":"\ud800x"})", E::kSyntax},
      {R"({"\ud800":1})", E::kSyntax},
      {"{\"a\":\"\x01\"}", E::kSyntax},
      {"{\"a\":\"\t\"}", E::kSyntax},
      {"{\"a\":\"\n\"}", E::kSyntax},
      {std::string("{\"a\":\"\0\"}", 8), E::kSyntax},
      {"{\"a\":\"\xC0\xAF\"}", E::kSyntax},          // overlong '/'
      {"{\"a\":\"\xC1\xBF\"}", E::kSyntax},          // overlong
      {"{\"a\":\"\xE0\x80\xAF\"}", E::kSyntax},      // overlong
      {"{\"a\":\"\xF0\x80\x80\xAF\"}", E::kSyntax},  // overlong
      {"{\"a\":\"\xED\xA0\x80\"}", E::kSyntax},      // UTF-16 surrogate
      {"{\"a\":\"\xF4\x90\x80\x80\"}", E::kSyntax},  // above U+10FFFF
      {"{\"a\":\"\xF5\x80\x80\x80\"}", E::kSyntax},
      {"{\"a\":\"\x80\"}", E::kSyntax},      // lone continuation byte
      {"{\"a\":\"\xE2\x82\"}", E::kSyntax},  // truncated sequence
      {"{\"a\":\"\xE2\x82", E::kSyntax},
      {"{\"a\":\"\xFF\"}", E::kSyntax},
      {"{\"\xC3\":1}", E::kSyntax},
      {R"({"a":"abc)", E::kSyntax},
      {R"({"a":"abc\)", E::kSyntax},
      {R"({"a":"\u00)", E::kSyntax},
      {"\xEF\xBB\xBF{}", E::kSyntax},  // byte order mark
      {"{} x", E::kSyntax},
      {"{}{}", E::kSyntax},
      {"{},", E::kSyntax},
      {std::string("{}\0", 3), E::kSyntax},
      {std::string("{}\0garbage", 10), E::kSyntax},
      {std::string("{\"a\":1}\0{", 9), E::kSyntax},
      {"{\f}", E::kSyntax},
      {"{\v}", E::kSyntax},
      {"{\xC2\xA0}", E::kSyntax},  // no-break space
      {"{/*c*/}", E::kSyntax},
      {"{} // c", E::kSyntax},
      {Nested(40, '[', ']'), E::kTooDeep},
      // Valid JSON, not an object.
      {"[]", E::kNotObject},
      {R"(["HS256"])", E::kNotObject},
      {R"("x")", E::kNotObject},
      {"1", E::kNotObject},
      {" null ", E::kNotObject},
      {"true", E::kNotObject},
      // Repeated names, compared after decoding.
      {R"({"a":1,"a":2})", E::kDuplicateName},
      {R"({"a":1,"\u0061":2})", E::kDuplicateName},
      {R"({"\/":1,"/":2})", E::kDuplicateName},
      {R"({"\ud83d\ude00":1,"\uD83D\uDE00":2})", E::kDuplicateName},
      {R"({"x":{"b":1,"b":2}})", E::kDuplicateName},
      {R"({"x":[{"b":1,"c":{"d":1,"d":1}}]})", E::kDuplicateName},
      {ManyMembers(40, true), E::kDuplicateName},
      {R"({"x":{)" + ManyMembers(40, true).substr(1) + "}", E::kDuplicateName},
      // Depth: the top-level object is level 1.
      {Nested(33, '[', ']'), E::kTooDeep},
  };
  // 32 and 33 levels of objects that are JSON.
  for (int levels : {32, 33}) {
    std::string text;
    for (int i = 0; i < levels; ++i) text += "{\"k\":";
    text += "1";
    for (int i = 0; i < levels; ++i) text += "}";
    cases.push_back({text, levels <= kMaxJsonDepth ? E::kNone : E::kTooDeep});
  }
  return cases;
}

const char* ErrorName(JsonError error) {
  switch (error) {
    case JsonError::kNone:
      return "none";
    case JsonError::kSyntax:
      return "syntax";
    case JsonError::kTooDeep:
      return "too deep";
    case JsonError::kDuplicateName:
      return "duplicate name";
    case JsonError::kNotObject:
      return "not an object";
  }
  return "?";
}

TEST(JsonObjectTest, EveryRuleOnTheCorpus) {
  for (const Case& c : Corpus()) {
    JsonObject object;
    const absl::Status status = object.Parse(c.text, "doc");
    EXPECT_EQ(ErrorName(object.error()), std::string(ErrorName(c.error)))
        << c.text << " -> " << status;
    EXPECT_EQ(status.ok(), c.error == JsonError::kNone) << c.text;
    if (!status.ok()) {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_EQ(status.message().substr(0, 5), "doc: ") << status;
    }
  }
}

TEST(JsonObjectTest, MessagesNameTheProblem) {
  JsonObject object;
  EXPECT_EQ(object.Parse(R"({"a":"\q"})", "header").message(),
            "header: invalid JSON (invalid escape at byte 6)");
  EXPECT_EQ(object.Parse("{\"a\":1} x", "header").message(),
            "header: invalid JSON (unexpected text after the value at byte 8)");
  EXPECT_EQ(object.error_offset(), 8u);
  EXPECT_EQ(object.Parse(R"({"a":1,"a":1})", "payload").message(),
            "payload: duplicate member name");
  EXPECT_EQ(object.Parse("[]", "payload").message(),
            "payload: not a JSON object");
  EXPECT_EQ(object.Parse(Nested(40, '[', ']'), "payload").message(),
            "payload: nested deeper than 32");
}

TEST(JsonObjectTest, MembersAreDecodedSortedAndRaw) {
  const std::string text =
      R"({ "sub" : "u\u0031" , "\u0061ud":[ "x" , 1 ], "exp":17e2,)"
      R"( "é":{ "k" : null }, "b":true })";
  JsonObject object;
  ASSERT_TRUE(object.Parse(text, "doc").ok());
  ASSERT_EQ(object.members().size(), 5u);
  const char* names[] = {"aud", "b", "exp", "sub", "\xC3\xA9"};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(object.members()[i].name, names[i]);
  const JsonMember* aud = object.Find("aud");
  ASSERT_NE(aud, nullptr);
  EXPECT_EQ(aud->value.kind, JsonKind::kArray);
  EXPECT_EQ(aud->value.text, R"([ "x" , 1 ])");
  EXPECT_EQ(object.Find("sub")->value.text, R"("u\u0031")");
  EXPECT_EQ(object.Find("exp")->value.kind, JsonKind::kNumber);
  EXPECT_EQ(object.Find("\xC3\xA9")->value.text, R"({ "k" : null })");
  EXPECT_EQ(object.Find("b")->value.kind, JsonKind::kTrue);
  EXPECT_EQ(object.Find("\\u0061ud"), nullptr);
  EXPECT_EQ(object.Find("au"), nullptr);

  absl::InlinedVector<JsonValue, 8> elements;
  JsonArrayElements(aud->value.text, elements);
  ASSERT_EQ(elements.size(), 2u);
  EXPECT_EQ(elements[0].kind, JsonKind::kString);
  EXPECT_EQ(elements[0].text, "\"x\"");
  EXPECT_EQ(elements[1].kind, JsonKind::kNumber);
  std::string decoded;
  AppendJsonString(object.Find("sub")->value.text, decoded);
  EXPECT_EQ(decoded, "u1");
  EXPECT_EQ(JsonNumber(object.Find("exp")->value.text), 1700.0);
}

TEST(JsonObjectTest, ManyMembersUseTheSortedLookup) {
  JsonObject object;
  const std::string many = ManyMembers(100, false);  // outlives the views
  ASSERT_TRUE(object.Parse(many, "doc").ok());
  ASSERT_EQ(object.members().size(), 101u);
  ASSERT_NE(object.Find("m57"), nullptr);
  EXPECT_EQ(object.Find("m57")->value.text, "57");
  EXPECT_NE(object.Find("last"), nullptr);
  EXPECT_EQ(object.Find("m100"), nullptr);
  // An escaped name with many members (decoded storage must stay put).
  std::string text = "{";
  for (int i = 0; i < 50; ++i) {
    text += "\"\\u0065" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  }
  text += "\"z\":0}";
  ASSERT_TRUE(object.Parse(text, "doc").ok());
  ASSERT_NE(object.Find("e42"), nullptr);
  EXPECT_EQ(object.Find("e42")->value.text, "42");
  EXPECT_EQ(object.Find("e0")->value.text, "0");
}

TEST(JsonValueTest, KindsAndNumbers) {
  EXPECT_EQ(JsonValueKind(R"( "a" )"), JsonKind::kString);
  EXPECT_EQ(JsonValueKind("-1.5e3"), JsonKind::kNumber);
  EXPECT_EQ(JsonValueKind("[1,{}]"), JsonKind::kArray);
  EXPECT_EQ(JsonValueKind("null"), JsonKind::kNull);
  EXPECT_EQ(JsonValueKind("false"), JsonKind::kFalse);
  EXPECT_EQ(JsonValueKind(R"({"a":1,"a":2})"), std::nullopt);
  EXPECT_EQ(JsonValueKind("\"a\" \"b\""), std::nullopt);
  EXPECT_EQ(JsonValueKind(""), std::nullopt);
  EXPECT_EQ(JsonNumber("-1.5e3"), -1500.0);
  EXPECT_EQ(JsonNumber("1700000000"), 1700000000.0);
  EXPECT_EQ(JsonNumber("-0"), 0.0);
  EXPECT_EQ(JsonNumber("9007199254740993"), 9007199254740992.0);
  EXPECT_EQ(JsonNumber("1e-400"), 0.0);
  EXPECT_EQ(JsonNumber("4.9e-324"), 4.9e-324);
  EXPECT_EQ(JsonNumber("0.1"), 0.1);
}

TEST(CompactJsonTest, NormalisesWhitespaceAndEscapesOnly) {
  const auto compact = [](const std::string& value) {
    EXPECT_TRUE(JsonValueKind(value).has_value()) << value;
    std::string out;
    AppendCompactJson(value, out);
    return out;
  };
  EXPECT_EQ(compact(" [ 1 , 2.50 , 1E3 , -0 , true , null ] "),
            "[1,2.50,1E3,-0,true,null]");
  EXPECT_EQ(compact("{ \"b\" : 1 ,\n\t\"a\" : { } }"), R"({"b":1,"a":{}})");
  EXPECT_EQ(compact("\"a b\""), "\"a b\"");
  EXPECT_EQ(compact(R"("\u0041\/\"\\")"), R"("A/\"\\")");
  EXPECT_EQ(compact(R"("\b\f\n\r\t\u0008\u000C\u000a\u000D\u0009")"),
            R"("\b\f\n\r\t\b\f\n\r\t")");
  EXPECT_EQ(compact(R"("\u0000\u001F\u001f\u007F")"),
            "\"\\u0000\\u001f\\u001f\x7F\"");
  EXPECT_EQ(compact(R"("\u00e9\u20AC\ud83d\ude00")"),
            "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"");
  EXPECT_EQ(compact("\"\xC3\xA9 \x7F\""), "\"\xC3\xA9 \x7F\"");
  EXPECT_EQ(compact(R"({ "\u006b" : [ "a\u0020b" ] })"), R"({"k":["a b"]})");
  EXPECT_EQ(compact("12345678901234567890123"), "12345678901234567890123");
}

TEST(JsonDifferentialTest, AgreesWithNlohmannOnTheCorpus) {
  for (const Case& c : Corpus()) {
    EXPECT_EQ(security_test::CompareWithNlohmann(c.text), "") << c.text;
  }
}

// Deterministic mutations of the corpus: byte flips, insertions of
// structural or tricky bytes, deletions and splices.
TEST(JsonDifferentialTest, AgreesWithNlohmannOnMutations) {
  const std::vector<Case> corpus = Corpus();
  const std::string alphabet =
      std::string("{}[]:,\"\\/ \t\n\r0123456789-+.eEuabfnrtlsx") +
      "\xC3\xA9\xED\xA0\x80\xF0\x9F\x98\x80\xEF\xBB\xBF" + std::string(1, '\0');
  std::mt19937 rng(20240601);
  int accepted = 0;
  int compared = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text = corpus[rng() % corpus.size()].text;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = text.empty() ? 0 : rng() % (text.size() + 1);
      switch (rng() % 4) {
        case 0:
          if (at < text.size()) text[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          text.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 2:
          if (at < text.size()) text.erase(at, 1 + rng() % 3);
          break;
        default: {
          const std::string& other = corpus[rng() % corpus.size()].text;
          const std::size_t from = rng() % (other.size() + 1);
          text.insert(at, other.substr(from, rng() % 12));
        }
      }
    }
    const std::string diff = security_test::CompareWithNlohmann(text);
    ASSERT_EQ(diff, "") << testing::PrintToString(text);
    JsonObject object;
    if (object.Parse(text, "doc").ok()) ++accepted;
    ++compared;
  }
  // The mutations must exercise both sides.
  EXPECT_GT(accepted, 500);
  EXPECT_LT(accepted, compared - 500);
}

}  // namespace
}  // namespace keel::security_internal
