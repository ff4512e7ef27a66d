#include "keel/metrics/exposition.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "metrics/text_format.h"

namespace keel {
namespace metrics {
namespace {

using metrics_internal::AppendDouble;
using metrics_internal::AppendEscaped;
using metrics_internal::AppendUint;
using metrics_internal::FamilyBase;
using metrics_internal::FamilySpec;
using metrics_internal::MetricType;
using metrics_internal::Series;

// Writes one family. `labels` and `counts` are scratch buffers reused across
// families so that a scrape allocates only while they grow.
class FamilyWriter {
 public:
  FamilyWriter(ExpositionFormat format, std::string* out)
      : open_metrics_(format == ExpositionFormat::kOpenMetrics), out_(out) {}

  void Write(const FamilyBase& family) {
    const FamilySpec& spec = family.spec();
    bool header_written = false;
    family.ForEachSeries(
        [&](const std::vector<std::string>& values, const Series& series) {
          if (!header_written) {
            WriteHeader(spec);
            header_written = true;
          }
          BuildLabels(spec, values);
          switch (spec.type) {
            case MetricType::kCounter:
              WriteCounter(spec, series);
              break;
            case MetricType::kGauge:
              WriteSample(spec.name, "", labels_, Value(series));
              break;
            case MetricType::kHistogram:
              WriteHistogram(spec, *series.histogram);
              break;
          }
        });
  }

 private:
  static double Value(const Series& series) {
    if (series.callback) return series.callback();
    if (series.counter != nullptr) return series.counter->Value();
    return series.gauge->Value();
  }

  void WriteHeader(const FamilySpec& spec) {
    // Prometheus text names a counter family after its samples.
    const bool total_suffix =
        !open_metrics_ && spec.type == MetricType::kCounter;
    if (!spec.help.empty()) {
      out_->append("# HELP ");
      out_->append(spec.name);
      if (total_suffix) out_->append("_total");
      out_->push_back(' ');
      AppendEscaped(spec.help, /*escape_quote=*/open_metrics_, out_);
      out_->push_back('\n');
    }
    out_->append("# TYPE ");
    out_->append(spec.name);
    if (total_suffix) out_->append("_total");
    switch (spec.type) {
      case MetricType::kCounter:
        out_->append(" counter\n");
        break;
      case MetricType::kGauge:
        out_->append(" gauge\n");
        break;
      case MetricType::kHistogram:
        out_->append(" histogram\n");
        break;
    }
  }

  // `labels_` = `name="value",...` without braces.
  void BuildLabels(const FamilySpec& spec,
                   const std::vector<std::string>& values) {
    labels_.clear();
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i > 0) labels_.push_back(',');
      labels_.append(spec.label_names[i]);
      labels_.append("=\"");
      AppendEscaped(values[i], /*escape_quote=*/true, &labels_);
      labels_.push_back('"');
    }
  }

  void WriteCounter(const FamilySpec& spec, const Series& series) {
    const double value = Value(series);
    // OpenMetrics counters are never negative or NaN; only a callback can
    // produce such a value.
    if (open_metrics_ && !(value >= 0)) return;
    WriteSample(spec.name, "_total", labels_, value);
  }

  void WriteHistogram(const FamilySpec& spec,
                      const metrics_internal::HistogramSeries& series) {
    const std::size_t buckets = series.buckets();
    counts_.assign(buckets, 0);
    double sum = 0;
    series.Collect(counts_.data(), &sum);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < buckets; ++i) {
      cumulative += counts_[i];
      bucket_labels_ = labels_;
      if (!bucket_labels_.empty()) bucket_labels_.push_back(',');
      bucket_labels_.append("le=\"");
      if (i + 1 < buckets) {
        AppendDouble(spec.bounds[i], &bucket_labels_);
      } else {
        bucket_labels_.append("+Inf");
      }
      bucket_labels_.push_back('"');
      WriteName(spec.name, "_bucket", bucket_labels_);
      AppendUint(cumulative, out_);
      out_->push_back('\n');
    }
    // OpenMetrics: a sum is a counter, so it must be >= 0 and not NaN, and
    // it is dropped altogether when buckets can hold negative values.
    const bool write_sum =
        !open_metrics_ || (sum >= 0 && spec.bounds.front() >= 0);
    if (write_sum) WriteSample(spec.name, "_sum", labels_, sum);
    WriteName(spec.name, "_count", labels_);
    AppendUint(cumulative, out_);
    out_->push_back('\n');
  }

  void WriteName(const std::string& name, std::string_view suffix,
                 const std::string& labels) {
    out_->append(name);
    out_->append(suffix);
    if (!labels.empty()) {
      out_->push_back('{');
      out_->append(labels);
      out_->push_back('}');
    }
    out_->push_back(' ');
  }

  void WriteSample(const std::string& name, std::string_view suffix,
                   const std::string& labels, double value) {
    WriteName(name, suffix, labels);
    AppendDouble(value, out_);
    out_->push_back('\n');
  }

  const bool open_metrics_;
  std::string* const out_;
  std::string labels_;
  std::string bucket_labels_;
  std::vector<std::uint64_t> counts_;
};

}  // namespace

std::string_view ContentType(ExpositionFormat format) {
  return format == ExpositionFormat::kOpenMetrics ? kOpenMetricsContentType
                                                  : kPrometheusTextContentType;
}

void WriteExposition(const Registry& registry, ExpositionFormat format,
                     std::string* out) {
  out->clear();
  FamilyWriter writer(format, out);
  {
    MutexLock lock(registry.mu_);
    for (const auto& entry : registry.families_) writer.Write(*entry.second);
  }
  if (format == ExpositionFormat::kOpenMetrics) out->append("# EOF\n");
}

}  // namespace metrics
}  // namespace keel
