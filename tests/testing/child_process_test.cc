#include "testing/internal/child_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/internal/free_port.h"
#include "testing/internal/temp_dir.h"

namespace keel::testing_internal {
namespace {

using ::testing::HasSubstr;

bool PathExists(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

// The process state letter from /proc ('S', 'T', 'Z', ...), or 0 when gone.
char ProcState(pid_t pid) {
  std::ifstream file(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(file, line)) return 0;
  const size_t paren = line.rfind(')');
  return paren + 2 < line.size() ? line[paren + 2] : 0;
}

bool Gone(pid_t pid) {
  const char state = ProcState(pid);
  return state == 0 || state == 'Z' || state == 'X';
}

// Polls (real time, bounded) until `done` holds; processes outside the test's
// control decide when that is.
template <typename Predicate>
bool Eventually(Predicate done) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Reads a pid the child printed as the first line of its log.
pid_t ReadPid(const std::string& log) {
  pid_t pid = 0;
  EXPECT_TRUE(Eventually([&] {
    std::ifstream file(log);
    std::string line;
    return std::getline(file, line) && absl::SimpleAtoi(line, &pid);
  }));
  return pid;
}

class ChildProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("keel-child-test");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
    log_ = dir_->path() + "/child.log";
  }

  SpawnOptions Shell(const std::string& script) const {
    SpawnOptions options;
    options.argv = {"/bin/sh", "-c", script};
    options.log_path = log_;
    return options;
  }

  std::unique_ptr<TempDir> dir_;
  std::string log_;
};

TEST_F(ChildProcessTest, CapturesOutputAndExitCode) {
  auto child = ChildProcess::Spawn(Shell("echo out; echo err >&2; exit 3"));
  ASSERT_TRUE(child.ok()) << child.status();
  ASSERT_TRUE((*child)->WaitForExit(std::chrono::seconds(10)));
  EXPECT_EQ(DescribeWaitStatus(*(*child)->wait_status()), "exit code 3");
  EXPECT_EQ(ReadFileTail(log_, 0, 100), "out\nerr\n");
  EXPECT_EQ(ReadFileTail(log_, 2, 100), "t\nerr\n");
  EXPECT_EQ(ReadFileTail(log_, 0, 4), "err\n");
}

TEST_F(ChildProcessTest, MissingProgramFailsWithItsName) {
  SpawnOptions options;
  options.argv = {"/nonexistent/program"};
  options.log_path = log_;
  auto child = ChildProcess::Spawn(options);
  EXPECT_TRUE(absl::IsFailedPrecondition(child.status()));
  EXPECT_THAT(child.status().message(), HasSubstr("/nonexistent/program"));
  EXPECT_THAT(child.status().message(), HasSubstr("exec"));
}

TEST_F(ChildProcessTest, RejectsIncompleteOptions) {
  SpawnOptions options;
  options.log_path = log_;
  EXPECT_TRUE(absl::IsInvalidArgument(ChildProcess::Spawn(options).status()));
  options.argv = {"/bin/true"};
  options.log_path.clear();
  EXPECT_TRUE(absl::IsInvalidArgument(ChildProcess::Spawn(options).status()));
}

TEST_F(ChildProcessTest, RunToCompletionReportsFailureWithLogTail) {
  EXPECT_TRUE(RunToCompletion(Shell("exit 0"), std::chrono::seconds(10)).ok());
  const absl::Status failed = RunToCompletion(Shell("echo broken >&2; exit 2"),
                                              std::chrono::seconds(10));
  EXPECT_TRUE(absl::IsInternal(failed)) << failed;
  EXPECT_THAT(failed.message(), HasSubstr("exit code 2"));
  EXPECT_THAT(failed.message(), HasSubstr("broken"));
}

TEST_F(ChildProcessTest, RunToCompletionKillsAProgramThatHangs) {
  const absl::Status hung = RunToCompletion(
      Shell("echo started; exec sleep 60"), std::chrono::milliseconds(300));
  EXPECT_TRUE(absl::IsDeadlineExceeded(hung)) << hung;
}

TEST_F(ChildProcessTest, SignalTreeReachesGrandchildren) {
  auto child = ChildProcess::Spawn(Shell("sleep 60 & echo $!; wait"));
  ASSERT_TRUE(child.ok()) << child.status();
  const pid_t grandchild = ReadPid(log_);
  ASSERT_GT(grandchild, 0);

  (*child)->SignalTree(SIGSTOP);
  EXPECT_TRUE(Eventually([&] { return ProcState(grandchild) == 'T'; }));
  EXPECT_TRUE(Eventually([&] { return ProcState((*child)->pid()) == 'T'; }));
  (*child)->SignalTree(SIGCONT);
  EXPECT_TRUE(Eventually([&] { return ProcState(grandchild) != 'T'; }));

  ASSERT_TRUE((*child)->KillTree(std::chrono::seconds(10)).ok());
  EXPECT_TRUE(Gone(grandchild));
  EXPECT_TRUE((*child)->HasExited());
}

// Spawns `options` from a short-lived intermediate process that then exits
// without cleaning up, as a crashing test binary would; returns the pid of the
// orphaned child.
pid_t SpawnFromDyingParent(const SpawnOptions& options) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return -1;
  const pid_t parent = ::fork();
  if (parent == 0) {
    auto child = ChildProcess::Spawn(options);
    pid_t pid = child.ok() ? (*child)->pid() : -1;
    ssize_t ignored = ::write(pipe_fds[1], &pid, sizeof(pid));
    (void)ignored;
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  pid_t orphan = -1;
  if (parent < 0 ||
      ::read(pipe_fds[0], &orphan, sizeof(orphan)) != sizeof(orphan)) {
    orphan = -1;
  }
  ::close(pipe_fds[0]);
  if (parent > 0) ::waitpid(parent, nullptr, 0);
  return orphan;
}

TEST_F(ChildProcessTest, ChildDiesWithItsParent) {
  const pid_t orphan = SpawnFromDyingParent(Shell("exec sleep 60"));
  ASSERT_GT(orphan, 0);
  EXPECT_TRUE(Eventually([&] { return Gone(orphan); }))
      << "PR_SET_PDEATHSIG did not kill pid " << orphan;
}

// The user switch resets the death signal; it must be set again after it.
TEST_F(ChildProcessTest, ChildRunAsAnotherUserAlsoDiesWithItsParent) {
  if (::geteuid() != 0) GTEST_SKIP() << "switching users needs root";
  auto user = LookupSystemUser("nobody");
  ASSERT_TRUE(user.ok()) << user.status();
  SpawnOptions options = Shell("exec sleep 60");
  options.run_as = *user;
  options.working_dir = "/";
  const pid_t orphan = SpawnFromDyingParent(options);
  ASSERT_GT(orphan, 0);
  EXPECT_TRUE(Eventually([&] { return Gone(orphan); }))
      << "PR_SET_PDEATHSIG did not kill pid " << orphan;
}

TEST_F(ChildProcessTest, RunsAsTheRequestedUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "switching users needs root";
  auto user = LookupSystemUser("nobody");
  ASSERT_TRUE(user.ok()) << user.status();
  SpawnOptions options = Shell("id -u; id -g; pwd");
  options.run_as = *user;
  options.working_dir = "/";
  ASSERT_TRUE(RunToCompletion(options, std::chrono::seconds(10)).ok());
  EXPECT_EQ(ReadFileTail(log_, 0, 100),
            absl::StrCat(user->uid, "\n", user->gid, "\n/\n"));
}

TEST_F(ChildProcessTest, LooksUpSystemUsers) {
  auto root = LookupSystemUser("root");
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(root->uid, 0u);
  auto missing = LookupSystemUser("keel-no-such-user");
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_THAT(missing.status().message(), HasSubstr("keel-no-such-user"));
}

TEST(TempDir, RemovesItselfAndStaleDirectoriesOfDeadProcesses) {
  // A pid that certainly no longer exists: a reaped child's.
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ASSERT_GT(dead, 0);
  ::waitpid(dead, nullptr, 0);

  std::string path;
  {
    auto dir = TempDir::Create("keel-sweep-test");
    ASSERT_TRUE(dir.ok()) << dir.status();
    path = (*dir)->path();
    EXPECT_THAT(path, HasSubstr(absl::StrCat("keel-sweep-test-", ::getpid())));
    std::ofstream((*dir)->path() + "/file") << "x";
    ASSERT_TRUE(PathExists(path + "/file"));
  }
  EXPECT_FALSE(PathExists(path));

  const std::string base =
      std::string(absl::StripSuffix(path, path.substr(path.rfind('/'))));
  const std::string stale =
      absl::StrCat(base, "/keel-sweep-test-", dead, "-abc");
  const std::string live =
      absl::StrCat(base, "/keel-sweep-test-", ::getpid(), "-keep");
  ASSERT_EQ(::mkdir(stale.c_str(), 0700), 0);
  ASSERT_EQ(::mkdir(live.c_str(), 0700), 0);
  auto dir = TempDir::Create("keel-sweep-test");
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_FALSE(PathExists(stale));
  EXPECT_TRUE(PathExists(live));
  ::rmdir(live.c_str());
}

TEST(TempDir, RejectsPrefixWithSlash) {
  EXPECT_TRUE(absl::IsInvalidArgument(TempDir::Create("a/b").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(TempDir::Create("").status()));
}

TEST(FreePort, ReturnsABindableLoopbackPort) {
  auto port = PickFreeLoopbackPort();
  ASSERT_TRUE(port.ok()) << port.status();
  ASSERT_GT(*port, 0);
  ASSERT_LE(*port, 65535);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr;
  std::memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(*port));
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0)
      << std::strerror(errno);
  ::close(fd);
}

}  // namespace
}  // namespace keel::testing_internal
