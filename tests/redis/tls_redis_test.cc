// keel::redis over TLS against a real redis-server with a TLS port, using a
// throwaway CA, server and client certificates made with the openssl command
// for this test run. Runs only in builds with TLS support (hiredis >= 1.0
// with hiredis_ssl, e.g. CI's `newer-clients` preset); reply_test covers the
// refusal in builds without it.

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/redis/connection.h"
#include "keel/redis/pool.h"
#include "testing/internal/free_port.h"
#include "testing/internal/temp_dir.h"
#include "testing/redis_server.h"

namespace keel::redis {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

// Writes ca.crt/key (the trusted CA), other-ca.crt (an unrelated CA),
// server.crt/key (for 127.0.0.1 and localhost, signed by ca) and
// client.crt/key (client authentication, signed by ca) into `dir`.
absl::Status MakeCertificates(const std::string& dir) {
  const std::string script = absl::StrCat(
      "set -e; cd '", dir,
      "'\n"
      "key() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
      "-nodes -keyout \"$1.key\" -subj \"/CN=$2\" \"${@:3}\"; }\n"
      "key ca keel-test-ca -x509 -days 2 -out ca.crt\n"
      "key other-ca keel-other-ca -x509 -days 2 -out other-ca.crt\n"
      "key server localhost -out server.csr\n"
      "key client keel-client -out client.csr\n"
      "echo 'subjectAltName=IP:127.0.0.1,DNS:localhost' > server.ext\n"
      "echo 'extendedKeyUsage=clientAuth' > client.ext\n"
      "for who in server client; do openssl x509 -req -in $who.csr -CA ca.crt "
      "-CAkey ca.key -CAcreateserial -days 2 -extfile $who.ext -out $who.crt; "
      "done\n");
  // The script reaches bash through the environment, which spares it a
  // second level of shell quoting.
  setenv("KEEL_TLS_TEST_SCRIPT", script.c_str(), 1);
  const int rc =
      std::system(absl::StrCat("bash -c \"$KEEL_TLS_TEST_SCRIPT\" > '", dir,
                               "/openssl.log' 2>&1")
                      .c_str());
  if (rc != 0) {
    return absl::InternalError(absl::StrCat(
        "making test certificates with openssl failed (exit status ", rc,
        "); see ", dir, "/openssl.log"));
  }
  return absl::OkStatus();
}

// `status` is an error with `code` whose message contains `part`.
void ExpectError(const absl::Status& status, absl::StatusCode code,
                 const std::string& part) {
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(part));
}

class RedisTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!TlsSupported()) return;
    auto dir = keel::testing_internal::TempDir::Create("keel-redis-tls");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = dir->release();
    ASSERT_TRUE(MakeCertificates(dir_->path()).ok());
    // One server that checks client certificates when offered, one that
    // requires them.
    optional_ = StartServer("optional", &optional_port_);
    required_ = StartServer("yes", &required_port_);
  }

  static void TearDownTestSuite() {
    delete optional_;
    delete required_;
    delete dir_;
    optional_ = required_ = nullptr;
    dir_ = nullptr;
  }

  void SetUp() override {
    if (!TlsSupported()) GTEST_SKIP() << "this build has no TLS support";
    ASSERT_NE(optional_, nullptr);
    ASSERT_NE(required_, nullptr);
  }

  // Starts a server with a TLS port picked here. Another process can take
  // that port before the server binds it, so a failed start is retried with
  // a new port a few times.
  static keel::testing::RedisServer* StartServer(const std::string& auth,
                                                 int* tls_port) {
    absl::Status last = absl::UnknownError("not started");
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto port = keel::testing_internal::PickFreeLoopbackPort();
      if (!port.ok()) {
        last = port.status();
        continue;
      }
      const std::string& d = dir_->path();
      keel::testing::RedisServerOptions options;
      options.extra_args = {"--tls-port",         std::to_string(*port),
                            "--tls-cert-file",    d + "/server.crt",
                            "--tls-key-file",     d + "/server.key",
                            "--tls-ca-cert-file", d + "/ca.crt",
                            "--tls-auth-clients", auth};
      auto server = keel::testing::RedisServer::Start(options);
      if (server.ok()) {
        *tls_port = *port;
        return server->release();
      }
      last = server.status();
    }
    ADD_FAILURE() << last;
    return nullptr;
  }

  // Options for the server that takes clients without certificates.
  static ConnectionOptions Tls() {
    ConnectionOptions options;
    options.host = "127.0.0.1";
    options.port = optional_port_;
    options.connect_timeout = milliseconds(2000);
    options.command_timeout = milliseconds(2000);
    options.tls.enabled = true;
    options.tls.ca_file = dir_->path() + "/ca.crt";
    return options;
  }

  static std::string File(const std::string& name) {
    return dir_->path() + "/" + name;
  }

  static keel::testing_internal::TempDir* dir_;
  static keel::testing::RedisServer* optional_;
  static keel::testing::RedisServer* required_;
  static int optional_port_;
  static int required_port_;
};

keel::testing_internal::TempDir* RedisTlsTest::dir_ = nullptr;
keel::testing::RedisServer* RedisTlsTest::optional_ = nullptr;
keel::testing::RedisServer* RedisTlsTest::required_ = nullptr;
int RedisTlsTest::optional_port_ = 0;
int RedisTlsTest::required_port_ = 0;

TEST_F(RedisTlsTest, VerifiedConnectionCarriesCommands) {
  auto connection = Connection::Connect(Tls());
  ASSERT_TRUE(connection.ok()) << connection.status();
  auto set = (*connection)->Command({"SET", "tls-key", "over tls"});
  ASSERT_TRUE(set.ok()) << set.status();
  auto get = (*connection)->Command({"GET", "tls-key"});
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->str(), "over tls");
}

TEST_F(RedisTlsTest, ServerNameIsCheckedAgainstTheCertificate) {
  ConnectionOptions by_dns_name = Tls();
  by_dns_name.tls.server_name = "localhost";  // a DNS name in the certificate
  auto connection = Connection::Connect(by_dns_name);
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_TRUE((*connection)->Ping().ok());

  ConnectionOptions wrong_name = Tls();
  wrong_name.tls.server_name = "redis.example.com";
  ExpectError(Connection::Connect(wrong_name).status(),
              absl::StatusCode::kUnavailable, "hostname mismatch");
}

TEST_F(RedisTlsTest, CertificateFromAnotherCaIsRefused) {
  ConnectionOptions options = Tls();
  options.tls.ca_file = File("other-ca.crt");
  const absl::Status refused = Connection::Connect(options).status();
  ExpectError(refused, absl::StatusCode::kUnavailable, "TLS handshake failed");
  EXPECT_THAT(std::string(refused.message()),
              HasSubstr("certificate verify failed"));
}

TEST_F(RedisTlsTest, VerificationOffAcceptsAnyCertificate) {
  ConnectionOptions options = Tls();
  options.tls.ca_file.clear();
  options.tls.verify_peer = false;
  auto connection = Connection::Connect(options);
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_TRUE((*connection)->Ping().ok());
}

TEST_F(RedisTlsTest, ClientCertificateWhenTheServerRequiresOne) {
  ConnectionOptions options = Tls();
  options.port = required_port_;
  // Without a certificate the server aborts the session: with TLS 1.3 the
  // client may finish its handshake first, so the failure can surface at
  // the first command instead.
  auto without = Connection::Connect(options);
  if (without.ok()) {
    EXPECT_FALSE((*without)->Ping().ok());
  } else {
    EXPECT_EQ(without.status().code(), absl::StatusCode::kUnavailable)
        << without.status();
  }

  options.tls.cert_file = File("client.crt");
  options.tls.key_file = File("client.key");
  auto with = Connection::Connect(options);
  ASSERT_TRUE(with.ok()) << with.status();
  EXPECT_TRUE((*with)->Ping().ok());
}

TEST_F(RedisTlsTest, UnreadableFilesAreInvalidArguments) {
  ConnectionOptions missing_ca = Tls();
  missing_ca.tls.ca_file = File("no-such-ca.crt");
  ExpectError(Connection::Connect(missing_ca).status(),
              absl::StatusCode::kInvalidArgument, "tls.ca_file");

  ConnectionOptions mismatched_key = Tls();
  mismatched_key.tls.cert_file = File("client.crt");
  mismatched_key.tls.key_file = File("server.key");
  ExpectError(Connection::Connect(mismatched_key).status(),
              absl::StatusCode::kInvalidArgument, "tls.key_file");
}

// A plaintext Redis port reads the ClientHello as the start of an inline
// command and waits for its end, so the handshake runs into the timeout.
TEST_F(RedisTlsTest, TlsToAPlaintextPortTimesOutInsteadOfHanging) {
  ConnectionOptions options = Tls();
  options.port = optional_->port();
  options.command_timeout = milliseconds(300);
  ExpectError(Connection::Connect(options).status(),
              absl::StatusCode::kDeadlineExceeded, "is this a TLS port?");
}

TEST_F(RedisTlsTest, StalledHandshakeTimesOut) {
  ASSERT_TRUE(optional_->Pause().ok());
  ConnectionOptions options = Tls();
  options.command_timeout = milliseconds(300);
  const absl::Status stalled = Connection::Connect(options).status();
  ASSERT_TRUE(optional_->Resume().ok());
  ExpectError(stalled, absl::StatusCode::kDeadlineExceeded, "within 300 ms");
}

TEST_F(RedisTlsTest, PoolHandsOutTlsConnections) {
  PoolOptions options;
  options.connection = Tls();
  options.pool.max_size = 2;
  auto pool = Pool::Create(std::move(options));
  ASSERT_TRUE(pool.ok()) << pool.status();
  auto set = (*pool)->Command({"SET", "pooled-tls", "yes"});
  ASSERT_TRUE(set.ok()) << set.status();
  auto get = (*pool)->Command({"GET", "pooled-tls"});
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->str(), "yes");
}

}  // namespace
}  // namespace keel::redis
