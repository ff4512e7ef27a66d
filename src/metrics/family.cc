#include "keel/metrics/internal/family.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "keel/metrics/registry.h"
#include "metrics/text_format.h"

namespace keel {
namespace metrics_internal {

FamilyBase::FamilyBase(FamilySpec spec, FamilyBase* overflow_family)
    : spec_(std::move(spec)), overflow_family_(overflow_family) {}

FamilyBase::~FamilyBase() = default;

std::size_t FamilyBase::series_count() const {
  MutexLock lock(mu_);
  return series_.size();
}

Series* FamilyBase::FindOrCreate(LabelValuesView values) {
  const auto n = static_cast<std::size_t>(values.end() - values.begin());
  if (n != spec_.label_names.size()) return nullptr;
  MutexLock lock(mu_);
  auto it = series_.find(values);
  if (it == series_.end()) {
    // Stored values are repaired UTF-8; look the repaired form up before
    // deciding the label set is new.
    std::vector<std::string> stored;
    stored.reserve(n);
    for (const std::string_view value : values) {
      stored.push_back(SanitizeUtf8(value));
    }
    it = series_.find(stored);
    if (it == series_.end()) {
      const std::size_t limited =
          series_.size() - (overflow_series_ != nullptr ? 1 : 0);
      if (limited >= spec_.max_series) return Overflow();
      return Create(std::move(stored));
    }
  }
  Series& series = it->second;
  if (series.callback) return nullptr;
  return &series;
}

Series* FamilyBase::Create(std::vector<std::string> values) {
  Series& series = series_[std::move(values)];
  switch (spec_.type) {
    case MetricType::kCounter:
      series.counter = std::make_unique<CounterSeries>();
      break;
    case MetricType::kGauge:
      series.gauge = std::make_unique<GaugeSeries>();
      break;
    case MetricType::kHistogram:
      series.histogram = std::make_unique<HistogramSeries>(&spec_.bounds);
      break;
  }
  return &series;
}

Series* FamilyBase::Overflow() {
  overflows_.fetch_add(1, std::memory_order_relaxed);
  if (overflow_family_ != nullptr) {
    if (overflow_counter_ == nullptr) {
      const std::string_view name = spec_.name;
      Series* counter = overflow_family_->FindOrCreate({&name, &name + 1});
      if (counter != nullptr) overflow_counter_ = counter->counter.get();
    }
    if (overflow_counter_ != nullptr) overflow_counter_->Add(1);
  }
  if (overflow_series_ == nullptr) {
    std::vector<std::string> values(spec_.label_names.size(),
                                    std::string(metrics::kOverflowLabelValue));
    auto it = series_.find(values);
    overflow_series_ =
        it != series_.end() ? &it->second : Create(std::move(values));
  }
  return overflow_series_->callback ? nullptr : overflow_series_;
}

absl::StatusOr<std::uint64_t> FamilyBase::AddCallback(
    std::vector<std::string> values, std::function<double()> fn) {
  if (values.size() != spec_.label_names.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("metric '", spec_.name, "': callback has ", values.size(),
                     " label values, the family has ", spec_.label_names.size(),
                     " label names"));
  }
  if (!fn) {
    return absl::InvalidArgumentError(
        absl::StrCat("metric '", spec_.name, "': callback function is empty"));
  }
  for (std::string& value : values) value = SanitizeUtf8(value);
  MutexLock lock(mu_);
  if (series_.count(values) != 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("metric '", spec_.name, "': label values {",
                     absl::StrJoin(values, ", "), "} already have a series"));
  }
  const std::size_t limited =
      series_.size() - (overflow_series_ != nullptr ? 1 : 0);
  if (limited >= spec_.max_series) {
    return absl::ResourceExhaustedError(
        absl::StrCat("metric '", spec_.name, "': max_series (",
                     spec_.max_series, ") reached; callback not added"));
  }
  const std::uint64_t id = next_callback_id_++;
  Series& series = series_[std::move(values)];
  series.callback = std::move(fn);
  series.callback_id = id;
  return id;
}

void FamilyBase::RemoveCallback(std::uint64_t id) {
  std::function<double()> doomed;  // destroyed after the lock is released
  MutexLock lock(mu_);
  for (auto it = series_.begin(); it != series_.end(); ++it) {
    if (it->second.callback_id == id) {
      doomed = std::move(it->second.callback);
      series_.erase(it);
      return;
    }
  }
}

}  // namespace metrics_internal
}  // namespace keel
