// Per-request paths of keel's web security helpers against what a service
// would write without them:
//   * ApplyPreset     the Helmet preset onto a response's header vector that
//                     is reused between requests (keel: precomputed values
//                     assigned in place; baseline: header strings built and
//                     pushed per request, as a naive middleware does)
//   * WritePresetBlock the same preset written into a raw HTTP/1.1 response
//                     head (keel: one append of the precomputed block;
//                     baseline: each field formatted per response)
//   * ClientIp        client address behind two trusted proxies from a
//                     spoofed three-entry X-Forwarded-For (keel: in-place
//                     right-to-left walk; baseline: split into strings, then
//                     inet_pton and a CIDR loop)
//   * RequestLimits   method, target (percent-decoding + traversal) and
//                     header checks of a typical request (baseline: decode
//                     the path into a string and split it into segments)
// Every case reports `allocs_per_iter`.

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"
#include "common/allocation_counter.h"
#include "keel/security/client_ip.h"
#include "keel/security/http_fields.h"
#include "keel/security/request_limits.h"
#include "keel/security/security_headers.h"

namespace {

using keel_bench::AllocationCounter;
using Fields = std::vector<std::pair<std::string, std::string>>;

void BM_Keel_ApplyPreset(benchmark::State& state) {
  auto headers = keel::security::SecurityHeaders::Create(
                     keel::security::SecurityHeadersOptions::Helmet())
                     .value();
  Fields response = {{"Content-Type", "text/html"}};
  keel::security::FieldVectorSink sink(&response);
  headers->Apply(true, &sink);  // the response's own storage, reused
  AllocationCounter allocations(state);
  for (auto _ : state) {
    headers->Apply(true, &sink);
    benchmark::DoNotOptimize(response.data());
  }
}
BENCHMARK(BM_Keel_ApplyPreset);

void BM_Baseline_ApplyPreset(benchmark::State& state) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> csp = {
      {"default-src", {"'self'"}},
      {"base-uri", {"'self'"}},
      {"font-src", {"'self'", "https:", "data:"}},
      {"form-action", {"'self'"}},
      {"frame-ancestors", {"'self'"}},
      {"img-src", {"'self'", "data:"}},
      {"object-src", {"'none'"}},
      {"script-src", {"'self'"}},
      {"script-src-attr", {"'none'"}},
      {"style-src", {"'self'", "https:", "'unsafe-inline'"}},
      {"upgrade-insecure-requests", {}}};
  Fields response = {{"Content-Type", "text/html"}};
  AllocationCounter allocations(state);
  for (auto _ : state) {
    response.resize(1);
    std::string policy;
    for (const auto& [name, sources] : csp) {
      if (!policy.empty()) policy += ";";
      policy += name;
      for (const auto& s : sources) policy += " " + s;
    }
    response.emplace_back("Content-Security-Policy", policy);
    response.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
    response.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
    response.emplace_back("Origin-Agent-Cluster", "?1");
    response.emplace_back("Referrer-Policy", "no-referrer");
    response.emplace_back(
        "Strict-Transport-Security",
        "max-age=" + std::to_string(31536000) + "; includeSubDomains");
    response.emplace_back("X-Content-Type-Options", "nosniff");
    response.emplace_back("X-DNS-Prefetch-Control", "off");
    response.emplace_back("X-Download-Options", "noopen");
    response.emplace_back("X-Frame-Options", "SAMEORIGIN");
    response.emplace_back("X-Permitted-Cross-Domain-Policies", "none");
    response.emplace_back("X-XSS-Protection", "0");
    benchmark::DoNotOptimize(response.data());
  }
}
BENCHMARK(BM_Baseline_ApplyPreset);

// A raw HTTP/1.1 writer: the preset's precomputed block appended to the
// response head (keel) vs the same fields formatted per request.
void BM_Keel_WritePresetBlock(benchmark::State& state) {
  auto headers = keel::security::SecurityHeaders::Create(
                     keel::security::SecurityHeadersOptions::Helmet())
                     .value();
  std::string head;
  head.reserve(4096);
  AllocationCounter allocations(state);
  for (auto _ : state) {
    head.assign("HTTP/1.1 200 OK\r\n");
    const std::string_view block = headers->Block(true);
    head.append(block.data(), block.size());
    benchmark::DoNotOptimize(head.data());
  }
}
BENCHMARK(BM_Keel_WritePresetBlock);

void BM_Baseline_WritePresetBlock(benchmark::State& state) {
  auto headers = keel::security::SecurityHeaders::Create(
                     keel::security::SecurityHeadersOptions::Helmet())
                     .value();
  const Fields fields = headers->fields(true);
  std::string head;
  head.reserve(4096);
  AllocationCounter allocations(state);
  for (auto _ : state) {
    head.assign("HTTP/1.1 200 OK\r\n");
    for (const auto& [name, value] : fields) {
      head.append(name);
      head.append(": ");
      head.append(value);
      head.append("\r\n");
    }
    benchmark::DoNotOptimize(head.data());
  }
}
BENCHMARK(BM_Baseline_WritePresetBlock);

const keel::security::FieldView kProxiedFields[] = {
    {"Host", "api.example.com"},
    {"User-Agent", "bench/1.0"},
    {"X-Forwarded-For", "6.6.6.6, 198.51.100.7, 10.1.2.3"},
    {"X-Forwarded-Proto", "https"},
};

keel::security::RequestView ProxiedRequest() {
  keel::security::RequestView request;
  request.method = "GET";
  request.target = "/v1/items/42?expand=owner%20name";
  request.peer_address = "10.0.0.5";
  request.fields = kProxiedFields;
  request.field_count = std::size(kProxiedFields);
  return request;
}

void BM_Keel_ClientIp(benchmark::State& state) {
  keel::security::ClientIpOptions options;
  options.trusted_proxies = {"10.0.0.0/8", "fd00::/8"};
  auto resolver = keel::security::ClientIpResolver::Create(options).value();
  const keel::security::RequestView request = ProxiedRequest();
  AllocationCounter allocations(state);
  for (auto _ : state) {
    benchmark::DoNotOptimize(resolver->Resolve(request));
  }
}
BENCHMARK(BM_Keel_ClientIp);

struct BaselineCidr {
  std::uint32_t base;
  std::uint32_t mask;
};

void BM_Baseline_ClientIp(benchmark::State& state) {
  const std::vector<BaselineCidr> trusted = {{0x0a000000u, 0xff000000u}};
  const keel::security::RequestView request = ProxiedRequest();
  AllocationCounter allocations(state);
  for (auto _ : state) {
    std::string client(request.peer_address);
    std::vector<std::string> hops;
    std::stringstream in(std::string(*request.Field("X-Forwarded-For")));
    for (std::string hop; std::getline(in, hop, ',');) {
      hop.erase(0, hop.find_first_not_of(' '));
      hops.push_back(hop);
    }
    for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
      in_addr addr{};
      if (inet_pton(AF_INET, it->c_str(), &addr) != 1) break;
      client = *it;
      const std::uint32_t host = ntohl(addr.s_addr);
      bool is_trusted = false;
      for (const auto& c : trusted) {
        is_trusted = is_trusted || (host & c.mask) == c.base;
      }
      if (!is_trusted) break;
    }
    benchmark::DoNotOptimize(client.data());
  }
}
BENCHMARK(BM_Baseline_ClientIp);

void BM_Keel_RequestLimits(benchmark::State& state) {
  auto limits = keel::security::RequestLimits::Create(
                    keel::security::RequestLimitsOptions())
                    .value();
  const keel::security::RequestView request = ProxiedRequest();
  AllocationCounter allocations(state);
  for (auto _ : state) {
    benchmark::DoNotOptimize(limits->Check(request));
  }
}
BENCHMARK(BM_Keel_RequestLimits);

void BM_Baseline_RequestLimits(benchmark::State& state) {
  const std::vector<std::string> methods = {"GET",   "HEAD",   "POST",   "PUT",
                                            "PATCH", "DELETE", "OPTIONS"};
  const keel::security::RequestView request = ProxiedRequest();
  AllocationCounter allocations(state);
  for (auto _ : state) {
    bool ok = false;
    for (const auto& m : methods) ok = ok || m == request.method;
    const std::string target(request.target);
    const std::string path = target.substr(0, target.find('?'));
    std::string decoded;
    for (std::size_t i = 0; ok && i < path.size(); ++i) {
      if (path[i] == '%' && i + 2 < path.size()) {
        decoded +=
            static_cast<char>(std::stoi(path.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        decoded += path[i];
      }
    }
    std::vector<std::string> segments;
    std::stringstream in(decoded);
    int depth = 0;
    for (std::string segment; std::getline(in, segment, '/');) {
      if (segment == "..") {
        ok = ok && --depth >= 0;
      } else if (!segment.empty() && segment != ".") {
        ++depth;
      }
      segments.push_back(segment);
    }
    std::size_t total = 0;
    for (std::size_t i = 0; i < request.field_count; ++i) {
      const auto& f = request.fields[i];
      total += f.name.size() + f.value.size();
      ok = ok && f.value.find_first_of(std::string("\0\r\n", 3)) ==
                     std::string_view::npos;
    }
    ok = ok && total < 65536;
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_Baseline_RequestLimits);

}  // namespace

BENCHMARK_MAIN();
