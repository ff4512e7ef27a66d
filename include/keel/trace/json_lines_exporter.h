// keel/trace/json_lines_exporter.h
//
// `JsonLinesExporter` writes each span as one line of JSON,
// `{"scope":{"name":...},"span":{...}}` where both objects follow the OTLP
// JSON encoding (otlp_encoding.h), to a file or a std::ostream: handy for
// local development, CI artefacts and log shippers.
//
//   keel::trace::JsonLinesExporterOptions options;
//   options.path = "/var/log/app/spans.jsonl";    // appended to
//   auto exporter = keel::trace::JsonLinesExporter::Create(options).value();
//
// Thread safety: Export() serialises writes with an internal lock.

#ifndef KEEL_TRACE_JSON_LINES_EXPORTER_H_
#define KEEL_TRACE_JSON_LINES_EXPORTER_H_

#include <fstream>
#include <memory>
#include <ostream>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/mutex.h"
#include "keel/trace/span_processor.h"

namespace keel::trace {

struct JsonLinesExporterOptions {
  // File to append to. Exactly one of `path` and `stream` must be set.
  std::string path;
  // Stream to write to; must outlive the exporter.
  std::ostream* stream = nullptr;
};

class JsonLinesExporter final : public SpanExporter {
 public:
  // Fails with kInvalidArgument unless exactly one destination is set, or
  // kUnavailable (with the path) if the file cannot be opened.
  static absl::StatusOr<std::unique_ptr<JsonLinesExporter>> Create(
      JsonLinesExporterOptions options);

  // Writes one line per span and flushes. kUnavailable if the write fails.
  absl::Status Export(const SpanBatch& batch) override;

  // Flushes and closes the file.
  absl::Status Shutdown() override;

 private:
  JsonLinesExporter(std::unique_ptr<std::ofstream> file, std::ostream* stream);

  Mutex mu_;
  std::unique_ptr<std::ofstream> file_ ABSL_GUARDED_BY(mu_);
  std::ostream* const stream_;
};

}  // namespace keel::trace

#endif  // KEEL_TRACE_JSON_LINES_EXPORTER_H_
