// Compiles the precompiled header that every keel test reuses (see
// tests/CMakeLists.txt); it has no code of its own.
