// Fuzzes Baggage::Parse: an accepted header respects the limits, and its
// formatted form parses back to a prefix of the same members (the whole list
// unless re-encoding made it exceed 8192 bytes).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "keel/trace/baggage.h"

// Declared here because -Wmissing-declarations wants a prior declaration.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using keel::trace::Baggage;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto parsed = Baggage::Parse(input);
  if (!parsed) return 0;
  if (parsed->size() > Baggage::kMaxMembers) std::abort();
  const std::string header = parsed->ToHeader();
  if (header.size() > Baggage::kMaxBytes) std::abort();
  const auto reparsed = Baggage::Parse(header);
  if (!reparsed) std::abort();
  if (reparsed->size() > parsed->size()) std::abort();
  for (std::size_t i = 0; i < reparsed->size(); ++i) {
    if (!(reparsed->entries()[i] == parsed->entries()[i])) std::abort();
  }
  if (reparsed->size() < parsed->size() &&
      header.size() + parsed->entries()[reparsed->size()].key.size() +
              3 * parsed->entries()[reparsed->size()].value.size() +
              parsed->entries()[reparsed->size()].properties.size() + 3 <
          Baggage::kMaxBytes) {
    std::abort();  // a member was dropped although it would have fitted
  }
  // Formatting is canonical: a second round trip changes nothing.
  if (reparsed->ToHeader() != header) std::abort();
  return 0;
}
