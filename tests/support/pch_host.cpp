// Compiles nothing: the target that builds the tests' shared precompiled header (tests/CMakeLists.txt).
