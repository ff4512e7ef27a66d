// Accept-header negotiation on arbitrary headers. Invariants: the content type
// matches the format; the answer is deterministic; a header led by an exact
// OpenMetrics 1.0.0 (or Prometheus 0.0.4) range at q=1 always gets that
// format whatever follows; without "openmetrics" or a wildcard in the header
// the answer is the Prometheus format.

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "keel/metrics/exposition.h"

namespace {

using keel::metrics::ExpositionFormat;
using keel::metrics::NegotiatedFormat;
using keel::metrics::NegotiateFormat;

void Check(bool ok) {
  if (!ok) std::abort();
}

NegotiatedFormat CheckedNegotiate(std::string_view accept) {
  const NegotiatedFormat result = NegotiateFormat(accept);
  Check(result.content_type == keel::metrics::ContentType(result.format));
  return result;
}

}  // namespace

// Declared for -Wmissing-declarations; libFuzzer calls it.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string accept(reinterpret_cast<const char*>(data), size);
  const NegotiatedFormat result = CheckedNegotiate(accept);
  Check(CheckedNegotiate(accept).format == result.format);

  Check(CheckedNegotiate("application/openmetrics-text;version=1.0.0," + accept)
            .format == ExpositionFormat::kOpenMetrics);
  Check(CheckedNegotiate("text/plain;version=0.0.4," + accept).format ==
        ExpositionFormat::kPrometheusText);

  std::string lower = accept;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (lower.find("openmetrics") == std::string::npos &&
      lower.find('*') == std::string::npos) {
    Check(result.format == ExpositionFormat::kPrometheusText);
  }
  return 0;
}
