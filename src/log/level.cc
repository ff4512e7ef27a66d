#include "keel/log/level.h"

#include <optional>
#include <string_view>

namespace keel::log {

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kTrace:
      return "trace";
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kOff:
      return "off";
  }
  return "off";
}

std::optional<Level> ParseLevel(std::string_view name) {
  for (const Level level : {Level::kTrace, Level::kDebug, Level::kInfo,
                            Level::kWarn, Level::kError, Level::kOff}) {
    if (name == LevelName(level)) return level;
  }
  if (name == "warning") return Level::kWarn;
  return std::nullopt;
}

}  // namespace keel::log
