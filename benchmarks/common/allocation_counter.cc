#include "common/allocation_counter.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {

std::atomic<std::int64_t> g_allocations{0};

}  // namespace

// Counting replacement of the global allocation function. libstdc++'s default
// operator delete releases with free(), so it pairs with this malloc(). This
// file uses no standard containers: GCC would otherwise see the inlined
// malloc() next to sized deletes and warn about a mismatch.
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

namespace keel_bench {

std::int64_t AllocationCount() {
  return g_allocations.load(std::memory_order_relaxed);
}

}  // namespace keel_bench
