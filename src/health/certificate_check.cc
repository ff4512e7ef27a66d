#include "keel/health/certificate_check.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/openssl_error.h"
#include "keel/base/json_writer.h"

namespace keel::health {
namespace {

using base_internal::TakeOpenSslError;

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* x509) const { X509_free(x509); }
};

// Converts an ASN1_TIME to Unix seconds; false if it is malformed.
bool ToUnixSeconds(const ASN1_TIME* time, std::int64_t& out) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return false;
  out = static_cast<std::int64_t>(timegm(&tm));
  return true;
}

std::string FormatTime(std::int64_t unix_seconds) {
  std::string out;
  AppendRfc3339(out, std::chrono::seconds(unix_seconds), 0);
  return out;
}

CheckResult CheckCertificate(const CertificateCheckOptions& options) {
  CheckResult result;
  result.component_type = "system";
  result.component_id = options.path;

  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(options.path.c_str(), "r"));
  if (bio == nullptr) {
    result.status = Status::kFail;
    result.output = absl::StrCat("cannot read certificate file ", options.path,
                                 ": ", TakeOpenSslError());
    return result;
  }
  std::unique_ptr<X509, X509Free> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) {
    result.status = Status::kFail;
    result.output = absl::StrCat("no valid PEM certificate in ", options.path,
                                 ": ", TakeOpenSslError());
    return result;
  }
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
  if (!ToUnixSeconds(X509_get0_notBefore(cert.get()), not_before) ||
      !ToUnixSeconds(X509_get0_notAfter(cert.get()), not_after)) {
    ERR_clear_error();
    result.status = Status::kFail;
    result.output =
        absl::StrCat("certificate in ", options.path, " has a malformed date");
    return result;
  }

  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(options.clock->WallNow())
          .count();
  const std::int64_t left = not_after - now;
  result.observed_value = left;
  result.observed_unit = "s";
  if (now < not_before) {
    result.status = Status::kFail;
    result.output =
        absl::StrCat("certificate ", options.path, " is not valid before ",
                     FormatTime(not_before));
  } else if (left <= 0) {
    result.status = Status::kFail;
    result.output = absl::StrCat("certificate ", options.path, " expired at ",
                                 FormatTime(not_after));
  } else if (left < options.warn_before.count()) {
    result.status = Status::kWarn;
    result.output =
        absl::StrCat("certificate ", options.path, " expires at ",
                     FormatTime(not_after), " (in ", left / 86400, " days)");
  } else {
    result.output = absl::StrCat("certificate ", options.path, " valid until ",
                                 FormatTime(not_after));
  }
  return result;
}

}  // namespace

absl::StatusOr<CheckFunction> MakeCertificateExpiryCheck(
    CertificateCheckOptions options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("CertificateCheckOptions.path is empty");
  }
  if (options.warn_before < std::chrono::seconds(0)) {
    return absl::InvalidArgumentError(
        "CertificateCheckOptions.warn_before is negative");
  }
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError("CertificateCheckOptions.clock is null");
  }
  return CheckFunction(
      [options = std::move(options)] { return CheckCertificate(options); });
}

}  // namespace keel::health
