// Fuzzes TraceState::Parse: an accepted header formats to a canonical header
// that parses to the same members, and every member obeys the grammar.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "keel/trace/trace_state.h"

// Declared here because -Wmissing-declarations wants a prior declaration.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using keel::trace::TraceState;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto parsed = TraceState::Parse(input);
  if (!parsed) return 0;
  if (parsed->size() > TraceState::kMaxMembers) std::abort();
  std::set<std::string> keys;
  for (const auto& entry : parsed->entries()) {
    if (!TraceState::IsValidKey(entry.key)) std::abort();
    if (!TraceState::IsValidValue(entry.value)) std::abort();
    if (!keys.insert(entry.key).second) std::abort();  // no duplicates
  }
  // Unlimited size: the full round trip must be exact.
  const std::string header = parsed->ToHeader(SIZE_MAX);
  const auto reparsed = TraceState::Parse(header);
  if (!reparsed || *reparsed != *parsed) std::abort();
  // Default size: truncation yields a valid header within the limit.
  const std::string truncated = parsed->ToHeader();
  if (truncated.size() > TraceState::kDefaultMaxHeaderSize) std::abort();
  if (!TraceState::Parse(truncated)) std::abort();
  return 0;
}
