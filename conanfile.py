"""Conan 2 recipe for keel.

    conan create . -o "keel/*:with_postgres=False"      # package + test_package
    conan install --requires=keel/0.1.0 -g CMakeDeps -g CMakeToolchain

Consumers use the same CMake names as keel's own package:
find_package(keel CONFIG REQUIRED) and the targets keel::core, keel::redis,
keel::postgres, keel::httplib (one per enabled option).
"""

import os

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy, rmdir

required_conan_version = ">=2.0"


class KeelConan(ConanFile):
    name = "keel"
    version = "0.1.0"
    description = ("Production-readiness middleware for C++ services: metrics, tracing, "
                   "health, rate limiting, caches, pools, security, feature flags")
    license = "Apache-2.0"
    url = "https://github.com/keel-cpp/keel"
    homepage = "https://github.com/keel-cpp/keel"
    topics = ("middleware", "metrics", "tracing", "health-checks", "rate-limiting")
    package_type = "library"
    settings = "os", "arch", "compiler", "build_type"
    options = {
        "shared": [True, False],
        "fPIC": [True, False],
        "with_redis": [True, False],
        "with_postgres": [True, False],
        "with_httplib": [True, False],
    }
    default_options = {
        "shared": False,
        "fPIC": True,
        "with_redis": True,
        "with_postgres": True,
        "with_httplib": True,
    }
    # Only what the library build needs: tests, examples and benchmarks stay out.
    exports_sources = "CMakeLists.txt", "LICENSE", "cmake/*", "include/*", "src/*"

    def config_options(self):
        if self.settings.os == "Windows":
            del self.options.fPIC

    def configure(self):
        if self.options.shared:
            self.options.rm_safe("fPIC")

    def layout(self):
        cmake_layout(self)

    def requirements(self):
        # absl::Status / StatusOr are part of keel's public API.
        self.requires("abseil/[>=20230125.3]", transitive_headers=True)
        self.requires("openssl/[>=3 <4]")
        self.requires("nlohmann_json/[>=3.10 <4]")
        if self.options.with_redis:
            self.requires("hiredis/[>=1.0 <2]")
        if self.options.with_postgres:
            # keel/postgres headers hand out pqxx::connection; libpqxx 8 needs C++20.
            self.requires("libpqxx/[>=7.10 <7.11]", transitive_headers=True)
            # keel::postgres calls libpq directly (PQtransactionStatus); the
            # range must admit the libpq that libpqxx itself requires.
            self.requires("libpq/[>=13 <19]")
        if self.options.with_httplib:
            # keel/httplib headers take httplib::Server.
            self.requires("cpp-httplib/[>=0.11 <1]", transitive_headers=True)

    def validate(self):
        check_min_cppstd(self, 17)

    def generate(self):
        tc = CMakeToolchain(self)
        tc.cache_variables["KEEL_WITH_REDIS"] = bool(self.options.with_redis)
        tc.cache_variables["KEEL_WITH_POSTGRES"] = bool(self.options.with_postgres)
        tc.cache_variables["KEEL_WITH_HTTPLIB"] = bool(self.options.with_httplib)
        tc.cache_variables["KEEL_INSTALL"] = True
        tc.cache_variables["BUILD_TESTING"] = False
        tc.cache_variables["KEEL_BUILD_EXAMPLES"] = False
        tc.cache_variables["KEEL_BUILD_BENCHMARKS"] = False
        tc.cache_variables["KEEL_BUILD_FUZZERS"] = False
        tc.generate()
        CMakeDeps(self).generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        copy(self, "LICENSE", src=self.source_folder,
             dst=os.path.join(self.package_folder, "licenses"))
        cmake = CMake(self)
        cmake.install()
        # Conan generates the CMake and pkg-config files from package_info().
        rmdir(self, os.path.join(self.package_folder, "lib", "cmake"))
        rmdir(self, os.path.join(self.package_folder, "lib", "pkgconfig"))
        rmdir(self, os.path.join(self.package_folder, "share"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "keel")
        # The aggregate target and .pc of the whole package; the component names
        # below are the ones keel's own install exports.
        self.cpp_info.set_property("cmake_target_name", "keel::keel")
        self.cpp_info.set_property("pkg_config_name", "keel-all")

        core = self.cpp_info.components["core"]
        core.libs = ["keel_core"]
        core.set_property("cmake_target_name", "keel::core")
        core.set_property("pkg_config_name", "keel")
        core.requires = [
            "abseil::absl_status",
            "abseil::absl_statusor",
            "abseil::absl_strings",
            "openssl::crypto",
            "nlohmann_json::nlohmann_json",
        ]
        if self.settings.os in ("Linux", "FreeBSD"):
            core.system_libs = ["pthread"]

        backends = (
            ("redis", self.options.with_redis, ["hiredis::hiredis"]),
            ("postgres", self.options.with_postgres, ["libpqxx::libpqxx", "libpq::libpq"]),
            ("httplib", self.options.with_httplib, ["cpp-httplib::cpp-httplib"]),
        )
        for component, enabled, dependencies in backends:
            if not enabled:
                continue
            info = self.cpp_info.components[component]
            info.libs = [f"keel_{component}"]
            info.set_property("cmake_target_name", f"keel::{component}")
            info.set_property("pkg_config_name", f"keel-{component}")
            info.requires = ["core"] + dependencies
