// Test support: counts the calls to the global operator new made by the
// calling thread, so a test can prove that a hot path allocates nothing.
// Linking `keel_test_allocation_counter` replaces the program's global
// operator new/delete; sanitizer runtimes replace them too, so tests using it
// are built only without KEEL_SANITIZER.

#ifndef KEEL_TESTS_TESTING_ALLOCATION_COUNTER_H_
#define KEEL_TESTS_TESTING_ALLOCATION_COUNTER_H_

#include <cstddef>

namespace keel::testing {

// Allocations made by this thread so far.
std::size_t ThreadAllocations();

// Number of allocations `fn` makes on this thread.
template <typename Fn>
std::size_t CountAllocations(Fn fn) {
  const std::size_t before = ThreadAllocations();
  fn();
  return ThreadAllocations() - before;
}

}  // namespace keel::testing

#endif  // KEEL_TESTS_TESTING_ALLOCATION_COUNTER_H_
