#include "testing/internal/child_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace keel::testing_internal {
namespace {

constexpr std::chrono::milliseconds kPollInterval(5);

// What the child reports through the exec pipe when a step before exec fails.
struct ChildFailure {
  int step;
  int error;
};
enum ChildStep : int {
  kStepSetGroups,
  kStepSetGid,
  kStepSetUid,
  kStepDeathSignal,
  kStepChdir,
  kStepExec,
};

const char* StepName(int step) {
  switch (step) {
    case kStepSetGroups:
      return "setgroups";
    case kStepSetGid:
      return "setgid";
    case kStepSetUid:
      return "setuid";
    case kStepDeathSignal:
      return "prctl(PR_SET_PDEATHSIG)";
    case kStepChdir:
      return "chdir";
    default:
      return "exec";
  }
}

// Only async-signal-safe calls from here on: the parent may be
// multi-threaded, so the forked child may not allocate.
[[noreturn]] void FailInChild(int pipe_fd, int step) {
  const ChildFailure failure{step, errno};
  ssize_t ignored = ::write(pipe_fd, &failure, sizeof(failure));
  (void)ignored;
  ::_exit(127);
}

[[noreturn]] void RunChild(const SpawnOptions& options, char* const* argv,
                           int log_fd, int null_fd, int pipe_fd, pid_t parent) {
  // The test process may block or ignore signals (SIGPIPE for hiredis); the
  // server must see SIGTERM/SIGINT/SIGPIPE with their default meaning.
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < 32; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  }
  ::dup2(null_fd, STDIN_FILENO);
  ::dup2(log_fd, STDOUT_FILENO);
  ::dup2(log_fd, STDERR_FILENO);
  if (options.run_as.has_value()) {
    const gid_t gid = options.run_as->gid;
    if (::setgroups(1, &gid) != 0) FailInChild(pipe_fd, kStepSetGroups);
    if (::setgid(gid) != 0) FailInChild(pipe_fd, kStepSetGid);
    if (::setuid(options.run_as->uid) != 0) FailInChild(pipe_fd, kStepSetUid);
  }
  // After the user switch, which resets the death signal.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
    FailInChild(pipe_fd, kStepDeathSignal);
  }
  // The parent may have died before prctl took effect.
  if (::getppid() != parent) ::_exit(127);
  if (!options.working_dir.empty() &&
      ::chdir(options.working_dir.c_str()) != 0) {
    FailInChild(pipe_fd, kStepChdir);
  }
  ::execv(argv[0], argv);
  FailInChild(pipe_fd, kStepExec);
}

struct ProcStat {
  char state = '?';
  pid_t ppid = 0;
};

// Reads state and parent pid from /proc/<pid>/stat. The command name is in
// parentheses and may itself contain spaces or ')', so parse after the last
// ')'.
std::optional<ProcStat> ReadProcStat(pid_t pid) {
  std::ifstream file(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!file || !std::getline(file, line)) return std::nullopt;
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(paren + 1));
  ProcStat stat;
  if (!(rest >> stat.state >> stat.ppid)) return std::nullopt;
  return stat;
}

bool IsLive(pid_t pid) {
  const std::optional<ProcStat> stat = ReadProcStat(pid);
  return stat.has_value() && stat->state != 'Z' && stat->state != 'X';
}

// Every live descendant of `root`, parents before children.
std::vector<pid_t> ListDescendants(pid_t root) {
  std::multimap<pid_t, pid_t> children;
  if (DIR* dir = ::opendir("/proc")) {
    while (const dirent* entry = ::readdir(dir)) {
      int pid = 0;
      if (!absl::SimpleAtoi(entry->d_name, &pid)) continue;
      const std::optional<ProcStat> stat = ReadProcStat(pid);
      if (stat.has_value() && stat->state != 'Z' && stat->state != 'X') {
        children.emplace(stat->ppid, pid);
      }
    }
    ::closedir(dir);
  }
  std::vector<pid_t> result;
  std::vector<pid_t> frontier = {root};
  while (!frontier.empty()) {
    const pid_t parent = frontier.back();
    frontier.pop_back();
    auto range = children.equal_range(parent);
    for (auto it = range.first; it != range.second; ++it) {
      result.push_back(it->second);
      frontier.push_back(it->second);
    }
  }
  return result;
}

// Inodes of IPv4 sockets listening on `port` on 127.0.0.1 or on every
// address (a server configured to bind 0.0.0.0), from /proc/net/tcp lines
// "sl local_address rem_address st ... inode".
std::vector<std::string> ListenerInodes(int port) {
  const std::string hex_port =
      absl::AsciiStrToUpper(absl::StrCat(absl::Hex(port, absl::kZeroPad4)));
  const std::string loopback = absl::StrCat("0100007F:", hex_port);
  const std::string any = absl::StrCat("00000000:", hex_port);
  constexpr const char* kListen = "0A";
  std::vector<std::string> inodes;
  std::ifstream file("/proc/net/tcp");
  std::string line;
  std::getline(file, line);  // Header.
  while (std::getline(file, line)) {
    std::istringstream fields(line);
    std::string slot, local_address, remote_address, state, queues, timer,
        retransmits, uid, timeout, inode;
    if (fields >> slot >> local_address >> remote_address >> state >> queues >>
            timer >> retransmits >> uid >> timeout >> inode &&
        (local_address == loopback || local_address == any) &&
        state == kListen) {
      inodes.push_back(inode);
    }
  }
  return inodes;
}

}  // namespace

absl::StatusOr<SystemUser> LookupSystemUser(const std::string& name) {
  passwd entry;
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  const int error =
      ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (error != 0) {
    return absl::InternalError(
        absl::StrCat("getpwnam_r(", name, ") failed: ", std::strerror(error)));
  }
  if (found == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("system user '", name, "' does not exist"));
  }
  SystemUser user;
  user.name = name;
  user.uid = entry.pw_uid;
  user.gid = entry.pw_gid;
  return user;
}

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return absl::StrCat("exit code ", WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    return absl::StrCat("killed by signal ", sig, " (", ::strsignal(sig), ")");
  }
  return absl::StrCat("wait status ", wait_status);
}

int64_t FileSize(const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) return 0;
  return static_cast<int64_t>(info.st_size);
}

std::string ReadFileTail(const std::string& path, int64_t from_offset,
                         size_t max_bytes) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::StrCat("(cannot read ", path, ")");
  const int64_t size = FileSize(path);
  int64_t start = size - static_cast<int64_t>(max_bytes);
  if (start < from_offset) start = from_offset;
  if (start < 0) start = 0;
  if (start > size) start = size;
  file.seekg(start);
  std::string tail(static_cast<size_t>(size - start), '\0');
  file.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  tail.resize(static_cast<size_t>(file.gcount()));
  return tail;
}

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(
    const SpawnOptions& options) {
  if (options.argv.empty() || options.argv[0].empty()) {
    return absl::InvalidArgumentError("SpawnOptions.argv must name a program");
  }
  if (options.log_path.empty()) {
    return absl::InvalidArgumentError("SpawnOptions.log_path must be set");
  }
  const int log_fd = ::open(options.log_path.c_str(),
                            O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(absl::StrCat("cannot open ", options.log_path,
                                            ": ", std::strerror(errno)));
  }
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int pipe_fds[2] = {-1, -1};
  if (null_fd < 0 || ::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    const int error = errno;
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return absl::InternalError(absl::StrCat(
        "cannot set up the child's descriptors: ", std::strerror(error)));
  }
  std::vector<char*> argv;
  argv.reserve(options.argv.size() + 1);
  for (const std::string& arg : options.argv) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    RunChild(options, argv.data(), log_fd, null_fd, pipe_fds[1], parent);
  }
  const int fork_error = errno;
  ::close(pipe_fds[1]);
  ::close(log_fd);
  ::close(null_fd);
  if (pid < 0) {
    ::close(pipe_fds[0]);
    return absl::InternalError(
        absl::StrCat("fork() failed: ", std::strerror(fork_error)));
  }
  // The pipe closes on a successful exec; a failing child writes first.
  ChildFailure failure{0, 0};
  ssize_t got;
  do {
    got = ::read(pipe_fds[0], &failure, sizeof(failure));
  } while (got < 0 && errno == EINTR);
  ::close(pipe_fds[0]);
  if (got == static_cast<ssize_t>(sizeof(failure))) {
    int ignored;
    ::waitpid(pid, &ignored, 0);
    std::string who = options.argv[0];
    if (options.run_as.has_value()) {
      absl::StrAppend(&who, " (as user ", options.run_as->name, ")");
    }
    return absl::FailedPreconditionError(
        absl::StrCat("cannot start ", who, ": ", StepName(failure.step),
                     " failed: ", std::strerror(failure.error)));
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid));
}

ChildProcess::~ChildProcess() {
  // Best effort: a destructor cannot report a survivor.
  (void)KillTree(std::chrono::seconds(5));
}

bool ChildProcess::HasExited() {
  if (wait_status_.has_value()) return true;
  int status = 0;
  const pid_t result = ::waitpid(pid_, &status, WNOHANG);
  if (result == pid_) {
    wait_status_ = status;
  } else if (result < 0 && errno == ECHILD) {
    // Someone else reaped it (e.g. a SIGCHLD handler set to SIG_IGN).
    wait_status_ = 0;
  }
  return wait_status_.has_value();
}

void ChildProcess::Signal(int signal) {
  if (!HasExited()) ::kill(pid_, signal);
}

void ChildProcess::SignalTree(int signal) {
  if (HasExited()) return;
  if (signal == SIGSTOP || signal == SIGKILL) {
    ::kill(pid_, SIGSTOP);  // Freeze the root so it forks nothing new.
  }
  const std::vector<pid_t> descendants = ListDescendants(pid_);
  if (signal == SIGCONT) {
    for (pid_t pid : descendants) ::kill(pid, SIGCONT);
    ::kill(pid_, SIGCONT);
    return;
  }
  for (pid_t pid : descendants) ::kill(pid, signal);
  ::kill(pid_, signal);
}

bool ChildProcess::ListensOnLoopbackPort(int port) const {
  const std::vector<std::string> inodes = ListenerInodes(port);
  if (inodes.empty()) return false;
  const std::string fd_dir = absl::StrCat("/proc/", pid_, "/fd");
  DIR* dir = ::opendir(fd_dir.c_str());
  if (dir == nullptr) return false;
  bool found = false;
  while (const dirent* entry = ::readdir(dir)) {
    char target[64];
    const std::string link = absl::StrCat(fd_dir, "/", entry->d_name);
    const ssize_t size = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (size <= 0) continue;
    const std::string socket(target, static_cast<size_t>(size));
    for (const std::string& inode : inodes) {
      if (socket == absl::StrCat("socket:[", inode, "]")) found = true;
    }
  }
  ::closedir(dir);
  return found;
}

bool ChildProcess::WaitForExit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!HasExited()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
  return true;
}

absl::Status ChildProcess::KillTree(std::chrono::milliseconds timeout) {
  std::vector<pid_t> descendants;
  if (!HasExited()) {
    ::kill(pid_, SIGSTOP);
    descendants = ListDescendants(pid_);
    for (pid_t pid : descendants) ::kill(pid, SIGKILL);
    ::kill(pid_, SIGKILL);
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!WaitForExit(timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat("process ", pid_, " survived SIGKILL"));
  }
  // Orphaned descendants are reparented, so they cannot be waited for.
  for (pid_t pid : descendants) {
    while (IsLive(pid)) {
      if (std::chrono::steady_clock::now() >= deadline) {
        return absl::DeadlineExceededError(absl::StrCat(
            "process ", pid, " (child of ", pid_, ") survived SIGKILL"));
      }
      std::this_thread::sleep_for(kPollInterval);
    }
  }
  return absl::OkStatus();
}

absl::Status RunToCompletion(const SpawnOptions& options,
                             std::chrono::milliseconds timeout) {
  const int64_t offset = FileSize(options.log_path);
  auto child = ChildProcess::Spawn(options);
  if (!child.ok()) return child.status();
  constexpr size_t kTailBytes = 4096;
  if (!(*child)->WaitForExit(timeout)) {
    (void)(*child)->KillTree(std::chrono::seconds(5));
    return absl::DeadlineExceededError(
        absl::StrCat(options.argv[0], " did not finish within ",
                     timeout.count(), " ms; log tail:\n",
                     ReadFileTail(options.log_path, offset, kTailBytes)));
  }
  const int status = *(*child)->wait_status();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat(
        options.argv[0], " failed (", DescribeWaitStatus(status),
        "); log tail:\n", ReadFileTail(options.log_path, offset, kTailBytes)));
  }
  return absl::OkStatus();
}

}  // namespace keel::testing_internal
