"""Conan 2 test package for keel: builds and runs a program against keel::core
and checks that every backend component enabled in keel's options has its
CMake target."""

import os

from conan import ConanFile
from conan.tools.build import can_run
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout


class KeelTestPackageConan(ConanFile):
    settings = "os", "arch", "compiler", "build_type"
    generators = "VirtualRunEnv"
    test_type = "explicit"

    def requirements(self):
        self.requires(self.tested_reference_str)

    def layout(self):
        cmake_layout(self)

    def generate(self):
        tc = CMakeToolchain(self)
        options = self.dependencies["keel"].options
        components = [name for name in ("redis", "postgres", "httplib")
                      if options.get_safe(f"with_{name}")]
        tc.cache_variables["KEEL_TEST_COMPONENTS"] = ";".join(components)
        tc.generate()
        CMakeDeps(self).generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def test(self):
        if can_run(self):
            program = os.path.join(self.cpp.build.bindir, "test_package")
            self.run(program, env="conanrun")
