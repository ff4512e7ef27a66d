// Private helper shared by the header parsers of keel::trace.

#ifndef KEEL_SRC_TRACE_HEADER_LINES_H_
#define KEEL_SRC_TRACE_HEADER_LINES_H_

#include <string>
#include <string_view>
#include <vector>

namespace keel::trace_internal {

// Combines the field lines of one header into a single value by joining them
// with `,` (RFC 9110, section 5.3), for list-valued headers such as
// `tracestate` and `baggage`.
inline std::string JoinHeaderLines(const std::vector<std::string_view>& lines) {
  std::string joined;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) joined.push_back(',');
    joined.append(lines[i]);
  }
  return joined;
}

}  // namespace keel::trace_internal

#endif  // KEEL_SRC_TRACE_HEADER_LINES_H_
