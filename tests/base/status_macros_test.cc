#include "keel/base/status_macros.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace keel {
namespace {

absl::Status FailIf(bool fail, int* calls) {
  ++*calls;
  return fail ? absl::InvalidArgumentError("bad field: port")
              : absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<int>> MakeInt(int value, int* calls) {
  ++*calls;
  if (value < 0) return absl::OutOfRangeError("negative");
  return std::make_unique<int>(value);
}

absl::Status Chain(bool fail, int* calls) {
  KEEL_RETURN_IF_ERROR(FailIf(fail, calls));
  KEEL_RETURN_IF_ERROR(FailIf(false, calls));
  return absl::OkStatus();
}

absl::StatusOr<int> Sum(int a, int b, int* calls) {
  KEEL_ASSIGN_OR_RETURN(std::unique_ptr<int> x,
                        MakeInt(a, calls));  // move-only value
  int y = 0;
  KEEL_ASSIGN_OR_RETURN(auto boxed, MakeInt(b, calls));
  y = *boxed;
  return *x + y;
}

TEST(StatusMacrosTest, ReturnIfErrorPropagatesAndEvaluatesOnce) {
  int calls = 0;
  EXPECT_TRUE(Chain(false, &calls).ok());
  EXPECT_EQ(calls, 2);
  calls = 0;
  const absl::Status s = Chain(true, &calls);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "bad field: port");
  EXPECT_EQ(calls, 1);
}

TEST(StatusMacrosTest, AssignOrReturnMovesValuesAndPropagatesErrors) {
  int calls = 0;
  absl::StatusOr<int> ok = Sum(2, 3, &calls);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 5);
  EXPECT_EQ(calls, 2);

  calls = 0;
  absl::StatusOr<int> first = Sum(-1, 3, &calls);
  EXPECT_EQ(first.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(calls, 1);

  calls = 0;
  absl::StatusOr<int> second = Sum(1, -3, &calls);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace keel
