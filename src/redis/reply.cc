#include "keel/redis/reply.h"

#include "absl/strings/str_cat.h"

namespace keel::redis {

Reply Reply::Integer(std::int64_t value) {
  Reply reply;
  reply.type_ = Type::kInteger;
  reply.integer_ = value;
  return reply;
}

Reply Reply::Array(std::vector<Reply> elements) {
  Reply reply;
  reply.type_ = Type::kArray;
  reply.elements_ = std::move(elements);
  return reply;
}

absl::Status Reply::ToStatus() const {
  if (type_ != Type::kError) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("redis: ", str_));
}

bool operator==(const Reply& a, const Reply& b) {
  return a.type_ == b.type_ && a.str_ == b.str_ && a.integer_ == b.integer_ &&
         a.elements_ == b.elements_;
}

}  // namespace keel::redis
