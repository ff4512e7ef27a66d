#include "keel/security/http_fields.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keel {
namespace security {

std::optional<std::string_view> RequestView::Field(
    std::string_view name) const {
  for (std::size_t i = 0; i < field_count; ++i) {
    if (EqualsIgnoreCase(fields[i].name, name)) return fields[i].value;
  }
  return std::nullopt;
}

void FieldVectorSink::Set(std::string_view name, std::string_view value) {
  auto& fields = *fields_;
  const std::size_t size = fields.size();
  std::size_t first = 0;
  while (first < size && !EqualsIgnoreCase(fields[first].first, name)) ++first;
  if (first == size) {
    fields.emplace_back(std::string(name), std::string(value));
    return;
  }
  fields[first].second.assign(value.data(), value.size());
  // Later fields of the same name (rare) are dropped: one instance remains.
  std::size_t out = first + 1;
  for (std::size_t i = first + 1; i < size; ++i) {
    if (EqualsIgnoreCase(fields[i].first, name)) continue;
    if (out != i) fields[out] = std::move(fields[i]);
    ++out;
  }
  fields.resize(out);
}

void FieldVectorSink::Add(std::string_view name, std::string_view value) {
  fields_->emplace_back(std::string(name), std::string(value));
}

void FieldVectorSink::Remove(std::string_view name) {
  std::size_t out = 0;
  for (std::size_t i = 0; i < fields_->size(); ++i) {
    if (EqualsIgnoreCase((*fields_)[i].first, name)) continue;
    if (out != i) (*fields_)[out] = std::move((*fields_)[i]);
    ++out;
  }
  fields_->resize(out);
}

}  // namespace security
}  // namespace keel
