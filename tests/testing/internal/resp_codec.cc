#include "testing/internal/resp_codec.h"

#include <cstdint>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace keel::testing_internal {
namespace {

using keel::testing::RespReply;

constexpr int kMaxDepth = 64;
constexpr int64_t kMaxLength = int64_t{512} << 20;  // Redis' own bulk limit.

enum class Progress { kComplete, kNeedMore };

// absl::string_view is not std::string_view in the Abseil release keel
// builds against.
absl::string_view AsAbsl(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

// Reads the line starting at *pos (without its CRLF) and advances past it.
bool ReadLine(std::string_view input, size_t* pos, std::string_view* line) {
  const size_t end = input.find("\r\n", *pos);
  if (end == std::string_view::npos) return false;
  *line = input.substr(*pos, end - *pos);
  *pos = end + 2;
  return true;
}

absl::Status ParseLength(std::string_view text, int64_t* length) {
  if (!absl::SimpleAtoi(AsAbsl(text), length) || *length < -1 ||
      *length > kMaxLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("RESP: bad length '", AsAbsl(text), "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Progress> ParseAt(std::string_view input, size_t* pos, int depth,
                                 RespReply* out) {
  if (depth > kMaxDepth) {
    return absl::InvalidArgumentError("RESP: arrays nested too deeply");
  }
  std::string_view line;
  if (!ReadLine(input, pos, &line)) return Progress::kNeedMore;
  if (line.empty()) {
    return absl::InvalidArgumentError("RESP: empty line instead of a reply");
  }
  const char type = line[0];
  const std::string_view rest = line.substr(1);
  switch (type) {
    case '+':
      out->type = RespReply::Type::kSimpleString;
      out->text = std::string(rest);
      return Progress::kComplete;
    case '-':
      out->type = RespReply::Type::kError;
      out->text = std::string(rest);
      return Progress::kComplete;
    case ':':
      if (!absl::SimpleAtoi(AsAbsl(rest), &out->integer)) {
        return absl::InvalidArgumentError(
            absl::StrCat("RESP: bad integer '", AsAbsl(rest), "'"));
      }
      out->type = RespReply::Type::kInteger;
      return Progress::kComplete;
    case '$': {
      int64_t length = 0;
      if (absl::Status status = ParseLength(rest, &length); !status.ok()) {
        return status;
      }
      if (length == -1) {
        out->type = RespReply::Type::kNil;
        return Progress::kComplete;
      }
      const size_t size = static_cast<size_t>(length);
      if (input.size() - *pos < size + 2) return Progress::kNeedMore;
      if (input.substr(*pos + size, 2) != "\r\n") {
        return absl::InvalidArgumentError(
            "RESP: bulk string not terminated by CRLF");
      }
      out->type = RespReply::Type::kBulkString;
      out->text = std::string(input.substr(*pos, size));
      *pos += size + 2;
      return Progress::kComplete;
    }
    case '*': {
      int64_t count = 0;
      if (absl::Status status = ParseLength(rest, &count); !status.ok()) {
        return status;
      }
      if (count == -1) {
        out->type = RespReply::Type::kNil;
        return Progress::kComplete;
      }
      out->type = RespReply::Type::kArray;
      for (int64_t i = 0; i < count; ++i) {
        RespReply element;
        absl::StatusOr<Progress> progress =
            ParseAt(input, pos, depth + 1, &element);
        if (!progress.ok() || *progress == Progress::kNeedMore) {
          return progress;
        }
        out->elements.push_back(std::move(element));
      }
      return Progress::kComplete;
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("RESP: unknown reply type byte 0x",
                       absl::Hex(static_cast<unsigned char>(type))));
  }
}

}  // namespace

std::string EncodeRespCommand(const std::vector<std::string>& args) {
  std::string wire = absl::StrCat("*", args.size(), "\r\n");
  for (const std::string& arg : args) {
    absl::StrAppend(&wire, "$", arg.size(), "\r\n", arg, "\r\n");
  }
  return wire;
}

absl::StatusOr<std::optional<RespReply>> ParseRespReply(std::string_view input,
                                                        size_t* consumed) {
  *consumed = 0;
  size_t pos = 0;
  RespReply reply;
  absl::StatusOr<Progress> progress = ParseAt(input, &pos, 0, &reply);
  if (!progress.ok()) return progress.status();
  if (*progress == Progress::kNeedMore) return std::nullopt;
  *consumed = pos;
  return reply;
}

}  // namespace keel::testing_internal
