// keel/security/http_fields.h
//
// The framework-neutral view of HTTP fields that keel's security helpers read
// from requests and write to responses. An HTTP server adapter provides:
//
//   - a `RequestView`: method, request-target, whether the connection is TLS,
//     the socket peer address and the request's header fields as a contiguous
//     array of `FieldView` (name/value string views owned by the server);
//   - a `HeaderSink` for the response: `Set` (replace every field of that
//     name by exactly one) and `Remove`.
//
// `FieldVectorSink` adapts a `std::vector<std::pair<std::string, std::string>>`
// (what most servers store) to `HeaderSink`.
//
// Example:
//   std::vector<keel::security::FieldView> fields = {{"Host", "example.com"}};
//   keel::security::RequestView request;
//   request.method = "GET";
//   request.target = "/index.html";
//   request.peer_address = "203.0.113.7";
//   request.fields = fields.data();
//   request.field_count = fields.size();
//
//   std::vector<std::pair<std::string, std::string>> response_headers;
//   keel::security::FieldVectorSink sink(&response_headers);
//   sink.Set("Content-Type", "text/html");
//
// Field names compare case-insensitively (RFC 9110, section 5.1).
//
// Thread safety: `RequestView` and `FieldView` are plain values; a
// `FieldVectorSink` is as thread-safe as the vector it wraps (not at all).

#ifndef KEEL_SECURITY_HTTP_FIELDS_H_
#define KEEL_SECURITY_HTTP_FIELDS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keel {
namespace security {

// One header field of a request, viewing storage owned by the server.
struct FieldView {
  std::string_view name;
  std::string_view value;
};

// True when `a` and `b` are equal ignoring ASCII case (field names, tokens).
// Inline because response header updates compare names in a loop.
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a == b) return true;  // names usually arrive in the same case
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// A request as the security helpers see it. Every view points into storage
// owned by the caller and must outlive the calls that take the view.
struct RequestView {
  // Request method as received ("GET").
  std::string_view method;
  // Request-target as received: origin-form path plus optional query
  // ("/a/b?x=1").
  std::string_view target;
  // True when the request arrived over TLS on this server's own socket.
  bool tls = false;
  // The socket peer's IP address, without port ("203.0.113.7", "::1").
  std::string_view peer_address;
  // The header fields, in order of arrival (repeated names allowed).
  const FieldView* fields = nullptr;
  std::size_t field_count = 0;
  // Body length when known in advance (Content-Length); nullopt for chunked
  // bodies, which the server must cap while reading.
  std::optional<std::uint64_t> body_length;

  // The first value of field `name`, or nullopt.
  std::optional<std::string_view> Field(std::string_view name) const;
};

// Where response header fields go. Implementations must keep exactly one
// field per name after `Set`.
//
// Thread safety: implementations are used by one request at a time.
class HeaderSink {
 public:
  virtual ~HeaderSink() = default;

  // Replaces every field named `name` (any case) by one field `name: value`.
  virtual void Set(std::string_view name, std::string_view value) = 0;
  // Appends a field without touching existing ones (for fields that may
  // legitimately repeat, like Set-Cookie and Vary).
  virtual void Add(std::string_view name, std::string_view value) = 0;
  // Removes every field named `name` (any case).
  virtual void Remove(std::string_view name) = 0;
};

// `HeaderSink` over a vector of (name, value) pairs. `Set` overwrites the
// first field of that name in place (reusing its string capacity) and erases
// the others, so a response that already carries the header is updated
// without reallocating.
//
// Thread safety: not thread-safe, like the vector it wraps.
class FieldVectorSink final : public HeaderSink {
 public:
  // `fields` must outlive the sink.
  explicit FieldVectorSink(
      std::vector<std::pair<std::string, std::string>>* fields)
      : fields_(fields) {}

  void Set(std::string_view name, std::string_view value) override;
  void Add(std::string_view name, std::string_view value) override;
  void Remove(std::string_view name) override;

 private:
  std::vector<std::pair<std::string, std::string>>* fields_;
};

}  // namespace security
}  // namespace keel

#endif  // KEEL_SECURITY_HTTP_FIELDS_H_
