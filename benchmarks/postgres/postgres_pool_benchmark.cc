// `SELECT 1` through keel::postgres::Pool against raw libpq, on a PostgreSQL
// 15 server this program starts itself (keel_testing's PostgresServer), so the
// benchmark needs no setup:
//   SelectOne/threads:N   keel: N threads share a fixed pool of 8 connections
//                         (lease, pqxx::nontransaction, exec, release);
//                         baseline: each thread keeps its own PGconn and
//                         calls PQexec.
//   SelectOneLibpqxx/threads:N
//                         keel: as SelectOne; baseline: each thread keeps its
//                         own pqxx::connection (the pool's cost when both
//                         sides use libpqxx).
//   SelectOneNative/threads:N
//                         keel: lease, PQexec on Connection::native_handle(),
//                         release; baseline: as SelectOne (the pool's cost
//                         when both sides use libpq).
//   ConnectPerQuery       keel: as above, one thread; baseline: a new libpq
//                         connection per query (PQconnectdb, PQexec,
//                         PQfinish), what a service without a pool pays.
// Real time is measured, so multi-threaded cases compare throughput. Every
// case runs 5 times, interleaved in random order, and the median counts (see
// common/interleaved_repetitions.h).

#include <libpq-fe.h>

#include <cstdio>
#include <memory>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <string>

#include "benchmark/benchmark.h"
#include "common/interleaved_repetitions.h"
#include "keel/postgres/pool.h"
#include "testing/postgres_server.h"

namespace {

constexpr int kPoolSize = 8;

keel::testing::PostgresServer* g_server = nullptr;
keel::postgres::Pool* g_pool = nullptr;

// One `SELECT 1` through the pool; false on any failure.
bool PoolSelectOne() {
  auto lease = g_pool->Acquire();
  if (!lease.ok()) return false;
  try {
    pqxx::nontransaction tx((*lease)->raw());
    pqxx::result r = tx.exec("SELECT 1");
    benchmark::DoNotOptimize(r.size());
    return r.size() == 1;
  } catch (const std::exception&) {
    lease->MarkBroken();
    return false;
  }
}

bool RawSelectOne(PGconn* conn) {
  PGresult* r = PQexec(conn, "SELECT 1");
  const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
  PQclear(r);
  return ok;
}

// One `SELECT 1` with libpq on a pooled connection; false on any failure.
bool PoolNativeSelectOne() {
  auto lease = g_pool->Acquire();
  if (!lease.ok()) return false;
  PGconn* conn = (*lease)->native_handle();
  if (conn == nullptr || !RawSelectOne(conn)) {
    lease->MarkBroken();
    return false;
  }
  return true;
}

void KeelLoop(benchmark::State& state) {
  for (auto _ : state) {
    if (!PoolSelectOne()) {
      state.SkipWithError("pooled SELECT 1 failed");
      break;
    }
  }
}

void BM_Keel_SelectOne(benchmark::State& state) { KeelLoop(state); }

void BM_Baseline_SelectOne(benchmark::State& state) {
  PGconn* conn = PQconnectdb(g_server->ConnectionString().c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    state.SkipWithError("PQconnectdb failed");
    PQfinish(conn);
    return;
  }
  for (auto _ : state) {
    if (!RawSelectOne(conn)) {
      state.SkipWithError("raw SELECT 1 failed");
      break;
    }
  }
  PQfinish(conn);
}

void BM_Keel_SelectOneLibpqxx(benchmark::State& state) { KeelLoop(state); }

void BM_Baseline_SelectOneLibpqxx(benchmark::State& state) {
  try {
    pqxx::connection conn(g_server->ConnectionString());
    for (auto _ : state) {
      pqxx::nontransaction tx(conn);
      pqxx::result r = tx.exec("SELECT 1");
      benchmark::DoNotOptimize(r.size());
      if (r.size() != 1) {
        state.SkipWithError("libpqxx SELECT 1 returned no row");
        break;
      }
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

void BM_Keel_SelectOneNative(benchmark::State& state) {
  for (auto _ : state) {
    if (!PoolNativeSelectOne()) {
      state.SkipWithError("pooled libpq SELECT 1 failed");
      break;
    }
  }
}

void BM_Baseline_SelectOneNative(benchmark::State& state) {
  BM_Baseline_SelectOne(state);
}

void BM_Keel_ConnectPerQuery(benchmark::State& state) { KeelLoop(state); }

void BM_Baseline_ConnectPerQuery(benchmark::State& state) {
  const std::string conninfo = g_server->ConnectionString();
  for (auto _ : state) {
    PGconn* conn = PQconnectdb(conninfo.c_str());
    const bool ok = PQstatus(conn) == CONNECTION_OK && RawSelectOne(conn);
    PQfinish(conn);
    if (!ok) {
      state.SkipWithError("connect + SELECT 1 failed");
      break;
    }
  }
}

BENCHMARK(BM_Keel_SelectOne)->Threads(1)->Threads(4)->Threads(8)->UseRealTime();
BENCHMARK(BM_Baseline_SelectOne)
    ->Threads(1)
    ->Threads(4)
    ->Threads(8)
    ->UseRealTime();
BENCHMARK(BM_Keel_SelectOneLibpqxx)
    ->Threads(1)
    ->Threads(4)
    ->Threads(8)
    ->UseRealTime();
BENCHMARK(BM_Baseline_SelectOneLibpqxx)
    ->Threads(1)
    ->Threads(4)
    ->Threads(8)
    ->UseRealTime();
BENCHMARK(BM_Keel_SelectOneNative)
    ->Threads(1)
    ->Threads(4)
    ->Threads(8)
    ->UseRealTime();
BENCHMARK(BM_Baseline_SelectOneNative)
    ->Threads(1)
    ->Threads(4)
    ->Threads(8)
    ->UseRealTime();
BENCHMARK(BM_Keel_ConnectPerQuery)->UseRealTime();
BENCHMARK(BM_Baseline_ConnectPerQuery)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  if (!keel_bench::InitializeWithInterleavedRepetitions(argc, argv, 5)) {
    return 1;
  }
  keel::testing::PostgresServerOptions server_options;
  server_options.extra_config = {"max_connections=100"};
  auto server = keel::testing::PostgresServer::Start(server_options);
  if (!server.ok()) {
    std::fprintf(stderr, "cannot start PostgreSQL: %s\n",
                 server.status().ToString().c_str());
    return 1;
  }
  g_server = server->get();

  keel::postgres::PoolOptions options;
  options.connection.connection_string = g_server->ConnectionString();
  options.pool.name = "benchmark";
  options.pool.max_size = kPoolSize;
  options.pool.min_idle = kPoolSize;
  options.pool.startup = keel::pool::StartupPolicy::kBlockUntilMinIdle;
  options.pool.clock = &keel::Clock::Coarse();
  auto pool = keel::postgres::Pool::Create(options);
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
