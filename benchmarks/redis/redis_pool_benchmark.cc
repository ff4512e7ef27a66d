// `GET` through keel::redis::Pool against raw hiredis, on a redis-server this
// program starts itself (keel_testing's RedisServer), so the benchmark needs
// no setup:
//   Get/threads:N   keel: N threads share a fixed pool of 8 connections
//                   (Pool::Command: lease, GET, release);
//                   baseline: each thread keeps its own redisContext and
//                   calls redisCommand.
// Real time is measured, so multi-threaded cases compare throughput. Every
// case runs 5 times, interleaved in random order, and the median counts (see
// common/interleaved_repetitions.h).

#include <hiredis/hiredis.h>

#include <cstdio>
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "common/interleaved_repetitions.h"
#include "keel/redis/pool.h"
#include "testing/redis_server.h"

namespace {

constexpr int kPoolSize = 8;

keel::testing::RedisServer* g_server = nullptr;
keel::redis::Pool* g_pool = nullptr;

void BM_Keel_Get(benchmark::State& state) {
  for (auto _ : state) {
    absl::StatusOr<keel::redis::Reply> reply = g_pool->Command({"GET", "key"});
    if (!reply.ok()) {
      state.SkipWithError("pooled GET failed");
      break;
    }
    benchmark::DoNotOptimize(reply);
  }
}

void BM_Baseline_Get(benchmark::State& state) {
  redisContext* c = redisConnect(g_server->host().c_str(), g_server->port());
  if (c == nullptr || c->err != 0) {
    state.SkipWithError("redisConnect failed");
    if (c != nullptr) redisFree(c);
    return;
  }
  for (auto _ : state) {
    auto* reply = static_cast<redisReply*>(redisCommand(c, "GET %s", "key"));
    if (reply == nullptr) {
      state.SkipWithError("raw GET failed");
      break;
    }
    benchmark::DoNotOptimize(reply->len);
    freeReplyObject(reply);
  }
  redisFree(c);
}

BENCHMARK(BM_Keel_Get)->Threads(1)->Threads(4)->Threads(8)->UseRealTime();
BENCHMARK(BM_Baseline_Get)->Threads(1)->Threads(4)->Threads(8)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  if (!keel_bench::InitializeWithInterleavedRepetitions(argc, argv, 5)) {
    return 1;
  }
  auto server = keel::testing::RedisServer::Start({});
  if (!server.ok()) {
    std::fprintf(stderr, "cannot start redis-server: %s\n",
                 server.status().ToString().c_str());
    return 1;
  }
  g_server = server->get();
  {
    auto setup = g_server->Connect();
    if (!setup.ok() || !(*setup)->Command({"SET", "key", "value"}).ok()) {
      std::fprintf(stderr, "cannot SET the benchmark key\n");
      return 1;
    }
  }

  keel::redis::PoolOptions options;
  options.connection.host = g_server->host();
  options.connection.port = g_server->port();
  options.pool.name = "benchmark";
  options.pool.max_size = kPoolSize;
  options.pool.min_idle = kPoolSize;
  options.pool.startup = keel::pool::StartupPolicy::kBlockUntilMinIdle;
  options.pool.clock = &keel::Clock::Coarse();
  auto pool = keel::redis::Pool::Create(options);
  if (!pool.ok()) {
    std::fprintf(stderr, "cannot create the pool: %s\n",
                 pool.status().ToString().c_str());
    return 1;
  }
  g_pool = pool->get();

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_pool = nullptr;
  pool->reset();
  return 0;
}
