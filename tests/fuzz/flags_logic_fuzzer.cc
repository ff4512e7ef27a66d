// Fuzzes the JSON Logic compiler and evaluator with an arbitrary rule and an
// arbitrary context. The input is a targeting rule, optionally followed by a
// NUL byte and an evaluation context (JSON, or raw bytes used as targeting key
// and attribute). A rule that is one JSON value becomes the targeting of a
// flag whose string variants are named after their values, next to shared
// "$evaluators" it may $ref. Invariants: compiling either succeeds or fails
// with a message; evaluation never crashes, returns a variant whose value is
// its own name (so the result and the variant agree), an error with a
// message, or the default; and it is deterministic.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "keel/flags/evaluation.h"
#include "keel/flags/flag_set.h"
#include "keel/flags/value.h"
#include "nlohmann/json.hpp"

// Declared here because -Wmissing-declarations wants a prior declaration.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using keel::flags::ErrorCode;
using keel::flags::EvaluationContext;
using keel::flags::FlagSet;
using keel::flags::FlagType;
using keel::flags::Reason;
using keel::flags::Resolution;
using keel::flags::Value;

constexpr char kHead[] = R"({
  "$evaluators": {
    "is_admin": {"in": [{"var": "role"}, ["admin", "root"]]},
    "bucket": {"fractional": [["a", 50], ["b", 50]]},
    "new_app": {"sem_ver": [{"var": "version"}, ">=", "2.0.0"]}
  },
  "flags": {
    "f": {
      "state": "ENABLED",
      "variants": {"true": "true", "false": "false", "a": "a", "b": "b",
                   "c": "c", "1": "1", "0": "0", "null": "null", "": ""},
      "defaultVariant": "a",
      "targeting": )";
constexpr char kTail[] = "\n    }\n  }\n}";

void Check(const FlagSet& set, const EvaluationContext& context) {
  for (const std::int64_t now : {std::int64_t{0}, std::int64_t{1700000000}}) {
    const Resolution r = set.Resolve("f", FlagType::kString, context, now);
    if (r.error_code != ErrorCode::kNone) {
      if (r.reason != Reason::kError || r.value != nullptr) std::abort();
      if (r.error_message.empty()) std::abort();
    } else {
      if (r.value == nullptr || !r.value->is_string()) std::abort();
      if (r.value->string_value() != r.variant) std::abort();
      // DEFAULT (targeting returned null) serves the default variant.
      if (r.reason == Reason::kDefault && r.variant != "a") std::abort();
      if (r.reason != Reason::kDefault && r.reason != Reason::kTargetingMatch) {
        std::abort();
      }
    }
    // Asking for another type never changes whether targeting failed.
    const Resolution boolean =
        set.Resolve("f", FlagType::kBoolean, context, now);
    if (r.error_code == ErrorCode::kNone &&
        boolean.error_code != ErrorCode::kTypeMismatch) {
      std::abort();
    }
    const Resolution again = set.Resolve("f", FlagType::kString, context, now);
    if (again.reason != r.reason || again.error_code != r.error_code ||
        again.variant != r.variant) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = input.find('\0');
  const std::string_view rule = input.substr(0, nul);
  const std::string_view context_text = nul == std::string_view::npos
                                            ? std::string_view()
                                            : input.substr(nul + 1);
  // Only a single JSON value may be spliced into the document; the SAX
  // acceptor does not recurse, so hostile nesting reaches FlagSet::Parse.
  if (!nlohmann::json::accept(rule.begin(), rule.end())) return 0;

  std::string document = kHead;
  document.append(rule.data(), rule.size());
  document += kTail;
  const auto set = FlagSet::Parse(document);
  if (!set.ok()) {
    if (set.status().message().empty()) std::abort();
    return 0;
  }
  if ((*set)->flag_count() != 1) std::abort();

  Check(**set, EvaluationContext());
  auto parsed = EvaluationContext::FromJson(context_text);
  if (parsed.ok()) {
    Check(**set, *parsed);
  } else {
    EvaluationContext raw{std::string(context_text)};
    raw.Set("raw", Value(context_text));
    raw.Set("role", Value(context_text));
    raw.Set("version", Value(context_text));
    Check(**set, raw);
  }
  return 0;
}
