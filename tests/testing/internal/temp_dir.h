// testing/internal/temp_dir.h
//
// A scratch directory that a test server owns for its whole life (data,
// sockets, logs) and that is removed with everything inside it when the owner
// goes away.
//
// A test binary that crashes never runs its destructors, so every directory
// carries the creating process id in its name ("keel-redis-<pid>-XXXXXX").
// Creating a directory first sweeps directories with the same prefix whose
// process is gone: a crashed run is cleaned up by the next one. (Processes
// in another PID namespace sharing the same /tmp would look dead; give such
// containers their own TMPDIR.)
//
// Example:
//   KEEL_ASSIGN_OR_RETURN(std::unique_ptr<TempDir> dir,
//                         TempDir::Create("keel-redis"));
//   std::string log = dir->path() + "/server.log";
//
// Thread safety: thread-compatible (no shared state besides the file system).

#ifndef KEEL_TESTING_INTERNAL_TEMP_DIR_H_
#define KEEL_TESTING_INTERNAL_TEMP_DIR_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace keel::testing_internal {

// An owned directory under $TMPDIR (or /tmp), removed recursively on
// destruction.
class TempDir {
 public:
  // Creates "<base>/<prefix>-<pid>-XXXXXX" with mode 0700 after removing stale
  // directories of dead processes with the same prefix. Fails with
  // kInvalidArgument for a prefix that is empty or contains '/', and kInternal
  // when mkdtemp fails (the message names the path and errno).
  static absl::StatusOr<std::unique_ptr<TempDir>> Create(
      const std::string& prefix);

  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Absolute path without a trailing slash.
  const std::string& path() const { return path_; }

  // Gives the directory (not its contents) to `uid`/`gid`, so that a server
  // run as another system user can create files in it.
  absl::Status ChownTo(uid_t uid, gid_t gid) const;

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}

  std::string path_;
};

}  // namespace keel::testing_internal

#endif  // KEEL_TESTING_INTERNAL_TEMP_DIR_H_
