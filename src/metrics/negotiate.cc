// Accept-header negotiation between the Prometheus text format and
// OpenMetrics (see NegotiateFormat() in keel/metrics/exposition.h).

#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "keel/metrics/exposition.h"

namespace keel {
namespace metrics {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = absl::ascii_tolower(static_cast<unsigned char>(c));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Splits off the text up to the first `sep` outside a quoted string.
std::string_view NextToken(std::string_view* rest, char sep) {
  bool quoted = false;
  for (std::size_t i = 0; i < rest->size(); ++i) {
    const char c = (*rest)[i];
    if (quoted && c == '\\') {
      ++i;  // skip the escaped character
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == sep && !quoted) {
      const std::string_view token = rest->substr(0, i);
      rest->remove_prefix(i + 1);
      return token;
    }
  }
  const std::string_view token = *rest;
  *rest = std::string_view();
  return token;
}

// A parameter value without its quotes and escapes.
std::string Unquote(std::string_view v) {
  if (v.size() < 2 || v.front() != '"' || v.back() != '"') {
    return std::string(v);
  }
  v = v.substr(1, v.size() - 2);
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) ++i;
    out.push_back(v[i]);
  }
  return out;
}

// RFC 9110 qvalue: "0" ["." 0*3DIGIT] / "1" ["." 0*3("0")], in thousandths.
// Returns -1 if malformed.
int ParseQ(std::string_view v) {
  if (v.empty() || (v[0] != '0' && v[0] != '1')) return -1;
  int thousandths = (v[0] - '0') * 1000;
  if (v.size() == 1) return thousandths;
  if (v[1] != '.' || v.size() > 5) return -1;
  int scale = 100;
  for (std::size_t i = 2; i < v.size(); ++i, scale /= 10) {
    if (v[i] < '0' || v[i] > '9') return -1;
    thousandths += (v[i] - '0') * scale;
  }
  return thousandths > 1000 ? -1 : thousandths;
}

// What one candidate format has been granted so far.
struct Grant {
  int specificity = -1;  // of the deciding range; -1: no range matched
  int q = 0;             // in thousandths
  int position = 0;      // index of the deciding range in the header
};

void Consider(Grant* grant, int specificity, int q, int position) {
  // The most specific matching range decides; among equally specific ones,
  // the first listed.
  if (specificity > grant->specificity) {
    *grant = Grant{specificity, q, position};
  }
}

}  // namespace

NegotiatedFormat NegotiateFormat(std::string_view accept) {
  Grant open_metrics;
  Grant text;
  int position = 0;
  while (!accept.empty()) {
    std::string_view range = NextToken(&accept, ',');
    const std::string media = Lower(Trim(NextToken(&range, ';')));
    if (media.empty()) continue;
    int q = 1000;
    bool has_version = false;
    std::string version;
    bool malformed = false;
    while (!range.empty()) {
      std::string_view param = NextToken(&range, ';');
      const std::size_t eq = param.find('=');
      if (eq == std::string_view::npos) {
        if (!Trim(param).empty()) malformed = true;
        continue;
      }
      const std::string name = Lower(Trim(param.substr(0, eq)));
      const std::string value = Unquote(Trim(param.substr(eq + 1)));
      if (name == "q") {
        q = ParseQ(value);
        if (q < 0) malformed = true;
      } else if (name == "version") {
        has_version = true;
        version = value;
      }
    }
    const int index = position++;
    if (malformed) continue;
    const std::size_t slash = media.find('/');
    if (slash == std::string::npos) continue;
    const std::string_view type = std::string_view(media).substr(0, slash);
    const std::string_view subtype = std::string_view(media).substr(slash + 1);
    if (type == "*" && subtype == "*") {
      Consider(&open_metrics, 0, q, index);
      Consider(&text, 0, q, index);
    } else if (subtype == "*") {
      if (type == "application") Consider(&open_metrics, 1, q, index);
      if (type == "text") Consider(&text, 1, q, index);
    } else if (type == "application" && subtype == "openmetrics-text") {
      if (!has_version) {
        Consider(&open_metrics, 2, q, index);
      } else if (version == "1.0.0") {
        Consider(&open_metrics, 3, q, index);
      }
    } else if (type == "text" && subtype == "plain") {
      if (!has_version) {
        Consider(&text, 2, q, index);
      } else if (version == "0.0.4") {
        Consider(&text, 3, q, index);
      }
    }
  }
  NegotiatedFormat result;
  const bool prefer_open_metrics =
      open_metrics.q > 0 && (open_metrics.q > text.q ||
                             (open_metrics.q == text.q &&
                              (open_metrics.specificity > text.specificity ||
                               (open_metrics.specificity == text.specificity &&
                                open_metrics.position < text.position))));
  if (prefer_open_metrics) {
    result.format = ExpositionFormat::kOpenMetrics;
    result.content_type = kOpenMetricsContentType;
  }
  return result;
}

}  // namespace metrics
}  // namespace keel
