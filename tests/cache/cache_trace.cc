#include "cache_trace.h"

#include <cstdio>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "keel/cache/cache.h"

namespace keel::cache_testing {
namespace {

enum class Format { kArc, kLirs, kInt32BE, kInt64BE };

struct TraceFile {
  std::string_view name;
  std::string_view path;
  Format format;
  std::string_view decompressor;
};

constexpr TraceFile kTraces[] = {
    {"oltp", "arc/OLTP.lis.zst", Format::kArc, "zstd -dc"},
    {"corda", "corda/trace_vaultservice.gz", Format::kInt64BE, "gzip -dc"},
    {"web07", "cache2k/web07.trace.xz", Format::kInt32BE, "xz -dc"},
    {"web12", "cache2k/web12.trace.xz", Format::kInt32BE, "xz -dc"},
};

constexpr std::string_view kLirsTraces[] = {
    "2_pools", "backf",  "cpp", "cs",   "gli",    "loop",  "multi1",
    "multi2",  "multi3", "ps",  "scan", "sprite", "zigzag"};

struct PipeCloser {
  void operator()(FILE* pipe) const { pclose(pipe); }
};

absl::StatusOr<std::string> Decompress(std::string_view decompressor,
                                       const std::string& path) {
  if (FILE* probe = std::fopen(path.c_str(), "rb")) {
    std::fclose(probe);
  } else {
    return absl::NotFoundError("cache trace not found: " + path +
                               " (set KEEL_CACHE_TRACES_DIR)");
  }
  const std::string command =
      std::string(decompressor) + " '" + path + "' 2>/dev/null";
  FILE* raw = popen(command.c_str(), "r");
  if (raw == nullptr) return absl::DataLossError("cannot run: " + command);
  std::unique_ptr<FILE, PipeCloser> pipe(raw);
  std::string data;
  char buffer[1 << 16];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe.get())) > 0) {
    data.append(buffer, n);
  }
  const int status = pclose(pipe.release());
  if (status != 0) {
    return absl::DataLossError("decompressor failed (is it installed?): " +
                               command);
  }
  return data;
}

absl::StatusOr<std::vector<std::uint64_t>> ParseText(const std::string& data,
                                                     Format format) {
  std::vector<std::uint64_t> keys;
  for (absl::string_view line : absl::StrSplit(data, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line == "*") continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    std::uint64_t start = 0;
    if (fields.empty() || !absl::SimpleAtoi(fields[0], &start)) {
      return absl::DataLossError("bad trace line: " +
                                 std::string(line.data(), line.size()));
    }
    std::uint64_t count = 1;
    if (format == Format::kArc &&
        (fields.size() < 2 || !absl::SimpleAtoi(fields[1], &count))) {
      return absl::DataLossError("bad ARC trace line: " +
                                 std::string(line.data(), line.size()));
    }
    for (std::uint64_t i = 0; i < count; ++i) keys.push_back(start + i);
  }
  return keys;
}

std::vector<std::uint64_t> ParseBigEndian(const std::string& data,
                                          std::size_t width) {
  std::vector<std::uint64_t> keys;
  keys.reserve(data.size() / width);
  for (std::size_t offset = 0; offset + width <= data.size(); offset += width) {
    std::uint64_t key = 0;
    for (std::size_t i = 0; i < width; ++i) {
      key = (key << 8) | static_cast<unsigned char>(data[offset + i]);
    }
    keys.push_back(key);
  }
  return keys;
}

}  // namespace

std::vector<std::string> TraceNames() {
  std::vector<std::string> names;
  for (const TraceFile& trace : kTraces) names.emplace_back(trace.name);
  for (std::string_view name : kLirsTraces) names.emplace_back(name);
  return names;
}

absl::StatusOr<std::vector<std::uint64_t>> LoadTrace(const std::string& dir,
                                                     std::string_view name) {
  TraceFile file{name, "", Format::kLirs, "gzip -dc"};
  std::string lirs_path;
  bool known = false;
  for (const TraceFile& trace : kTraces) {
    if (trace.name == name) {
      file = trace;
      known = true;
    }
  }
  for (std::string_view lirs : kLirsTraces) {
    if (lirs == name) {
      lirs_path = "lirs/" + std::string(name) + ".trace.gz";
      file.path = lirs_path;
      known = true;
    }
  }
  if (!known) {
    return absl::InvalidArgumentError("unknown trace: " + std::string(name));
  }
  absl::StatusOr<std::string> data =
      Decompress(file.decompressor, dir + "/" + std::string(file.path));
  if (!data.ok()) return data.status();
  switch (file.format) {
    case Format::kArc:
    case Format::kLirs:
      return ParseText(*data, file.format);
    case Format::kInt32BE:
      return ParseBigEndian(*data, 4);
    case Format::kInt64BE:
      return ParseBigEndian(*data, 8);
  }
  return absl::InternalError("unreachable trace format");
}

double ReplayHitRatio(const std::vector<std::uint64_t>& keys,
                      std::uint64_t capacity, cache::EvictionPolicy policy,
                      int num_shards) {
  cache::CacheOptions<std::uint64_t, std::uint64_t> options;
  options.max_entries = capacity;
  options.policy = policy;
  options.num_shards = num_shards;
  options.seed = 0x5eed;
  auto cache =
      cache::Cache<std::uint64_t, std::uint64_t>::Create(options).value();
  for (std::uint64_t key : keys) {
    if (!cache->Get(key).has_value()) cache->Put(key, key);
  }
  return 100.0 * cache->Stats().HitRatio();
}

}  // namespace keel::cache_testing
