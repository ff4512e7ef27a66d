// CacheLayer's default batch operations and MemoryLayer.

#include "keel/cache/layer.h"

#include <utility>

namespace keel::cache {

absl::StatusOr<std::vector<std::optional<LayerValue>>> CacheLayer::GetMany(
    const std::vector<std::string>& keys) {
  std::vector<std::optional<LayerValue>> values;
  values.reserve(keys.size());
  for (const std::string& key : keys) {
    absl::StatusOr<std::optional<LayerValue>> value = Get(key);
    if (!value.ok()) return value.status();
    values.push_back(*std::move(value));
  }
  return values;
}

absl::Status CacheLayer::SetMany(const std::vector<LayerWrite>& writes) {
  for (const LayerWrite& write : writes) {
    absl::Status status = Set(write.key, write.bytes, write.ttl);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status CacheLayer::DeleteMany(const std::vector<std::string>& keys) {
  for (const std::string& key : keys) {
    absl::Status status = Delete(key);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<MemoryLayer>> MemoryLayer::Create(
    MemoryLayerOptions options) {
  if (options.name.empty()) {
    return absl::InvalidArgumentError(
        "MemoryLayerOptions.name must not be empty");
  }
  if (options.max_entries < 1) {
    return absl::InvalidArgumentError(
        "MemoryLayerOptions.max_entries must be >= 1");
  }
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError(
        "MemoryLayerOptions.clock must not be null");
  }
  return std::unique_ptr<MemoryLayer>(new MemoryLayer(std::move(options)));
}

std::int64_t MemoryLayer::NowNs() const {
  return static_cast<std::int64_t>(options_.clock->Now().count());
}

absl::Status MemoryLayer::TakeFault() {
  // Fresh copies: an absl::Status rep shared across threads is released in
  // Debian's uninstrumented libabsl_status, which ThreadSanitizer reports as
  // a race with the other thread's reads of the message.
  if (!failing_.ok()) return absl::Status(failing_.code(), failing_.message());
  if (fail_next_ > 0) {
    --fail_next_;
    return absl::Status(fail_next_status_.code(), fail_next_status_.message());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<LayerValue>> MemoryLayer::Get(
    std::string_view key) {
  const std::int64_t now_ns = NowNs();
  MutexLock lock(mu_);
  ++calls_.gets;
  if (absl::Status fault = TakeFault(); !fault.ok()) return fault;
  auto it = items_.find(key);
  if (it == items_.end()) return std::optional<LayerValue>();
  if (now_ns >= it->second.deadline_ns) {
    items_.erase(it);
    return std::optional<LayerValue>();
  }
  LayerValue value;
  value.bytes = it->second.bytes;
  if (it->second.deadline_ns != kNoDeadline) {
    value.ttl = std::chrono::nanoseconds(it->second.deadline_ns - now_ns);
  }
  return std::optional<LayerValue>(std::move(value));
}

absl::Status MemoryLayer::Set(std::string_view key, std::string_view bytes,
                              std::optional<std::chrono::nanoseconds> ttl) {
  const std::int64_t now_ns = NowNs();
  MutexLock lock(mu_);
  ++calls_.sets;
  if (absl::Status fault = TakeFault(); !fault.ok()) return fault;
  if (ttl.has_value() && ttl->count() <= 0) {
    auto it = items_.find(key);
    if (it != items_.end()) items_.erase(it);
    return absl::OkStatus();
  }
  const std::int64_t deadline_ns =
      !ttl.has_value() ? kNoDeadline
      : ttl->count() >= kNoDeadline - now_ns
          ? kNoDeadline - 1
          : now_ns + static_cast<std::int64_t>(ttl->count());
  auto it = items_.find(key);
  if (it == items_.end()) {
    if (items_.size() >= options_.max_entries) {
      return absl::ResourceExhaustedError("memory layer '" + options_.name +
                                          "' is full");
    }
    items_.emplace(std::string(key), Item{std::string(bytes), deadline_ns});
  } else {
    it->second.bytes.assign(bytes.data(), bytes.size());
    it->second.deadline_ns = deadline_ns;
  }
  return absl::OkStatus();
}

absl::Status MemoryLayer::Delete(std::string_view key) {
  MutexLock lock(mu_);
  ++calls_.deletes;
  if (absl::Status fault = TakeFault(); !fault.ok()) return fault;
  auto it = items_.find(key);
  if (it != items_.end()) items_.erase(it);
  return absl::OkStatus();
}

absl::Status MemoryLayer::Clear() {
  MutexLock lock(mu_);
  ++calls_.clears;
  if (absl::Status fault = TakeFault(); !fault.ok()) return fault;
  items_.clear();
  return absl::OkStatus();
}

void MemoryLayer::FailNext(int calls, absl::Status status) {
  MutexLock lock(mu_);
  fail_next_ = status.ok() ? 0 : calls;
  fail_next_status_ = std::move(status);
}

void MemoryLayer::SetFailing(absl::Status status) {
  MutexLock lock(mu_);
  failing_ = std::move(status);
}

MemoryLayer::CallCounts MemoryLayer::calls() const {
  MutexLock lock(mu_);
  return calls_;
}

std::size_t MemoryLayer::Size() const {
  const std::int64_t now_ns = NowNs();
  MutexLock lock(mu_);
  std::size_t live = 0;
  for (const auto& [key, item] : items_) {
    if (now_ns < item.deadline_ns) ++live;
  }
  return live;
}

}  // namespace keel::cache
