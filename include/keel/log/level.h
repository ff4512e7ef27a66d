// keel/log/level.h
//
// Severity levels of keel log records, ordered so that filtering is one
// integer comparison.
//
// Example:
//   std::optional<keel::log::Level> level = keel::log::ParseLevel("warn");
//   std::string_view name = keel::log::LevelName(keel::log::Level::kError);
//
// Thread safety: plain values and pure functions.

#ifndef KEEL_LOG_LEVEL_H_
#define KEEL_LOG_LEVEL_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace keel::log {

// Increasing severity. kOff is only a filter threshold ("log nothing").
enum class Level : std::uint8_t {
  kTrace = 0,
  kDebug = 1,
  kInfo = 2,
  kWarn = 3,
  kError = 4,
  kOff = 5,
};

// "trace", "debug", "info", "warn", "error" or "off" (the JSON "level").
std::string_view LevelName(Level level);

// Inverse of LevelName(), case-sensitive, also accepting "warning"; nullopt for
// anything else.
std::optional<Level> ParseLevel(std::string_view name);

}  // namespace keel::log

#endif  // KEEL_LOG_LEVEL_H_
