#include "keel/health/certificate_check.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>
#include <variant>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/base/clock.h"

namespace keel::health {
namespace {

using ::testing::HasSubstr;

constexpr std::int64_t kNow = 1700000000;  // ManualClock's default wall time
constexpr std::int64_t kDay = 86400;

class CertificateCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/keel_cert_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    key_ = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    ASSERT_NE(key_, nullptr);
  }
  void TearDown() override {
    EVP_PKEY_free(key_);
    std::string cmd = "rm -rf '" + dir_ + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }

  // Writes a self-signed certificate valid over [not_before, not_after] (Unix
  // seconds) and returns its path.
  std::string WriteCertificate(const std::string& name, std::int64_t not_before,
                               std::int64_t not_after) {
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
    EXPECT_EQ(X509_set_version(cert.get(), X509_VERSION_3), 1);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    EXPECT_NE(ASN1_TIME_set(X509_getm_notBefore(cert.get()),
                            static_cast<time_t>(not_before)),
              nullptr);
    EXPECT_NE(ASN1_TIME_set(X509_getm_notAfter(cert.get()),
                            static_cast<time_t>(not_after)),
              nullptr);
    X509_NAME* subject = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(
        subject, "CN", MBSTRING_ASC,
        reinterpret_cast<const unsigned char*>("keel.test"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), subject);
    X509_set_pubkey(cert.get(), key_);
    EXPECT_GT(X509_sign(cert.get(), key_, EVP_sha256()), 0);
    const std::string path = dir_ + "/" + name;
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_file(path.c_str(), "w"), BIO_free);
    EXPECT_NE(bio, nullptr);
    EXPECT_EQ(PEM_write_bio_X509(bio.get(), cert.get()), 1);
    return path;
  }

  CheckResult Run(const std::string& path) {
    CertificateCheckOptions options;
    options.path = path;
    options.warn_before = std::chrono::hours(24 * 30);
    options.clock = &clock_;
    return MakeCertificateExpiryCheck(options).value()();
  }

  ManualClock clock_;
  std::string dir_;
  EVP_PKEY* key_ = nullptr;
};

TEST_F(CertificateCheckTest, ValidatesOptions) {
  CertificateCheckOptions options;
  EXPECT_THAT(MakeCertificateExpiryCheck(options).status().message(),
              HasSubstr("path"));
  options.path = "/x";
  options.warn_before = std::chrono::seconds(-1);
  EXPECT_THAT(MakeCertificateExpiryCheck(options).status().message(),
              HasSubstr("warn_before"));
  options.warn_before = std::chrono::seconds(0);
  options.clock = nullptr;
  EXPECT_THAT(MakeCertificateExpiryCheck(options).status().message(),
              HasSubstr("clock"));
}

TEST_F(CertificateCheckTest, ValidCertificatePasses) {
  const std::string path =
      WriteCertificate("valid.pem", kNow - kDay, kNow + 365 * kDay);
  const CheckResult result = Run(path);
  EXPECT_EQ(result.status, Status::kPass) << result.output;
  EXPECT_EQ(std::get<std::int64_t>(*result.observed_value), 365 * kDay);
  EXPECT_EQ(result.observed_unit, "s");
  EXPECT_EQ(result.component_id, path);
  EXPECT_EQ(result.component_type, "system");
  EXPECT_THAT(result.output, HasSubstr("2024-11-13T22:13:20Z"));
}

TEST_F(CertificateCheckTest, ExpiringSoonWarns) {
  const std::string path =
      WriteCertificate("soon.pem", kNow - kDay, kNow + 5 * kDay);
  const CheckResult result = Run(path);
  EXPECT_EQ(result.status, Status::kWarn) << result.output;
  EXPECT_THAT(result.output, HasSubstr("in 5 days"));
}

TEST_F(CertificateCheckTest, ExpiryFollowsTheClock) {
  const std::string path =
      WriteCertificate("later.pem", kNow - kDay, kNow + 60 * kDay);
  EXPECT_EQ(Run(path).status, Status::kPass);
  clock_.Advance(std::chrono::hours(24 * 31));
  EXPECT_EQ(Run(path).status, Status::kWarn);
  clock_.Advance(std::chrono::hours(24 * 29));
  const CheckResult result = Run(path);
  EXPECT_EQ(result.status, Status::kFail);
  EXPECT_EQ(std::get<std::int64_t>(*result.observed_value), 0);
}

TEST_F(CertificateCheckTest, ExpiredFails) {
  const std::string path =
      WriteCertificate("expired.pem", kNow - 10 * kDay, kNow - kDay);
  const CheckResult result = Run(path);
  EXPECT_EQ(result.status, Status::kFail);
  EXPECT_THAT(result.output, HasSubstr("expired at 2023-11-13T22:13:20Z"));
  EXPECT_EQ(std::get<std::int64_t>(*result.observed_value), -kDay);
}

TEST_F(CertificateCheckTest, NotYetValidFails) {
  const std::string path =
      WriteCertificate("future.pem", kNow + kDay, kNow + 100 * kDay);
  const CheckResult result = Run(path);
  EXPECT_EQ(result.status, Status::kFail);
  EXPECT_THAT(result.output, HasSubstr("not valid before"));
}

TEST_F(CertificateCheckTest, MissingFileFails) {
  const CheckResult result = Run(dir_ + "/missing.pem");
  EXPECT_EQ(result.status, Status::kFail);
  EXPECT_THAT(result.output, HasSubstr("cannot read certificate file"));
  EXPECT_THAT(result.output, HasSubstr("missing.pem"));
}

TEST_F(CertificateCheckTest, GarbageFileFails) {
  const std::string path = dir_ + "/garbage.pem";
  std::ofstream(path) << "-----BEGIN CERTIFICATE-----\nnot base64!\n"
                         "-----END CERTIFICATE-----\n";
  const CheckResult result = Run(path);
  EXPECT_EQ(result.status, Status::kFail);
  EXPECT_THAT(result.output, HasSubstr("no valid PEM certificate"));

  const std::string empty = dir_ + "/empty.pem";
  std::ofstream(empty).flush();
  EXPECT_EQ(Run(empty).status, Status::kFail);
}

}  // namespace
}  // namespace keel::health
