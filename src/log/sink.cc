#include "keel/log/sink.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace keel::log {

FileSink::FileSink(std::FILE* stream, bool owned)
    : stream_(stream), owned_(owned) {}

std::shared_ptr<FileSink> FileSink::ForStream(std::FILE* stream) {
  return std::shared_ptr<FileSink>(new FileSink(stream, false));
}

std::shared_ptr<FileSink> FileSink::Stderr() { return ForStream(stderr); }

absl::StatusOr<std::shared_ptr<FileSink>> FileSink::Open(
    const std::string& path) {
  if (path.empty()) {
    return absl::InvalidArgumentError("FileSink path is empty");
  }
  std::FILE* stream = std::fopen(path.c_str(), "ae");
  if (stream == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot open log file ", path,
                                               ": ", std::strerror(errno)));
  }
  return std::shared_ptr<FileSink>(new FileSink(stream, true));
}

FileSink::~FileSink() {
  if (owned_) {
    std::fclose(stream_);
  } else {
    std::fflush(stream_);
  }
}

void FileSink::Write(Level level, std::string_view line) {
  (void)level;
  MutexLock lock(mu_);
  // One locked stream operation per line: fwrite_unlocked would be faster,
  // but other code may share the stream (stderr).
  std::fwrite(line.data(), 1, line.size(), stream_);
  std::fputc('\n', stream_);
}

void FileSink::Flush() {
  MutexLock lock(mu_);
  std::fflush(stream_);
}

CallbackSink::CallbackSink(Callback callback)
    : callback_(std::move(callback)) {}

void CallbackSink::Write(Level level, std::string_view line) {
  MutexLock lock(mu_);
  if (callback_) callback_(level, line);
}

}  // namespace keel::log
