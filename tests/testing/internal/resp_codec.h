// testing/internal/resp_codec.h
//
// RESP2 encoding of commands and incremental decoding of replies, kept apart
// from the socket code so that the framing rules are unit-tested on bytes.
//
// Example:
//   std::string wire = EncodeRespCommand({"GET", "key"});
//   size_t used = 0;
//   auto reply = ParseRespReply(received, &used);
//   // *reply == std::nullopt: `received` holds only part of a reply so far.
//
// Thread safety: pure functions, safe from any thread.

#ifndef KEEL_TESTING_INTERNAL_RESP_CODEC_H_
#define KEEL_TESTING_INTERNAL_RESP_CODEC_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "testing/resp_client.h"

namespace keel::testing_internal {

// Encodes `args` as a RESP array of bulk strings ("*2\r\n$3\r\nGET\r\n...").
std::string EncodeRespCommand(const std::vector<std::string>& args);

// Decodes the first reply in `input`. Returns the reply and sets *consumed to
// its length in bytes; returns std::nullopt (and *consumed = 0) when `input`
// is only a prefix of a reply. Fails with kInvalidArgument for bytes that are
// not RESP2: an unknown type byte, a bad length or integer, a bulk string not
// followed by CRLF, nesting deeper than 64 levels, or a length above 512 MiB.
absl::StatusOr<std::optional<keel::testing::RespReply>> ParseRespReply(
    std::string_view input, size_t* consumed);

}  // namespace keel::testing_internal

#endif  // KEEL_TESTING_INTERNAL_RESP_CODEC_H_
