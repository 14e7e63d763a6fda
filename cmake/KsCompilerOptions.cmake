# One interface target carries the project's warnings, optimisation and sanitizer flags.
add_library(ks_options INTERFACE)
target_compile_options(ks_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  # GCC 12 reports std::string concatenation at -O3 as overlapping memcpy (GCC bug 105651).
  target_compile_options(ks_options INTERFACE -Wno-restrict)
endif()
if(KS_ARCH)
  target_compile_options(ks_options INTERFACE -march=${KS_ARCH} -mtune=native)
endif()
if(CMAKE_BUILD_TYPE STREQUAL "Release")
  # Eigen's asserts cost a lot in inner loops; NDEBUG is set by CMake for Release already.
  target_compile_options(ks_options INTERFACE -O3)
endif()
if(KS_SANITIZE)
  target_compile_options(ks_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                                              -fno-sanitize-recover=undefined)
  target_link_options(ks_options INTERFACE -fsanitize=address,undefined)
endif()
