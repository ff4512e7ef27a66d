#include "testing/internal/temp_dir.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace keel::testing_internal {
namespace {

std::string BaseDir() {
  const char* tmpdir = std::getenv("TMPDIR");
  if (tmpdir != nullptr && tmpdir[0] == '/') return tmpdir;
  return "/tmp";
}

// True if `name` is "<prefix>-<pid>-<suffix>" for a process that no longer
// exists. EPERM means the process exists under another user: keep it.
bool IsStale(std::string_view name, const std::string& prefix) {
  if (name.size() <= prefix.size() + 1 ||
      name.substr(0, prefix.size()) != prefix || name[prefix.size()] != '-') {
    return false;
  }
  std::string_view rest = name.substr(prefix.size() + 1);
  const size_t dash = rest.find('-');
  if (dash == std::string_view::npos) return false;
  const std::string_view digits = rest.substr(0, dash);
  int pid = 0;
  if (!absl::SimpleAtoi(absl::string_view(digits.data(), digits.size()),
                        &pid) ||
      pid <= 0) {
    return false;
  }
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

void SweepStale(const std::string& base, const std::string& prefix) {
  DIR* dir = ::opendir(base.c_str());
  if (dir == nullptr) return;
  std::vector<std::string> stale;
  while (const dirent* entry = ::readdir(dir)) {
    if (IsStale(entry->d_name, prefix)) stale.push_back(entry->d_name);
  }
  ::closedir(dir);
  for (const std::string& name : stale) {
    std::error_code ignored;  // Another run may be sweeping the same entry.
    std::filesystem::remove_all(base + "/" + name, ignored);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<TempDir>> TempDir::Create(
    const std::string& prefix) {
  if (prefix.empty() || prefix.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TempDir prefix must be a non-empty file name, got '", prefix, "'"));
  }
  const std::string base = BaseDir();
  SweepStale(base, prefix);
  std::string path =
      absl::StrCat(base, "/", prefix, "-", ::getpid(), "-XXXXXX");
  if (::mkdtemp(path.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("mkdtemp(", path, ") failed: ", std::strerror(errno)));
  }
  return std::unique_ptr<TempDir>(new TempDir(std::move(path)));
}

TempDir::~TempDir() {
  std::error_code ignored;  // A destructor has nobody to report to.
  std::filesystem::remove_all(path_, ignored);
}

absl::Status TempDir::ChownTo(uid_t uid, gid_t gid) const {
  if (::chown(path_.c_str(), uid, gid) != 0) {
    return absl::InternalError(
        absl::StrCat("chown(", path_, ", ", uid, ":", gid,
                     ") failed: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace keel::testing_internal
