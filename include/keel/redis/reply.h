// keel/redis/reply.h
//
// `keel::redis::Reply`: one RESP2 reply, owned by keel (copied out of hiredis's
// reply tree, which is freed immediately), so replies can outlive the
// connection, cross threads and never leak or double-free a hiredis object.
//
// Example:
//   absl::StatusOr<Reply> r = connection->Command({"GET", "user:42"});
//   if (r.ok() && r->is_string()) Use(r->str());
//   if (r.ok() && r->is_nil()) ...;            // key absent
//   if (r.ok() && r->is_error()) ...;          // e.g. WRONGTYPE: a value, not
//   a Status
//
// Thread safety: a Reply is a plain value (safe to read from many threads,
// copy to write).

#ifndef KEEL_REDIS_REPLY_H_
#define KEEL_REDIS_REPLY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace keel::redis {

class Reply {
 public:
  // RESP2 reply kinds. `kStatus` is a simple string such as "OK" or "PONG";
  // `kError` is an error reply ("ERR ...", "WRONGTYPE ...").
  enum class Type { kNil, kString, kStatus, kError, kInteger, kArray };

  // A nil reply.
  Reply() = default;

  static Reply Nil() { return Reply(); }
  static Reply String(std::string value) {
    return Reply(Type::kString, std::move(value));
  }
  static Reply Status(std::string value) {
    return Reply(Type::kStatus, std::move(value));
  }
  static Reply Error(std::string value) {
    return Reply(Type::kError, std::move(value));
  }
  static Reply Integer(std::int64_t value);
  static Reply Array(std::vector<Reply> elements);

  Type type() const { return type_; }
  bool is_nil() const { return type_ == Type::kNil; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_status() const { return type_ == Type::kStatus; }
  bool is_error() const { return type_ == Type::kError; }
  bool is_integer() const { return type_ == Type::kInteger; }
  bool is_array() const { return type_ == Type::kArray; }

  // The bytes of a string, status or error reply (binary-safe); empty
  // otherwise.
  std::string_view str() const { return str_; }
  // The value of an integer reply; 0 otherwise.
  std::int64_t integer() const { return integer_; }
  // The elements of an array reply; empty otherwise.
  const std::vector<Reply>& elements() const { return elements_; }

  // OK for every reply but an error reply, which becomes kFailedPrecondition
  // with the server's message (e.g. "redis: WRONGTYPE Operation against a key
  // holding the wrong kind of value").
  absl::Status ToStatus() const;

  friend bool operator==(const Reply& a, const Reply& b);
  friend bool operator!=(const Reply& a, const Reply& b) { return !(a == b); }

 private:
  Reply(Type type, std::string str) : type_(type), str_(std::move(str)) {}

  Type type_ = Type::kNil;
  std::string str_;
  std::int64_t integer_ = 0;
  std::vector<Reply> elements_;
};

}  // namespace keel::redis

#endif  // KEEL_REDIS_REPLY_H_
