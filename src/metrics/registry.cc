#include "keel/metrics/registry.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "keel/base/status_macros.h"
#include "keel/metrics/buckets.h"
#include "metrics/text_format.h"

namespace keel {
namespace metrics {
namespace {

using metrics_internal::FamilyBase;
using metrics_internal::FamilySpec;
using metrics_internal::LabelValuesView;
using metrics_internal::MetricType;
using metrics_internal::Series;

constexpr std::string_view kTotalSuffix = "_total";

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "unknown";
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.substr(s.size() - suffix.size()) == suffix;
}

absl::Status ValidateSpec(const FamilySpec& spec, const std::string& given) {
  if (!metrics_internal::IsValidMetricName(given) ||
      !metrics_internal::IsValidMetricName(spec.name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metric name '", given,
        "' is invalid: it must match [a-zA-Z_:][a-zA-Z0-9_:]*",
        spec.type == MetricType::kCounter ? " before the _total suffix" : ""));
  }
  for (std::size_t i = 0; i < spec.label_names.size(); ++i) {
    const std::string& label = spec.label_names[i];
    if (!metrics_internal::IsValidLabelName(label)) {
      return absl::InvalidArgumentError(
          absl::StrCat("metric '", given, "': label name '", label,
                       "' is invalid: it must match [a-zA-Z_][a-zA-Z0-9_]*"));
    }
    if (label.size() >= 2 && label[0] == '_' && label[1] == '_') {
      return absl::InvalidArgumentError(
          absl::StrCat("metric '", given, "': label name '", label,
                       "' is reserved: names starting with __ are internal"));
    }
    if (spec.type == MetricType::kHistogram && label == "le") {
      return absl::InvalidArgumentError(
          absl::StrCat("metric '", given,
                       "': label name 'le' is reserved for histogram buckets"));
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (spec.label_names[j] == label) {
        return absl::InvalidArgumentError(absl::StrCat(
            "metric '", given, "': label name '", label, "' is repeated"));
      }
    }
  }
  if (spec.max_series < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("metric '", given, "': options.max_series must be >= 1"));
  }
  if (spec.type == MetricType::kHistogram) {
    const absl::Status status = ValidateBuckets(spec.bounds);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("metric '", given, "': ", status.message()));
    }
  }
  return absl::OkStatus();
}

// Every name a family's samples use, plus the family name itself.
std::vector<std::string> SampleNames(const FamilySpec& spec) {
  switch (spec.type) {
    case MetricType::kCounter:
      return {spec.name, spec.name + "_total", spec.name + "_created"};
    case MetricType::kGauge:
      return {spec.name};
    case MetricType::kHistogram:
      return {spec.name, spec.name + "_bucket", spec.name + "_sum",
              spec.name + "_count", spec.name + "_created"};
  }
  return {};
}

std::string Describe(const FamilySpec& spec) {
  return absl::StrCat(TypeName(spec.type), " with labels {",
                      absl::StrJoin(spec.label_names, ", "), "}");
}

FamilySpec MakeSpec(MetricType type, std::string_view name,
                    std::string_view help, std::vector<std::string> labels,
                    const FamilyOptions& options) {
  FamilySpec spec;
  spec.type = type;
  spec.name = std::string(name);
  if (type == MetricType::kCounter && EndsWith(name, kTotalSuffix)) {
    spec.name.resize(name.size() - kTotalSuffix.size());
  }
  spec.help = metrics_internal::SanitizeUtf8(help);
  spec.label_names = std::move(labels);
  spec.max_series = options.max_series;
  return spec;
}

}  // namespace

// --- CallbackRegistration -------------------------------------------------

CallbackRegistration::CallbackRegistration(
    CallbackRegistration&& other) noexcept
    : family_(std::exchange(other.family_, nullptr)),
      id_(std::exchange(other.id_, 0)) {}

CallbackRegistration& CallbackRegistration::operator=(
    CallbackRegistration&& other) noexcept {
  if (this != &other) {
    Reset();
    family_ = std::exchange(other.family_, nullptr);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void CallbackRegistration::Reset() {
  if (family_ != nullptr) family_->RemoveCallback(id_);
  family_ = nullptr;
  id_ = 0;
}

// --- Families -------------------------------------------------------------

namespace {

std::vector<std::string_view> Views(const std::vector<std::string>& values) {
  return std::vector<std::string_view>(values.begin(), values.end());
}

LabelValuesView ViewOf(std::initializer_list<std::string_view> values) {
  return LabelValuesView{values.begin(), values.end()};
}

LabelValuesView ViewOf(const std::vector<std::string_view>& values) {
  return LabelValuesView{values.data(), values.data() + values.size()};
}

}  // namespace

Counter CounterFamily::WithLabels(
    std::initializer_list<std::string_view> label_values) {
  Series* series = FindOrCreate(ViewOf(label_values));
  return series != nullptr ? Counter(series->counter.get()) : Counter();
}

Counter CounterFamily::WithLabels(
    const std::vector<std::string>& label_values) {
  Series* series = FindOrCreate(ViewOf(Views(label_values)));
  return series != nullptr ? Counter(series->counter.get()) : Counter();
}

absl::StatusOr<CallbackRegistration> CounterFamily::AddCallback(
    std::vector<std::string> label_values, std::function<double()> fn) {
  KEEL_ASSIGN_OR_RETURN(
      const std::uint64_t id,
      FamilyBase::AddCallback(std::move(label_values), std::move(fn)));
  return CallbackRegistration(this, id);
}

Gauge GaugeFamily::WithLabels(
    std::initializer_list<std::string_view> label_values) {
  Series* series = FindOrCreate(ViewOf(label_values));
  return series != nullptr ? Gauge(series->gauge.get()) : Gauge();
}

Gauge GaugeFamily::WithLabels(const std::vector<std::string>& label_values) {
  Series* series = FindOrCreate(ViewOf(Views(label_values)));
  return series != nullptr ? Gauge(series->gauge.get()) : Gauge();
}

absl::StatusOr<CallbackRegistration> GaugeFamily::AddCallback(
    std::vector<std::string> label_values, std::function<double()> fn) {
  KEEL_ASSIGN_OR_RETURN(
      const std::uint64_t id,
      FamilyBase::AddCallback(std::move(label_values), std::move(fn)));
  return CallbackRegistration(this, id);
}

Histogram HistogramFamily::WithLabels(
    std::initializer_list<std::string_view> label_values) {
  Series* series = FindOrCreate(ViewOf(label_values));
  return series != nullptr ? Histogram(series->histogram.get()) : Histogram();
}

Histogram HistogramFamily::WithLabels(
    const std::vector<std::string>& label_values) {
  Series* series = FindOrCreate(ViewOf(Views(label_values)));
  return series != nullptr ? Histogram(series->histogram.get()) : Histogram();
}

std::uint64_t Histogram::Count() const {
  if (series_ == nullptr) return 0;
  std::vector<std::uint64_t> counts(series_->buckets());
  double sum = 0;
  series_->Collect(counts.data(), &sum);
  std::uint64_t total = 0;
  for (const std::uint64_t c : counts) total += c;
  return total;
}

double Histogram::Sum() const {
  if (series_ == nullptr) return 0;
  std::vector<std::uint64_t> counts(series_->buckets());
  double sum = 0;
  series_->Collect(counts.data(), &sum);
  return sum;
}

// --- Registry ---------------------------------------------------------------

Registry::Registry() {
  FamilySpec spec;
  spec.type = MetricType::kCounter;
  spec.name = std::string(kOverflowMetricName);
  spec.name.resize(spec.name.size() - kTotalSuffix.size());
  spec.help =
      "Label look-ups that exceeded a metric family's max_series and were "
      "mapped to its overflow series.";
  spec.label_names = {"metric"};
  spec.max_series = std::numeric_limits<std::size_t>::max();
  // Cannot fail: the registry is empty and the spec is valid.
  overflow_family_ = *Add(std::move(spec));
}

Registry::~Registry() = default;

absl::StatusOr<FamilyBase*> Registry::Add(FamilySpec spec) {
  MutexLock lock(mu_);
  auto it = families_.find(spec.name);
  if (it != families_.end()) {
    const FamilySpec& existing = it->second->spec();
    if (existing.type != spec.type ||
        existing.label_names != spec.label_names) {
      return absl::AlreadyExistsError(absl::StrCat(
          "metric '", spec.name, "' is already registered as ",
          Describe(existing), "; cannot register it as ", Describe(spec)));
    }
    if (existing.help != spec.help) {
      return absl::AlreadyExistsError(absl::StrCat(
          "metric '", spec.name, "' is already registered with help '",
          existing.help, "'; cannot register it with help '", spec.help, "'"));
    }
    if (existing.bounds != spec.bounds) {
      return absl::AlreadyExistsError(
          absl::StrCat("metric '", spec.name,
                       "' is already registered with different bucket bounds"));
    }
    return it->second.get();
  }
  const std::vector<std::string> names = SampleNames(spec);
  for (const std::string& name : names) {
    auto taken = sample_names_.find(name);
    if (taken != sample_names_.end()) {
      return absl::AlreadyExistsError(
          absl::StrCat("metric '", spec.name, "' (", TypeName(spec.type),
                       ") would expose the name '", name,
                       "', already used by metric '", taken->second, "'"));
    }
  }
  for (const std::string& name : names) sample_names_[name] = spec.name;
  std::unique_ptr<FamilyBase> family;
  switch (spec.type) {
    case MetricType::kCounter:
      family.reset(new CounterFamily(std::move(spec), overflow_family_));
      break;
    case MetricType::kGauge:
      family.reset(new GaugeFamily(std::move(spec), overflow_family_));
      break;
    case MetricType::kHistogram:
      family.reset(new HistogramFamily(std::move(spec), overflow_family_));
      break;
  }
  FamilyBase* raw = family.get();
  const std::string key = raw->spec().name;
  families_.emplace(key, std::move(family));
  return raw;
}

absl::StatusOr<CounterFamily*> Registry::AddCounter(
    std::string_view name, std::string_view help,
    std::vector<std::string> label_names, FamilyOptions options) {
  FamilySpec spec = MakeSpec(MetricType::kCounter, name, help,
                             std::move(label_names), options);
  KEEL_RETURN_IF_ERROR(ValidateSpec(spec, std::string(name)));
  KEEL_ASSIGN_OR_RETURN(FamilyBase * family, Add(std::move(spec)));
  return static_cast<CounterFamily*>(family);
}

absl::StatusOr<GaugeFamily*> Registry::AddGauge(
    std::string_view name, std::string_view help,
    std::vector<std::string> label_names, FamilyOptions options) {
  FamilySpec spec =
      MakeSpec(MetricType::kGauge, name, help, std::move(label_names), options);
  KEEL_RETURN_IF_ERROR(ValidateSpec(spec, std::string(name)));
  KEEL_ASSIGN_OR_RETURN(FamilyBase * family, Add(std::move(spec)));
  return static_cast<GaugeFamily*>(family);
}

absl::StatusOr<HistogramFamily*> Registry::AddHistogram(
    std::string_view name, std::string_view help,
    std::vector<std::string> label_names, std::vector<double> bounds,
    FamilyOptions options) {
  FamilySpec spec = MakeSpec(MetricType::kHistogram, name, help,
                             std::move(label_names), options);
  spec.bounds = std::move(bounds);
  KEEL_RETURN_IF_ERROR(ValidateSpec(spec, std::string(name)));
  KEEL_ASSIGN_OR_RETURN(FamilyBase * family, Add(std::move(spec)));
  return static_cast<HistogramFamily*>(family);
}

}  // namespace metrics
}  // namespace keel
