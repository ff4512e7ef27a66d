#include "keel/flags/source.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "keel/base/hash.h"

namespace keel::flags {

InMemoryFlagSource::InMemoryFlagSource(std::string json)
    : json_(std::move(json)) {}

absl::Status InMemoryFlagSource::Update(std::string json) {
  MutexLock lock(mu_);
  json_ = std::move(json);
  if (sink_ == nullptr) return absl::OkStatus();
  return sink_->OnConfiguration(json_);
}

absl::Status InMemoryFlagSource::Start(FlagSourceSink* sink) {
  MutexLock lock(mu_);
  sink_ = sink;
  return sink_->OnConfiguration(json_);
}

void InMemoryFlagSource::Stop() {
  MutexLock lock(mu_);
  sink_ = nullptr;
}

absl::StatusOr<std::unique_ptr<FileFlagSource>> FileFlagSource::Create(
    FileFlagSourceOptions options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("FileFlagSourceOptions.path is empty");
  }
  if (options.poll_interval <= std::chrono::nanoseconds::zero()) {
    return absl::InvalidArgumentError(
        "FileFlagSourceOptions.poll_interval must be > 0");
  }
  return std::unique_ptr<FileFlagSource>(
      new FileFlagSource(std::move(options)));
}

FileFlagSource::FileFlagSource(FileFlagSourceOptions options)
    : options_(std::move(options)) {}

FileFlagSource::~FileFlagSource() { Stop(); }

std::string FileFlagSource::Describe() const {
  return absl::StrCat("file:", options_.path);
}

absl::Status FileFlagSource::Poll() {
  MutexLock lock(mu_);
  struct stat st;
  if (::stat(options_.path.c_str(), &st) != 0) {
    absl::Status error = absl::NotFoundError(
        absl::StrCat("flag file ", options_.path, ": ", std::strerror(errno)));
    have_stamp_ = false;
    if (sink_ != nullptr) sink_->OnSourceError(error);
    return error;
  }
  const std::int64_t mtime_ns =
      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 +
      st.st_mtim.tv_nsec;
  if (have_stamp_ && mtime_ns == mtime_ns_ && st.st_size == size_ &&
      st.st_ino == inode_) {
    return absl::OkStatus();
  }
  std::ifstream in(options_.path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (!in.good() && !in.eof()) {
    absl::Status error = absl::UnavailableError(
        absl::StrCat("flag file ", options_.path, ": read failed"));
    if (sink_ != nullptr) sink_->OnSourceError(error);
    return error;
  }
  const std::string text = buffer.str();
  const std::uint64_t hash = Hash64(text);
  const bool same_content = have_stamp_ && hash == content_hash_;
  have_stamp_ = true;
  mtime_ns_ = mtime_ns;
  size_ = st.st_size;
  inode_ = st.st_ino;
  content_hash_ = hash;
  if (same_content || sink_ == nullptr) return absl::OkStatus();
  return sink_->OnConfiguration(text);
}

absl::Status FileFlagSource::Start(FlagSourceSink* sink) {
  {
    MutexLock lock(mu_);
    sink_ = sink;
    have_stamp_ = false;
  }
  absl::Status first = Poll();
  if (options_.scheduler != nullptr) {
    auto task = options_.scheduler->ScheduleEvery(options_.poll_interval,
                                                  [this] { (void)Poll(); });
    if (!task.ok()) return task.status();
    MutexLock lock(mu_);
    task_scheduled_ = true;
    task_ = *task;
  }
  return first;
}

void FileFlagSource::Stop() {
  bool scheduled;
  Scheduler::TaskId task;
  {
    MutexLock lock(mu_);
    scheduled = task_scheduled_;
    task = task_;
    task_scheduled_ = false;
  }
  // Outside the lock: Cancel waits for a running Poll, which takes it.
  if (scheduled) options_.scheduler->Cancel(task);
  MutexLock lock(mu_);
  sink_ = nullptr;
}

}  // namespace keel::flags
