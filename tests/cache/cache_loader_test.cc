#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/base/mutex.h"
#include "keel/base/scheduler.h"
#include "keel/cache/cache.h"

namespace keel::cache {
namespace {

using std::chrono::seconds;
using StrCache = Cache<std::string, int>;

// A loader that blocks until released, so tests control when loads finish.
class Gate {
 public:
  void Release() {
    MutexLock lock(mu_);
    open_ = true;
    cv_.SignalAll();
  }
  void WaitOpen() {
    MutexLock lock(mu_);
    while (!open_) cv_.Wait(mu_);
  }

 private:
  Mutex mu_;
  CondVar cv_;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
};

class CacheLoaderTest : public ::testing::Test {
 protected:
  CacheOptions<std::string, int> Options() {
    CacheOptions<std::string, int> options;
    options.clock = &clock_;
    options.seed = 7;
    return options;
  }
  ManualClock clock_;
};

// Starts `n` threads calling GetOrLoad(key) and waits until all but the
// leader are blocked waiting (observed through the miss counter).
std::vector<std::thread> StartCallers(StrCache* cache, int n,
                                      const StrCache::Loader& loader,
                                      std::vector<absl::StatusOr<int>>* out) {
  out->assign(static_cast<std::size_t>(n), absl::UnknownError("unset"));
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([cache, &loader, out, i] {
      (*out)[static_cast<std::size_t>(i)] = cache->GetOrLoad("k", loader);
    });
  }
  while (cache->Stats().misses < static_cast<std::uint64_t>(n)) {
    std::this_thread::yield();
  }
  return threads;
}

TEST_F(CacheLoaderTest, ConcurrentMissesRunOneLoad) {
  auto cache = StrCache::Create(Options()).value();
  std::atomic<int> calls{0};
  Gate gate;
  StrCache::Loader loader = [&](const std::string&) -> absl::StatusOr<int> {
    ++calls;
    gate.WaitOpen();
    return 42;
  };
  std::vector<absl::StatusOr<int>> results;
  auto threads = StartCallers(cache.get(), 8, loader, &results);
  gate.Release();
  for (auto& t : threads) t.join();
  EXPECT_EQ(calls.load(), 1);
  for (const auto& r : results) EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(cache->GetOrLoad("k", loader).value(), 42);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(cache->Stats().load_successes, 1u);
}

TEST_F(CacheLoaderTest, WaitersReceiveTheSameError) {
  auto cache = StrCache::Create(Options()).value();
  std::atomic<int> calls{0};
  Gate gate;
  StrCache::Loader loader = [&](const std::string&) -> absl::StatusOr<int> {
    ++calls;
    gate.WaitOpen();
    return absl::UnavailableError("db down");
  };
  std::vector<absl::StatusOr<int>> results;
  auto threads = StartCallers(cache.get(), 5, loader, &results);
  gate.Release();
  for (auto& t : threads) t.join();
  EXPECT_EQ(calls.load(), 1);
  for (const auto& r : results) {
    EXPECT_EQ(r.status(), absl::UnavailableError("db down"));
  }
  EXPECT_EQ(cache->Stats().load_failures, 1u);
  // Errors are not cached: the next call loads again.
  gate.Release();
  EXPECT_FALSE(cache->GetOrLoad("k", loader).ok());
  EXPECT_EQ(calls.load(), 2);
}

TEST_F(CacheLoaderTest, WaiterGivesUpAfterLoadWaitTimeout) {
  auto options = Options();
  options.load_wait_timeout = std::chrono::milliseconds(20);
  auto cache = StrCache::Create(options).value();
  Gate gate;
  StrCache::Loader slow = [&](const std::string&) -> absl::StatusOr<int> {
    gate.WaitOpen();
    return 1;
  };
  std::thread leader(
      [&] { EXPECT_EQ(cache->GetOrLoad("k", slow).value(), 1); });
  while (cache->Stats().misses < 1) std::this_thread::yield();
  EXPECT_EQ(cache->GetOrLoad("k", slow).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  gate.Release();
  leader.join();
}

TEST_F(CacheLoaderTest, PutDuringLoadIsNotOverwritten) {
  auto cache = StrCache::Create(Options()).value();
  Gate gate;
  StrCache::Loader loader = [&](const std::string&) -> absl::StatusOr<int> {
    gate.WaitOpen();
    return 1;  // stale: read before the Put below
  };
  std::thread leader(
      [&] { EXPECT_EQ(cache->GetOrLoad("k", loader).value(), 1); });
  while (cache->Stats().misses < 1) std::this_thread::yield();
  cache->Put("k", 2);
  gate.Release();
  leader.join();
  EXPECT_EQ(cache->Get("k"), 2);
}

TEST_F(CacheLoaderTest, InvalidateDuringLoadIsNotUndone) {
  auto cache = StrCache::Create(Options()).value();
  Gate gate;
  StrCache::Loader loader = [&](const std::string&) -> absl::StatusOr<int> {
    gate.WaitOpen();
    return 1;
  };
  std::thread leader([&] { EXPECT_TRUE(cache->GetOrLoad("k", loader).ok()); });
  while (cache->Stats().misses < 1) std::this_thread::yield();
  cache->Invalidate("k");
  gate.Release();
  leader.join();
  EXPECT_FALSE(cache->Get("k").has_value());
}

TEST_F(CacheLoaderTest, EntryLoaderSetsTtl) {
  auto cache = StrCache::Create(Options()).value();
  StrCache::EntryLoader loader =
      [](const std::string&) -> absl::StatusOr<Loaded<int>> {
    return Loaded<int>{5, seconds(3)};
  };
  EXPECT_EQ(cache->GetOrLoadEntry("k", loader).value(), 5);
  clock_.Advance(seconds(2));
  EXPECT_EQ(cache->Get("k"), 5);
  clock_.Advance(seconds(1));
  EXPECT_FALSE(cache->Get("k").has_value());
}

TEST_F(CacheLoaderTest, NegativeCachingHasItsOwnTtlAndCap) {
  auto options = Options();
  options.negative_ttl = seconds(5);
  options.max_entries = 100;
  options.negative_max_fraction = 0.1;
  auto cache = StrCache::Create(options).value();
  int calls = 0;
  StrCache::Loader missing = [&](const std::string&) -> absl::StatusOr<int> {
    ++calls;
    return absl::NotFoundError("no such user");
  };
  EXPECT_TRUE(absl::IsNotFound(cache->GetOrLoad("k", missing).status()));
  EXPECT_TRUE(absl::IsNotFound(cache->GetOrLoad("k", missing).status()));
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(cache->Get("k").has_value());
  clock_.Advance(seconds(5));
  EXPECT_TRUE(absl::IsNotFound(cache->GetOrLoad("k", missing).status()));
  EXPECT_EQ(calls, 2);
  // At most 10% of the capacity holds negative entries.
  for (int i = 0; i < 50; ++i) {
    EXPECT_FALSE(cache->GetOrLoad("n" + std::to_string(i), missing).ok());
  }
  EXPECT_LE(cache->Size(), 10u);
  // A Put replaces a negative entry.
  cache->Put("k", 9);
  EXPECT_EQ(cache->GetOrLoad("k", missing).value(), 9);
}

TEST_F(CacheLoaderTest, StaleIfErrorServesExpiredValueOnLoadFailure) {
  auto options = Options();
  options.expire_after_write = seconds(10);
  options.stale_if_error = seconds(30);
  auto cache = StrCache::Create(options).value();
  cache->Put("k", 1);
  clock_.Advance(seconds(20));
  EXPECT_FALSE(cache->Get("k").has_value());
  StrCache::Loader failing = [](const std::string&) -> absl::StatusOr<int> {
    return absl::UnavailableError("down");
  };
  EXPECT_EQ(cache->GetOrLoad("k", failing).value(), 1);
  clock_.Advance(seconds(20));
  EXPECT_EQ(cache->GetOrLoad("k", failing).status().code(),
            absl::StatusCode::kUnavailable);
}

class BackgroundLoaderTest : public CacheLoaderTest {
 protected:
  void SetUp() override {
    SchedulerOptions options;
    options.clock = &clock_;
    scheduler_ = Scheduler::Create(options).value();
  }
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(BackgroundLoaderTest,
       RefreshAfterWriteServesCurrentValueWhileReloading) {
  auto options = Options();
  options.refresh_after_write = seconds(10);
  options.scheduler = scheduler_.get();
  auto cache = StrCache::Create(options).value();
  std::atomic<int> version{1};
  std::atomic<int> calls{0};
  Gate refresh_gate;  // holds the background reload until both reads are done
  StrCache::Loader loader = [&](const std::string&) -> absl::StatusOr<int> {
    if (calls.fetch_add(1) > 0) refresh_gate.WaitOpen();
    return version.load();
  };
  EXPECT_EQ(cache->GetOrLoad("k", loader).value(), 1);
  version = 2;
  clock_.Advance(seconds(11));
  EXPECT_EQ(cache->GetOrLoad("k", loader).value(), 1);  // old value served
  EXPECT_EQ(cache->GetOrLoad("k", loader).value(), 1);  // one refresh only
  refresh_gate.Release();
  scheduler_->RunUntilIdle();
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(cache->Get("k"), 2);
}

TEST_F(BackgroundLoaderTest, StaleWhileRevalidate) {
  auto options = Options();
  options.expire_after_write = seconds(10);
  options.stale_while_revalidate = seconds(5);
  options.scheduler = scheduler_.get();
  auto cache = StrCache::Create(options).value();
  int version = 1;
  StrCache::Loader loader = [&](const std::string&) -> absl::StatusOr<int> {
    return version;
  };
  EXPECT_EQ(cache->GetOrLoad("k", loader).value(), 1);
  version = 2;
  clock_.Advance(seconds(12));
  EXPECT_FALSE(cache->Get("k").has_value());  // plain reads see it expired
  EXPECT_EQ(cache->GetOrLoad("k", loader).value(), 1);
  scheduler_->RunUntilIdle();
  EXPECT_EQ(cache->Get("k"), 2);
  // Past the stale window the caller loads synchronously.
  version = 3;
  clock_.Advance(seconds(16));
  EXPECT_EQ(cache->GetOrLoad("k", loader).value(), 3);
}

TEST_F(BackgroundLoaderTest, EarlyExpirationRefreshesBeforeDeadline) {
  auto options = Options();
  options.expire_after_write = seconds(100);
  options.early_expiration_beta = 1.0;
  options.scheduler = scheduler_.get();
  auto cache = StrCache::Create(options).value();
  // Refreshes run on the scheduler thread while this one reads `calls`.
  std::atomic<int> calls{0};
  StrCache::Loader loader = [&](const std::string&) -> absl::StatusOr<int> {
    const int call = ++calls;
    clock_.Advance(seconds(10));  // the load "takes" 10 s
    return call;
  };
  EXPECT_EQ(cache->GetOrLoad("k", loader).value(), 1);
  // Far from the deadline: P(refresh) = exp(-90/10), about 1e-4 per read.
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(cache->GetOrLoad("k", loader).ok());
  scheduler_->RunUntilIdle();
  EXPECT_EQ(calls.load(), 1);
  // One second before the deadline: P = exp(-1/10) ~ 0.9 per read.
  clock_.Advance(seconds(99));
  for (int i = 0; i < 20 && calls == 1; ++i) {
    EXPECT_TRUE(cache->GetOrLoad("k", loader).ok());
    scheduler_->RunUntilIdle();
  }
  EXPECT_EQ(calls.load(), 2);
}

TEST_F(CacheLoaderTest, GetAllLoadsOnlyMissingKeysInOneCall) {
  auto cache = StrCache::Create(Options()).value();
  cache->Put("a", 1);
  std::vector<std::vector<std::string>> calls;
  StrCache::BulkLoader loader = [&](const std::vector<std::string>& keys)
      -> absl::StatusOr<std::vector<std::pair<std::string, int>>> {
    calls.push_back(keys);
    return std::vector<std::pair<std::string, int>>{
        {"b", 2}, {"zzz", 99}};  // "c" unknown, "zzz" not asked for
  };
  auto result = cache->GetAll({"a", "b", "c", "b"}, loader).value();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_THAT(calls[0], ::testing::ElementsAre("b", "c"));
  EXPECT_EQ(result.size(), 2u);
  EXPECT_EQ(result.at("a"), 1);
  EXPECT_EQ(result.at("b"), 2);
  EXPECT_EQ(cache->Get("b"), 2);
  EXPECT_FALSE(cache->Get("zzz").has_value());
  StrCache::BulkLoader failing = [](const std::vector<std::string>&)
      -> absl::StatusOr<std::vector<std::pair<std::string, int>>> {
    return absl::InternalError("boom");
  };
  EXPECT_EQ(cache->GetAll({"x"}, failing).status().code(),
            absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace keel::cache
