// HELP text and a label value go through the exposition writer in both
// formats. Invariants: every newline is escaped (the output has exactly the
// expected lines), escapes are only the ones each format defines, the text
// decodes back to the input (ASCII input exactly; other input to a repaired
// UTF-8 form that is stable when written again), and both formats agree.
//
// Input: the first byte chooses where the rest splits into HELP and value.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "keel/metrics/exposition.h"
#include "keel/metrics/registry.h"

namespace {

using keel::metrics::ExpositionFormat;

void Check(bool ok) {
  if (!ok) std::abort();
}

std::string Write(std::string_view help, std::string_view value,
                  ExpositionFormat format) {
  keel::metrics::Registry registry;
  auto family = registry.AddGauge("g", help, {"v"});
  Check(family.ok());
  (*family)->WithLabels({value}).Set(1);
  std::string out;
  keel::metrics::WriteExposition(registry, format, &out);
  return out;
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  Check(!text.empty() && text.back() == '\n');
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    lines.push_back(text.substr(0, end));
    text.remove_prefix(end + 1);
  }
  return lines;
}

// Decodes escaped text; `quote_escape` says whether `\"` is an escape and a
// raw `"` is forbidden. Any other backslash sequence fails the check.
std::string Unescape(std::string_view text, bool quote_escape) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') Check(!quote_escape);
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    Check(i + 1 < text.size());
    const char e = text[++i];
    if (e == '\\') {
      out.push_back('\\');
    } else if (e == 'n') {
      out.push_back('\n');
    } else {
      Check(e == '"' && quote_escape);
      out.push_back('"');
    }
  }
  return out;
}

struct Decoded {
  std::string help;
  std::string value;
};

Decoded Parse(const std::string& text, bool has_help, ExpositionFormat format) {
  const bool open_metrics = format == ExpositionFormat::kOpenMetrics;
  const std::vector<std::string_view> lines = Lines(text);
  Check(lines.size() == (has_help ? 3u : 2u) + (open_metrics ? 1u : 0u));
  std::size_t i = 0;
  Decoded decoded;
  if (has_help) {
    constexpr std::string_view kHelp = "# HELP g ";
    Check(lines[i].substr(0, kHelp.size()) == kHelp);
    decoded.help = Unescape(lines[i].substr(kHelp.size()), open_metrics);
    ++i;
  }
  Check(lines[i++] == "# TYPE g gauge");
  constexpr std::string_view kPrefix = "g{v=\"";
  constexpr std::string_view kSuffix = "\"} 1";
  const std::string_view sample = lines[i++];
  Check(sample.size() >= kPrefix.size() + kSuffix.size());
  Check(sample.substr(0, kPrefix.size()) == kPrefix);
  Check(sample.substr(sample.size() - kSuffix.size()) == kSuffix);
  decoded.value =
      Unescape(sample.substr(kPrefix.size(),
                             sample.size() - kPrefix.size() - kSuffix.size()),
               /*quote_escape=*/true);
  if (open_metrics) Check(lines[i] == "# EOF");
  return decoded;
}

bool IsAscii(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

}  // namespace

// Declared for -Wmissing-declarations; libFuzzer calls it.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data + 1),
                               size - 1);
  const std::size_t split = data[0] % (input.size() + 1);
  const std::string_view help = input.substr(0, split);
  const std::string_view value = input.substr(split);

  const std::string prom =
      Write(help, value, ExpositionFormat::kPrometheusText);
  const std::string om = Write(help, value, ExpositionFormat::kOpenMetrics);
  const Decoded from_prom =
      Parse(prom, !help.empty(), ExpositionFormat::kPrometheusText);
  const Decoded from_om =
      Parse(om, !help.empty(), ExpositionFormat::kOpenMetrics);
  Check(from_prom.help == from_om.help);
  Check(from_prom.value == from_om.value);
  if (IsAscii(help)) Check(from_prom.help == help);
  if (IsAscii(value)) Check(from_prom.value == value);
  // Repaired text is a fixed point: writing it again changes nothing.
  Check(Write(from_prom.help, from_prom.value,
              ExpositionFormat::kPrometheusText) == prom);
  return 0;
}
