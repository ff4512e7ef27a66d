// keel-flags: checks flagd flag files and evaluates flags, for use in CI
// before a flag file is deployed.
//
//   keel-flags validate FILE...
//       Exit 0 if every file is valid; otherwise prints one line per problem
//       ("FILE: flag 'x': ...") and exits 1.
//   keel-flags eval FILE FLAG [--context JSON] [--type TYPE]
//       Prints the evaluation details as JSON. TYPE is boolean, string,
//       integer, double or object; without it the flag's variant type is used.
//       Exit 0 on success, 1 if the evaluation reported an error.
//   Exit 2: usage error, unreadable or invalid file, invalid context.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "keel/flags/evaluation.h"
#include "keel/flags/flag_set.h"
#include "keel/flags/value.h"

namespace {

using keel::flags::FlagType;
using keel::flags::Value;

constexpr char kUsage[] =
    "usage: keel-flags validate FILE...\n"
    "       keel-flags eval FILE FLAG [--context JSON] [--type "
    "boolean|string|integer|double|object]\n";

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream buffer;
  buffer << in.rdbuf();
  *out = buffer.str();
  return true;
}

int Validate(const std::vector<std::string>& files) {
  int exit_code = 0;
  for (const std::string& file : files) {
    std::string text;
    if (!ReadFile(file, &text)) {
      std::cerr << file << ": cannot read file\n";
      exit_code = 2;
      continue;
    }
    const auto problems = keel::flags::FlagSet::Validate(text);
    for (const auto& problem : problems)
      std::cout << file << ": " << problem << "\n";
    if (!problems.empty() && exit_code == 0) exit_code = 1;
  }
  return exit_code;
}

bool ParseType(std::string_view name, FlagType* type) {
  constexpr FlagType kTypes[] = {FlagType::kBoolean, FlagType::kString,
                                 FlagType::kInteger, FlagType::kDouble,
                                 FlagType::kObject};
  for (FlagType t : kTypes) {
    if (keel::flags::FlagTypeName(t) == name) {
      *type = t;
      return true;
    }
  }
  return false;
}

int Eval(const std::vector<std::string>& args) {
  if (args.size() < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string& file = args[0];
  const std::string& flag = args[1];
  std::string context_json = "{}";
  bool have_type = false;
  FlagType type = FlagType::kBoolean;
  for (std::size_t i = 2; i < args.size(); ++i) {
    if (args[i] == "--context" && i + 1 < args.size()) {
      context_json = args[++i];
    } else if (args[i] == "--type" && i + 1 < args.size()) {
      if (!ParseType(args[++i], &type)) {
        std::cerr << "unknown type '" << args[i] << "'\n" << kUsage;
        return 2;
      }
      have_type = true;
    } else {
      std::cerr << "unexpected argument '" << args[i] << "'\n" << kUsage;
      return 2;
    }
  }
  std::string text;
  if (!ReadFile(file, &text)) {
    std::cerr << file << ": cannot read file\n";
    return 2;
  }
  auto set = keel::flags::FlagSet::Parse(text);
  if (!set.ok()) {
    std::cerr << file << ": " << set.status().message() << "\n";
    return 2;
  }
  auto context = keel::flags::EvaluationContext::FromJson(context_json);
  if (!context.ok()) {
    std::cerr << context.status().message() << "\n";
    return 2;
  }
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count();
  keel::flags::Resolution r;
  if (have_type) {
    r = (*set)->Resolve(flag, type, *context, now);
  } else {
    // The first type the flag's variants do not reject.
    for (FlagType t : {FlagType::kBoolean, FlagType::kString, FlagType::kDouble,
                       FlagType::kObject}) {
      r = (*set)->Resolve(flag, t, *context, now);
      type = t;
      if (r.error_code != keel::flags::ErrorCode::kTypeMismatch) break;
    }
  }
  Value out = Value::Object();
  out.Set("flagKey", flag);
  out.Set("type", keel::flags::FlagTypeName(type));
  out.Set("value", r.value != nullptr ? *r.value : Value());
  out.Set("variant", r.value != nullptr ? Value(r.variant) : Value());
  out.Set("reason", keel::flags::ReasonName(r.reason));
  if (r.error_code != keel::flags::ErrorCode::kNone) {
    out.Set("errorCode", keel::flags::ErrorCodeName(r.error_code));
    out.Set("errorMessage", r.error_message);
  }
  if (r.metadata != nullptr && *r.metadata != nullptr) {
    out.Set("flagMetadata", **r.metadata);
  }
  std::cout << out.ToJson() << "\n";
  return r.error_code == keel::flags::ErrorCode::kNone ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "validate" && !args.empty()) return Validate(args);
  if (command == "eval") return Eval(args);
  std::cerr << kUsage;
  return 2;
}
