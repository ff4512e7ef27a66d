// Fuzzes ParseTraceparent: any accepted input must be a valid context whose
// formatted form parses back to the same context (format is canonical).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "keel/trace/traceparent.h"

// Declared here because -Wmissing-declarations wants a prior declaration.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto parsed = keel::trace::ParseTraceparent(input);
  if (!parsed) return 0;
  if (!parsed->IsValid() || !parsed->is_remote()) std::abort();
  if ((parsed->trace_flags() & ~keel::trace::kKnownTraceFlags) != 0) {
    std::abort();
  }
  const std::string formatted = keel::trace::FormatTraceparent(*parsed);
  if (formatted.size() != keel::trace::kTraceparentSize) std::abort();
  const auto reparsed = keel::trace::ParseTraceparent(formatted);
  if (!reparsed || *reparsed != *parsed) std::abort();
  // A version-00 input that parsed is already canonical (modulo OWS and
  // unknown flag bits).
  return 0;
}
