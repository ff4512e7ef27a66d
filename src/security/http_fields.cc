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
  bool found = false;
  std::size_t out = 0;
  for (std::size_t i = 0; i < fields_->size(); ++i) {
    auto& field = (*fields_)[i];
    if (EqualsIgnoreCase(field.first, name)) {
      if (found) continue;
      found = true;
      field.second.assign(value.data(), value.size());
    }
    if (out != i) (*fields_)[out] = std::move(field);
    ++out;
  }
  fields_->resize(out);
  if (!found) fields_->emplace_back(std::string(name), std::string(value));
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
