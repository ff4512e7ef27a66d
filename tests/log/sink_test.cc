#include "keel/log/sink.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/base/mutex.h"
#include "keel/log/async_sink.h"

namespace keel::log {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(FileSinkTest, AppendsLines) {
  const std::string path =
      ::testing::TempDir() + "keel_file_sink_" + std::to_string(getpid());
  std::remove(path.c_str());
  {
    auto sink = FileSink::Open(path).value();
    sink->Write(Level::kInfo, R"({"a":1})");
    sink->Write(Level::kError, R"({"b":2})");
    sink->Flush();
    EXPECT_EQ(ReadFile(path), "{\"a\":1}\n{\"b\":2}\n");
  }
  {
    auto sink = FileSink::Open(path).value();  // appends
    sink->Write(Level::kInfo, "{}");
  }
  EXPECT_EQ(ReadFile(path), "{\"a\":1}\n{\"b\":2}\n{}\n");
  std::remove(path.c_str());
}

TEST(FileSinkTest, OpenErrors) {
  EXPECT_EQ(FileSink::Open("").status().code(),
            absl::StatusCode::kInvalidArgument);
  const absl::Status status =
      FileSink::Open("/nonexistent-dir/keel/x.log").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("/nonexistent-dir/keel/x.log"));
}

TEST(FileSinkTest, ForStreamDoesNotCloseTheStream) {
  std::FILE* stream = std::tmpfile();
  ASSERT_NE(stream, nullptr);
  {
    auto sink = FileSink::ForStream(stream);
    sink->Write(Level::kInfo, "x");
  }
  std::rewind(stream);
  char buf[8] = {};
  EXPECT_EQ(std::fread(buf, 1, sizeof(buf), stream), 2u);
  EXPECT_STREQ(buf, "x\n");
  std::fclose(stream);
}

// A sink whose Write() blocks until released, to fill an AsyncSink's queue.
class BlockingSink : public Sink {
 public:
  void Write(Level, std::string_view line) override {
    MutexLock lock(mu_);
    ++entered_;
    cv_.SignalAll();
    while (!open_) cv_.Wait(mu_);
    lines_.emplace_back(line);
  }
  void Flush() override {
    MutexLock lock(mu_);
    ++flushes_;
  }
  void AwaitEntered(int n) {
    MutexLock lock(mu_);
    while (entered_ < n) cv_.Wait(mu_);
  }
  void Open() {
    MutexLock lock(mu_);
    open_ = true;
    cv_.SignalAll();
  }
  std::vector<std::string> lines() {
    MutexLock lock(mu_);
    return lines_;
  }
  int flushes() {
    MutexLock lock(mu_);
    return flushes_;
  }

 private:
  Mutex mu_;
  CondVar cv_;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
  int entered_ ABSL_GUARDED_BY(mu_) = 0;
  int flushes_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

TEST(AsyncSinkTest, ValidatesOptions) {
  AsyncSinkOptions options;
  EXPECT_THAT(AsyncSink::Create(options).status().message(),
              HasSubstr("inner"));
  options.inner = std::make_shared<BlockingSink>();
  options.capacity = 0;
  EXPECT_THAT(AsyncSink::Create(options).status().message(),
              HasSubstr("capacity"));
}

TEST(AsyncSinkTest, DropsWhenFullAndCounts) {
  auto inner = std::make_shared<BlockingSink>();
  AsyncSinkOptions options;
  options.inner = inner;
  options.capacity = 2;
  auto sink = AsyncSink::Create(options).value();
  sink->Write(Level::kInfo, "1");
  inner->AwaitEntered(1);  // the writer holds "1"; the queue is empty
  sink->Write(Level::kInfo, "2");
  sink->Write(Level::kInfo, "3");
  sink->Write(Level::kInfo, "4");  // queue full: dropped
  EXPECT_EQ(sink->Dropped(), 1u);
  inner->Open();
  sink->Flush();
  EXPECT_THAT(inner->lines(), ElementsAre("1", "2", "3"));
  EXPECT_GE(inner->flushes(), 1);
}

TEST(AsyncSinkTest, DestructorDrainsTheQueue) {
  std::vector<std::string> lines;
  auto inner = std::make_shared<CallbackSink>(
      [&lines](Level, std::string_view line) { lines.emplace_back(line); });
  {
    AsyncSinkOptions options;
    options.inner = inner;
    auto sink = AsyncSink::Create(options).value();
    for (int i = 0; i < 100; ++i) sink->Write(Level::kInfo, std::to_string(i));
  }
  ASSERT_EQ(lines.size(), 100u);
  EXPECT_EQ(lines[99], "99");
}

TEST(AsyncSinkTest, ConcurrentWritersAndFlushes) {
  std::atomic<int> written{0};
  auto inner = std::make_shared<CallbackSink>(
      [&written](Level, std::string_view) { ++written; });
  AsyncSinkOptions options;
  options.inner = inner;
  options.capacity = 1'000'000;
  auto sink = AsyncSink::Create(options).value();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&sink] {
      for (int i = 0; i < 1000; ++i) {
        sink->Write(Level::kInfo, "line");
        if (i % 250 == 0) sink->Flush();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  sink->Flush();
  EXPECT_EQ(written.load(), 4000);
  EXPECT_EQ(sink->Dropped(), 0u);
}

}  // namespace
}  // namespace keel::log
