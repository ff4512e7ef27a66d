// Fuzzes FlagSet::Parse on arbitrary bytes. The input is a flag-definition
// document, optionally followed by a NUL byte and an evaluation context (JSON,
// or raw bytes used as targeting key and attribute). Invariants: Parse either
// fails with a message (and Validate agrees) or returns a set in which every
// flag resolves, for every type and context, to a consistent result:
// a value of the requested type named by one of the flag's variants, or the
// caller's default with a reason that says why; the same inputs resolve the
// same way twice.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "keel/flags/evaluation.h"
#include "keel/flags/flag_set.h"
#include "keel/flags/value.h"

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

bool TypeMatches(const Value& value, FlagType type) {
  switch (type) {
    case FlagType::kBoolean:
      return value.is_bool();
    case FlagType::kString:
      return value.is_string();
    case FlagType::kInteger:
      return value.is_number() &&
             value.number_value() ==
                 static_cast<double>(
                     static_cast<std::int64_t>(value.number_value()));
    case FlagType::kDouble:
      return value.is_number();
    case FlagType::kObject:
      return value.is_object() || value.is_array();
  }
  return false;
}

void CheckResolution(const FlagSet& set, int index, FlagType type,
                     const EvaluationContext& context) {
  const std::string_view key = set.flag_key(index);
  const Resolution r = set.Resolve(key, type, context, 1700000000);
  if (r.flag_index != index) std::abort();
  if (r.metadata == nullptr || *r.metadata == nullptr) std::abort();
  if (r.error_code != ErrorCode::kNone) {
    if (r.reason != Reason::kError || r.value != nullptr) std::abort();
    if (r.error_message.empty()) std::abort();
    if (r.error_code == ErrorCode::kFlagNotFound) std::abort();
  } else if (r.value == nullptr) {
    if (r.reason != Reason::kDisabled && r.reason != Reason::kDefault) {
      std::abort();
    }
  } else {
    if (r.reason != Reason::kStatic && r.reason != Reason::kDefault &&
        r.reason != Reason::kTargetingMatch) {
      std::abort();
    }
    if (r.variant_index < 0 || r.variant_index >= set.variant_count(index)) {
      std::abort();
    }
    if (set.variant_name(index, r.variant_index) != r.variant) std::abort();
    if (!TypeMatches(*r.value, type)) std::abort();
  }
  // Evaluation is a pure function of flag, context and timestamp.
  const Resolution again = set.Resolve(key, type, context, 1700000000);
  if (again.reason != r.reason || again.error_code != r.error_code ||
      again.variant_index != r.variant_index) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = input.find('\0');
  const std::string_view document = input.substr(0, nul);
  const std::string_view context_text = nul == std::string_view::npos
                                            ? std::string_view()
                                            : input.substr(nul + 1);

  const auto set = FlagSet::Parse(document);
  const std::vector<std::string> problems = FlagSet::Validate(document);
  if (!set.ok()) {
    if (set.status().message().empty() || problems.empty()) std::abort();
    return 0;
  }
  if (!problems.empty()) std::abort();

  std::vector<EvaluationContext> contexts(1);  // the empty context
  auto parsed = EvaluationContext::FromJson(context_text);
  if (parsed.ok()) {
    contexts.push_back(*std::move(parsed));
  } else {
    EvaluationContext raw{std::string(context_text)};
    raw.Set("raw", Value(context_text));
    contexts.push_back(std::move(raw));
  }

  const FlagSet& flags = **set;
  if (flags.metadata() == nullptr || !flags.metadata()->is_object()) {
    std::abort();
  }
  for (int i = 0; i < flags.flag_count(); ++i) {
    if (flags.FindFlag(flags.flag_key(i)) != i) std::abort();
    if (flags.variant_count(i) <= 0) std::abort();
    for (const EvaluationContext& context : contexts) {
      for (FlagType type :
           {FlagType::kBoolean, FlagType::kString, FlagType::kInteger,
            FlagType::kDouble, FlagType::kObject}) {
        CheckResolution(flags, i, type, context);
      }
    }
  }
  const Resolution missing =
      flags.Resolve("\x01no such flag", FlagType::kBoolean, contexts.back(), 0);
  if (flags.FindFlag("\x01no such flag") < 0 &&
      (missing.error_code != ErrorCode::kFlagNotFound ||
       missing.value != nullptr)) {
    std::abort();
  }
  return 0;
}
