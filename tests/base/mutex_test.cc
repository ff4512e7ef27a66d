#include "keel/base/mutex.h"

#include <chrono>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace keel {
namespace {

class GuardedCounter {
 public:
  void Add() {
    MutexLock lock(mu_);
    ++value_;
  }
  long value() {
    MutexLock lock(mu_);
    return value_;
  }

 private:
  Mutex mu_;
  long value_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST(MutexTest, ExcludesConcurrentWriters) {
  GuardedCounter counter;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) counter.Add();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.value(), 8 * 20000);
}

TEST(MutexTest, TryLockFailsWhileHeld) {
  Mutex mu;
  mu.Lock();
  bool acquired = false;
  std::thread other([&] {
    if (mu.TryLock()) {
      acquired = true;
      mu.Unlock();
    }
  });
  other.join();
  EXPECT_FALSE(acquired);
  mu.Unlock();
  if (mu.TryLock()) {
    mu.Unlock();
  } else {
    ADD_FAILURE() << "TryLock failed on a free mutex";
  }
}

TEST(CondVarTest, HandsOffBetweenThreads) {
  Mutex mu;
  CondVar cv;
  int turn = 0;  // guarded by mu
  std::thread ponger([&] {
    for (int i = 0; i < 1000; ++i) {
      MutexLock lock(mu);
      while (turn % 2 == 0) cv.Wait(mu);
      ++turn;
      cv.SignalAll();
    }
  });
  for (int i = 0; i < 1000; ++i) {
    MutexLock lock(mu);
    while (turn % 2 == 1) cv.Wait(mu);
    ++turn;
    cv.SignalAll();
  }
  ponger.join();
  MutexLock lock(mu);
  EXPECT_EQ(turn, 2000);
}

TEST(CondVarTest, WaitForTimesOutWithoutSignal) {
  Mutex mu;
  CondVar cv;
  MutexLock lock(mu);
  // A spurious wakeup may return true; loop until the timeout is observed.
  const auto start = std::chrono::steady_clock::now();
  while (cv.WaitFor(mu, std::chrono::milliseconds(1))) {
    ASSERT_LT(std::chrono::steady_clock::now() - start,
              std::chrono::seconds(10));
  }
}

}  // namespace
}  // namespace keel
