// flagd's `sem_ver` operator: version parsing and comparison with the
// semantics of flagd's evaluators (node-semver with a lenient front end).

#ifndef KEEL_SRC_FLAGS_SEMVER_H_
#define KEEL_SRC_FLAGS_SEMVER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keel/flags/value.h"

namespace keel::flags_internal {

// A parsed semantic version (build metadata is dropped: it never affects
// precedence).
struct SemVer {
  std::uint64_t major = 0;
  std::uint64_t minor = 0;
  std::uint64_t patch = 0;
  std::vector<std::string> prerelease;
};

// Parses `text` as flagd does: one leading 'v' or 'V' is stripped, then a
// strict SemVer 2.0.0 string is accepted, or a partial "1" / "1.2" that is
// padded with zeros. Anything else (e.g. "1.2.3.4", "latest") is nullopt.
std::optional<SemVer> ParseSemVer(std::string_view text);

// <0, 0, >0 by SemVer 2.0.0 precedence.
int CompareVersions(const SemVer& a, const SemVer& b);

// Evaluates `left op right` for op in = != < <= > >= ^ ~ ('^': same major,
// '~': same major and minor). nullopt if a version does not parse or the
// operator is unknown (the rule then evaluates to null, as in flagd).
std::optional<bool> CompareSemVer(const flags::Value& left, std::string_view op,
                                  const flags::Value& right);

}  // namespace keel::flags_internal

#endif  // KEEL_SRC_FLAGS_SEMVER_H_
