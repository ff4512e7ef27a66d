// Flag evaluation through keel's FlagClient against a naive evaluator that
// interprets the flagd document's JSON Logic from nlohmann::json on every
// call (the way a straightforward port of a JSON Logic library works), for a
// static flag, a 3-clause targeting rule and `fractional`; and keel's
// evaluation throughput while the configuration is reloaded every 10 ms
// (baseline: the same evaluations without reloads).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "benchmark/benchmark.h"
#include "keel/base/hash.h"
#include "keel/flags/client.h"
#include "keel/flags/evaluation.h"
#include "keel/flags/provider.h"
#include "keel/flags/source.h"
#include "nlohmann/json.hpp"

namespace {

using nlohmann::json;

constexpr char kFlags[] = R"({
  "metadata": {"version": 1},
  "flags": {
    "static": {
      "state": "ENABLED",
      "variants": {"on": true, "off": false},
      "defaultVariant": "on"
    },
    "three-clause": {
      "state": "ENABLED",
      "variants": {"on": true, "off": false},
      "defaultVariant": "off",
      "targeting": {"if": [{"and": [
        {"ends_with": [{"var": "email"}, "@example.com"]},
        {"in": [{"var": "plan"}, ["pro", "team", "enterprise"]]},
        {">=": [{"var": "seats"}, 10]}]}, "on", "off"]}
    },
    "fractional": {
      "state": "ENABLED",
      "variants": {"control": "control", "treatment": "treatment"},
      "defaultVariant": "control",
      "targeting": {"fractional": [["control", 50], ["treatment", 50]]}
    }
  }
})";

// ---- The naive baseline: JSON Logic walked from nlohmann::json per call. --

json Evaluate(const json& rule, const json& data, const std::string& key);

json Var(const json& path, const json& data) {
  const std::string name =
      path.is_array() ? path[0].get<std::string>() : path.get<std::string>();
  const json* at = &data;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t dot = std::min(name.find('.', start), name.size());
    const std::string part = name.substr(start, dot - start);
    if (!at->is_object() || !at->contains(part)) return nullptr;
    at = &(*at)[part];
    start = dot + 1;
  }
  return *at;
}

bool Truthy(const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string()) return !v.get<std::string>().empty();
  if (v.is_array() || v.is_object()) return !v.empty();
  return false;
}

json Fractional(const json& args, const json& data, const std::string& key) {
  std::size_t first = 0;
  std::string bucket_by;
  if (!args[0].is_array()) {
    const json by = Evaluate(args[0], data, key);
    if (!by.is_string()) return nullptr;
    bucket_by = by.get<std::string>();
    first = 1;
  } else {
    const json tk = Var(json("targetingKey"), data);
    if (!tk.is_string()) return nullptr;
    bucket_by = key + tk.get<std::string>();
  }
  std::uint64_t total = 0;
  for (std::size_t i = first; i < args.size(); ++i) {
    total += args[i].size() > 1 ? args[i][1].get<std::uint64_t>() : 1;
  }
  const std::uint64_t bucket =
      (std::uint64_t{keel::Murmur3X86_32(bucket_by)} * total) >> 32;
  std::uint64_t sum = 0;
  for (std::size_t i = first; i < args.size(); ++i) {
    sum += args[i].size() > 1 ? args[i][1].get<std::uint64_t>() : 1;
    if (bucket < sum) return args[i][0];
  }
  return nullptr;
}

json Evaluate(const json& rule, const json& data, const std::string& key) {
  if (!rule.is_object() || rule.size() != 1) return rule;
  const auto& [op, raw_args] = *rule.items().begin();
  // A single operand may be given without the array (JSON Logic sugar).
  json wrapped;
  if (!raw_args.is_array()) wrapped = json::array({raw_args});
  const json& args = raw_args.is_array() ? raw_args : wrapped;
  if (op == "var") return Var(args, data);
  if (op == "fractional") return Fractional(args, data, key);
  if (op == "if") {
    std::size_t i = 0;
    for (; i + 1 < args.size(); i += 2) {
      if (Truthy(Evaluate(args[i], data, key))) {
        return Evaluate(args[i + 1], data, key);
      }
    }
    return i < args.size() ? Evaluate(args[i], data, key) : json(nullptr);
  }
  if (op == "and") {
    json last = true;
    for (const json& a : args) {
      last = Evaluate(a, data, key);
      if (!Truthy(last)) return last;
    }
    return last;
  }
  const json a = Evaluate(args[0], data, key);
  const json b = Evaluate(args[1], data, key);
  if (op == "in") {
    if (b.is_array()) {
      for (const json& e : b) {
        if (e == a) return true;
      }
      return false;
    }
    return b.is_string() && a.is_string() &&
           b.get<std::string>().find(a.get<std::string>()) != std::string::npos;
  }
  if (op == ">=") {
    if (!a.is_number() || !b.is_number()) return false;
    return a.get<double>() >= b.get<double>();
  }
  if (op == "ends_with" || op == "starts_with") {
    if (!a.is_string() || !b.is_string()) return nullptr;
    const std::string s = a.get<std::string>();
    const std::string x = b.get<std::string>();
    if (x.size() > s.size()) return false;
    return op == "starts_with"
               ? s.compare(0, x.size(), x) == 0
               : s.compare(s.size() - x.size(), x.size(), x) == 0;
  }
  return nullptr;
}

// Resolves a boolean flag the naive way: look-ups and rule walk on the JSON.
bool NaiveBoolean(const json& doc, const std::string& key, const json& context,
                  bool default_value) {
  const json& flags = doc["flags"];
  const auto it = flags.find(key);
  if (it == flags.end() || (*it)["state"] != "ENABLED") return default_value;
  std::string variant = (*it)["defaultVariant"].get<std::string>();
  if (it->contains("targeting")) {
    json data = context;
    data["$flagd"] = {{"flagKey", key}, {"timestamp", 1700000000}};
    const json result = Evaluate((*it)["targeting"], data, key);
    if (result.is_string()) variant = result.get<std::string>();
  }
  const json& value = (*it)["variants"][variant];
  return value.is_boolean() ? value.get<bool>() : default_value;
}

std::string NaiveString(const json& doc, const std::string& key,
                        const json& context, const std::string& default_value) {
  const json& flags = doc["flags"];
  const auto it = flags.find(key);
  if (it == flags.end() || (*it)["state"] != "ENABLED") return default_value;
  std::string variant = (*it)["defaultVariant"].get<std::string>();
  if (it->contains("targeting")) {
    json data = context;
    data["$flagd"] = {{"flagKey", key}, {"timestamp", 1700000000}};
    const json result = Evaluate((*it)["targeting"], data, key);
    if (result.is_string()) variant = result.get<std::string>();
  }
  const json& value = (*it)["variants"][variant];
  return value.is_string() ? value.get<std::string>() : default_value;
}

// ---- keel. -----------------------------------------------------------------

struct KeelFixture {
  KeelFixture() {
    auto source = std::make_unique<keel::flags::InMemoryFlagSource>(kFlags);
    memory = source.get();
    keel::flags::FlagProviderOptions options;
    options.source = std::move(source);
    provider = keel::flags::FlagProvider::Create(std::move(options)).value();
    client = std::make_unique<keel::flags::FlagClient>(provider.get(), "bench");
  }
  keel::flags::InMemoryFlagSource* memory = nullptr;
  std::unique_ptr<keel::flags::FlagProvider> provider;
  std::unique_ptr<keel::flags::FlagClient> client;
};

keel::flags::EvaluationContext TargetingContext() {
  keel::flags::EvaluationContext context("user-1234");
  context.Set("email", "ana@example.com").Set("plan", "team").Set("seats", 25);
  return context;
}

json NaiveTargetingContext() {
  return json{{"targetingKey", "user-1234"},
              {"email", "ana@example.com"},
              {"plan", "team"},
              {"seats", 25}};
}

void BM_Keel_StaticFlag(benchmark::State& state) {
  KeelFixture keel;
  const keel::flags::EvaluationContext context;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        keel.client->BooleanValue("static", false, context));
  }
}
BENCHMARK(BM_Keel_StaticFlag);

void BM_Baseline_StaticFlag(benchmark::State& state) {
  const json doc = json::parse(kFlags);
  const json context = json::object();
  const std::string key = "static";
  for (auto _ : state) {
    benchmark::DoNotOptimize(NaiveBoolean(doc, key, context, false));
  }
}
BENCHMARK(BM_Baseline_StaticFlag);

void BM_Keel_ThreeClauseRule(benchmark::State& state) {
  KeelFixture keel;
  const keel::flags::EvaluationContext context = TargetingContext();
  if (!keel.client->BooleanValue("three-clause", false, context)) {
    state.SkipWithError("three-clause rule did not match");
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        keel.client->BooleanValue("three-clause", false, context));
  }
}
BENCHMARK(BM_Keel_ThreeClauseRule);

void BM_Baseline_ThreeClauseRule(benchmark::State& state) {
  const json doc = json::parse(kFlags);
  const json context = NaiveTargetingContext();
  const std::string key = "three-clause";
  if (!NaiveBoolean(doc, key, context, false)) {
    state.SkipWithError("three-clause rule did not match");
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(NaiveBoolean(doc, key, context, false));
  }
}
BENCHMARK(BM_Baseline_ThreeClauseRule);

void BM_Keel_Fractional(benchmark::State& state) {
  KeelFixture keel;
  const keel::flags::EvaluationContext context = TargetingContext();
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        keel.client->StringValue("fractional", "control", context));
  }
}
BENCHMARK(BM_Keel_Fractional);

void BM_Baseline_Fractional(benchmark::State& state) {
  const json doc = json::parse(kFlags);
  const json context = NaiveTargetingContext();
  const std::string key = "fractional";
  const std::string fallback = "control";
  for (auto _ : state) {
    benchmark::DoNotOptimize(NaiveString(doc, key, context, fallback));
  }
}
BENCHMARK(BM_Baseline_Fractional);

// Evaluates the 3-clause rule while `reload` decides whether another thread
// swaps in a changed configuration every 10 ms.
void EvaluateWhileReloading(benchmark::State& state, bool reload) {
  KeelFixture keel;
  const keel::flags::EvaluationContext context = TargetingContext();
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> reloads{0};
  std::thread reloader;
  if (reload) {
    reloader = std::thread([&] {
      std::string a = kFlags;
      std::string b = a;
      b.replace(b.find("\"version\": 1"), 12, "\"version\": 2");
      bool flip = false;
      while (!stop.load(std::memory_order_relaxed)) {
        if (keel.memory->Update(flip ? a : b).ok()) reloads.fetch_add(1);
        flip = !flip;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    });
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        keel.client->BooleanValue("three-clause", false, context));
  }
  stop.store(true);
  if (reloader.joinable()) reloader.join();
  state.counters["reloads"] = static_cast<double>(reloads.load());
  state.SetItemsProcessed(state.iterations());
}

void BM_Keel_EvaluateDuringReload(benchmark::State& state) {
  EvaluateWhileReloading(state, true);
}
BENCHMARK(BM_Keel_EvaluateDuringReload)->MinTime(0.5)->UseRealTime();

void BM_Baseline_EvaluateDuringReload(benchmark::State& state) {
  EvaluateWhileReloading(state, false);
}
BENCHMARK(BM_Baseline_EvaluateDuringReload)->MinTime(0.5)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
