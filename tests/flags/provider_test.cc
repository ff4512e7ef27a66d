#include "keel/flags/provider.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/flags/client.h"
#include "keel/flags/source.h"
#include "keel/metrics/registry.h"

namespace keel::flags {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Doc(const std::string& default_variant,
                const std::string& extra_flag = "") {
  return R"({"flags":{"color":{"state":"ENABLED","variants":{"red":"red","blue":"blue"},"defaultVariant":")" +
         default_variant +
         R"(","targeting":{"if":[{"==":[{"var":"plan"},"pro"]},"blue",null]}},
         "on":{"state":"ENABLED","variants":{"y":true,"n":false},"defaultVariant":"y"})" +
         extra_flag + "}}";
}

struct Fixture {
  InMemoryFlagSource* source = nullptr;
  std::unique_ptr<FlagProvider> provider;
};

Fixture Make(metrics::Registry* registry = nullptr,
             std::string doc = Doc("red")) {
  Fixture f;
  auto source = std::make_unique<InMemoryFlagSource>(std::move(doc));
  f.source = source.get();
  FlagProviderOptions options;
  options.source = std::move(source);
  options.metrics = registry;
  static ManualClock clock;
  options.clock = &clock;
  auto provider = FlagProvider::Create(std::move(options));
  EXPECT_TRUE(provider.ok()) << provider.status();
  f.provider = *std::move(provider);
  return f;
}

TEST(FlagProviderTest, RejectsBadOptionsAndBadFirstConfiguration) {
  EXPECT_FALSE(FlagProvider::Create(FlagProviderOptions()).ok());
  FlagProviderOptions options;
  options.source = std::make_unique<InMemoryFlagSource>("{");
  auto bad = FlagProvider::Create(std::move(options));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("malformed JSON"));

  FlagProviderOptions lenient;
  lenient.source = std::make_unique<InMemoryFlagSource>("{");
  lenient.require_initial_configuration = false;
  auto provider = FlagProvider::Create(std::move(lenient));
  ASSERT_TRUE(provider.ok());
  FlagClient client(provider->get());
  auto details = client.BooleanDetails("on", false);
  EXPECT_EQ(details.error_code, ErrorCode::kProviderNotReady);
  EXPECT_FALSE(details.value);
  EXPECT_EQ((*provider)->HealthCheck().status, health::Status::kFail);
}

TEST(FlagProviderTest, ReloadSwapsAtomicallyAndBadReloadKeepsLastGood) {
  metrics::Registry registry;
  Fixture f = Make(&registry);
  std::vector<ProviderEvent> changed;
  std::vector<ProviderEvent> errors;
  int ready = 0;
  f.provider->AddHandler(ProviderEventType::kReady,
                         [&](const ProviderEvent&) { ++ready; });
  EXPECT_EQ(ready, 1);  // already ready: runs at once
  f.provider->AddHandler(ProviderEventType::kConfigurationChanged,
                         [&](const ProviderEvent& e) { changed.push_back(e); });
  f.provider->AddHandler(ProviderEventType::kError,
                         [&](const ProviderEvent& e) { errors.push_back(e); });
  FlagClient client(f.provider.get(), "test");
  EXPECT_EQ(client.StringValue("color", "x"), "red");

  ASSERT_TRUE(
      f.source
          ->Update(
              Doc("blue", R"(,"new":{"state":"DISABLED","variants":{"a":1}})"))
          .ok());
  EXPECT_EQ(client.StringValue("color", "x"), "blue");
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_THAT(changed[0].flags_changed, ElementsAre("color", "new"));

  absl::Status rejected = f.source->Update(
      R"({"flags":{"color":{"state":"ENABLED","variants":{"red":"red"},"defaultVariant":"green"}}})");
  EXPECT_FALSE(rejected.ok());
  EXPECT_THAT(rejected.message(), HasSubstr("flag 'color'"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message, HasSubstr("defaultVariant 'green'"));
  EXPECT_EQ(client.StringValue("color", "x"), "blue");  // last good set
  EXPECT_EQ(f.provider->HealthCheck().status, health::Status::kWarn);

  auto reloads = registry.AddCounter("keel_flags_reloads_total",
                                     "Flag configuration reloads.", {"result"});
  ASSERT_TRUE(reloads.ok());
  EXPECT_EQ((*reloads)->WithLabels({"success"}).Value(), 2);
  EXPECT_EQ((*reloads)->WithLabels({"failure"}).Value(), 1);
  auto evaluations = registry.AddCounter("keel_flags_evaluations_total",
                                         "Feature flag evaluations.",
                                         {"flag", "variant", "reason"});
  ASSERT_TRUE(evaluations.ok());
  EXPECT_EQ((*evaluations)->WithLabels({"color", "red", "DEFAULT"}).Value(), 1);
  EXPECT_EQ((*evaluations)->WithLabels({"color", "blue", "DEFAULT"}).Value(),
            2);
  client.BooleanValue("missing", false);
  EXPECT_EQ((*evaluations)->WithLabels({"__unknown__", "", "ERROR"}).Value(),
            1);
}

class RecordingHook : public Hook {
 public:
  RecordingHook(std::string name, std::vector<std::string>* log,
                absl::Status before = absl::OkStatus())
      : name_(std::move(name)), log_(log), before_(std::move(before)) {}
  absl::Status Before(const HookContext&, EvaluationContext* extra) override {
    log_->push_back(name_ + ".before");
    extra->Set("plan", "pro");
    return before_;
  }
  absl::Status After(const HookContext&,
                     const EvaluationDetails<Value>& d) override {
    log_->push_back(name_ + ".after:" + d.variant);
    return absl::OkStatus();
  }
  void Error(const HookContext&, const absl::Status&) override {
    log_->push_back(name_ + ".error");
  }
  void Finally(const HookContext&, const EvaluationDetails<Value>&) override {
    log_->push_back(name_ + ".finally");
  }

 private:
  std::string name_;
  std::vector<std::string>* log_;
  absl::Status before_;
};

TEST(FlagClientTest, HooksRunInSpecOrderAndBeforeContextIsMerged) {
  Fixture f = Make();
  std::vector<std::string> log;
  FlagClient client(f.provider.get(), "c");
  client.AddHook(std::make_shared<RecordingHook>("client", &log));
  auto details = client.StringDetails(
      "color", "x", {}, {std::make_shared<RecordingHook>("call", &log)});
  EXPECT_EQ(details.value, "blue");  // plan=pro from the before hooks
  EXPECT_THAT(
      log, ElementsAre("client.before", "call.before", "call.after:blue",
                       "client.after:blue", "call.finally", "client.finally"));
  log.clear();
  auto failed =
      client.StringDetails("color", "x", {},
                           {std::make_shared<RecordingHook>(
                               "bad", &log, absl::InternalError("boom"))});
  EXPECT_EQ(failed.value, "x");
  EXPECT_EQ(failed.reason, Reason::kError);
  EXPECT_EQ(failed.error_code, ErrorCode::kGeneral);
  EXPECT_THAT(log,
              ElementsAre("client.before", "bad.before", "bad.error",
                          "client.error", "bad.finally", "client.finally"));
}

TEST(FlagClientTest, ContextMergeOrder) {
  Fixture f = Make();
  FlagClient client(f.provider.get());
  EXPECT_EQ(client.StringValue("color", "x"), "red");
  EvaluationContext global;
  global.Set("plan", "pro");
  f.provider->SetGlobalContext(global);
  EXPECT_EQ(client.StringValue("color", "x"), "blue");
  EvaluationContext client_ctx;
  client_ctx.Set("plan", "free");
  client.SetContext(client_ctx);
  EXPECT_EQ(client.StringValue("color", "x"), "red");
  EvaluationContext call;
  call.Set("plan", "pro");
  EXPECT_EQ(client.StringValue("color", "x", call), "blue");
  auto details = client.BooleanDetails("color", true, call);
  EXPECT_EQ(details.error_code, ErrorCode::kTypeMismatch);
  EXPECT_TRUE(details.value);
  EXPECT_EQ(client.ObjectValue("on", Value("d")).kind(), Value::Kind::kString);
}

TEST(FileFlagSourceTest, ReloadsOnChangeAndReportsStale) {
  char path_template[] = "/tmp/keel_flags_XXXXXX";
  const int fd = mkstemp(path_template);
  ASSERT_GE(fd, 0);
  close(fd);
  const std::string path = path_template;
  auto write = [&](const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
  };
  write(Doc("red"));
  FileFlagSourceOptions options;
  options.path = path;
  EXPECT_FALSE(FileFlagSource::Create(FileFlagSourceOptions()).ok());
  auto source = FileFlagSource::Create(options);
  ASSERT_TRUE(source.ok());
  FileFlagSource* raw = source->get();
  FlagProviderOptions provider_options;
  provider_options.source = *std::move(source);
  auto provider = FlagProvider::Create(std::move(provider_options));
  ASSERT_TRUE(provider.ok()) << provider.status();
  FlagClient client(provider->get());
  EXPECT_EQ(client.StringValue("color", "x"), "red");
  write(Doc("blue") + "   ");  // size changes, so the stamp differs
  EXPECT_TRUE(raw->Poll().ok());
  EXPECT_EQ(client.StringValue("color", "x"), "blue");
  std::remove(path.c_str());
  EXPECT_FALSE(raw->Poll().ok());
  EXPECT_EQ((*provider)->status(), ProviderStatus::kStale);
  EXPECT_EQ(client.StringValue("color", "x"), "blue");
  write(Doc("red"));
  EXPECT_TRUE(raw->Poll().ok());
  EXPECT_EQ((*provider)->status(), ProviderStatus::kReady);
  EXPECT_EQ(client.StringValue("color", "x"), "red");
  std::remove(path.c_str());
}

TEST(FlagProviderStressTest, EvaluationsDuringReloadsSeeWholeSets) {
  Fixture f = Make();
  std::atomic<bool> stop{false};
  std::atomic<long> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      FlagClient client(f.provider.get());
      while (!stop.load()) {
        const std::string v = client.StringValue("color", "x");
        if (v != "red" && v != "blue") bad.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(f.source->Update(Doc(i % 2 == 0 ? "blue" : "red")).ok());
  }
  stop.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace keel::flags
