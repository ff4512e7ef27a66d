#include "keel/trace/json_lines_exporter.h"

#include <string>
#include <utility>

#include "keel/trace/otlp_encoding.h"

namespace keel::trace {

absl::StatusOr<std::unique_ptr<JsonLinesExporter>> JsonLinesExporter::Create(
    JsonLinesExporterOptions options) {
  if (options.path.empty() == (options.stream == nullptr)) {
    return absl::InvalidArgumentError(
        "JsonLinesExporterOptions: set exactly one of path and stream");
  }
  std::unique_ptr<std::ofstream> file;
  std::ostream* stream = options.stream;
  if (!options.path.empty()) {
    file = std::make_unique<std::ofstream>(options.path, std::ios::app);
    if (!file->is_open()) {
      return absl::UnavailableError(
          "JsonLinesExporterOptions.path: cannot open " + options.path);
    }
    stream = file.get();
  }
  return std::unique_ptr<JsonLinesExporter>(
      new JsonLinesExporter(std::move(file), stream));
}

JsonLinesExporter::JsonLinesExporter(std::unique_ptr<std::ofstream> file,
                                     std::ostream* stream)
    : file_(std::move(file)), stream_(stream) {}

absl::Status JsonLinesExporter::Export(const SpanBatch& batch) {
  std::string out;
  for (const auto& span : batch) {
    out.append("{\"scope\":");
    AppendOtlpJsonScope(span->scope, out);
    out.append(",\"span\":");
    AppendOtlpJsonSpan(*span, out);
    out.append("}\n");
  }
  MutexLock lock(mu_);
  stream_->write(out.data(), static_cast<std::streamsize>(out.size()));
  stream_->flush();
  if (!*stream_) return absl::UnavailableError("JSON-lines span write failed");
  return absl::OkStatus();
}

absl::Status JsonLinesExporter::Shutdown() {
  MutexLock lock(mu_);
  stream_->flush();
  if (file_) file_->close();
  return absl::OkStatus();
}

}  // namespace keel::trace
