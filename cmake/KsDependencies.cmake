# Every dependency, found once; a missing one stops the configure step and names the Debian package.
find_package(PkgConfig QUIET)
if(NOT PkgConfig_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config")
endif()

find_package(Eigen3 3.4 QUIET CONFIG)
if(NOT Eigen3_FOUND)
  message(FATAL_ERROR "Eigen 3.4 not found: apt-get install libeigen3-dev")
endif()

# Debian ships no CMake config for FFTW: pkg-config it is.
pkg_check_modules(FFTW3 QUIET IMPORTED_TARGET fftw3)
pkg_check_modules(FFTW3F QUIET IMPORTED_TARGET fftw3f)
if(NOT FFTW3_FOUND OR NOT FFTW3F_FOUND)
  message(FATAL_ERROR "FFTW3 (double and float) not found: apt-get install libfftw3-dev")
endif()

find_package(Threads REQUIRED)

# zlib: gzip'ed MNIST IDX files.
find_package(ZLIB QUIET)
if(NOT ZLIB_FOUND)
  message(FATAL_ERROR "zlib not found: apt-get install zlib1g-dev")
endif()

# libzip: .npz and PyTorch zip archives (checked sizes and CRCs, zip64). pkg-config, not libzip's CMake
# config: Debian 12's names the zipcmp/zipmerge/ziptool programs, which libzip-dev does not install.
pkg_check_modules(LIBZIP QUIET IMPORTED_TARGET libzip)
if(NOT LIBZIP_FOUND)
  message(FATAL_ERROR "libzip not found: apt-get install libzip-dev")
endif()

# nlohmann-json: safetensors headers.
find_package(nlohmann_json 3.10 QUIET CONFIG)
if(NOT nlohmann_json_FOUND)
  message(FATAL_ERROR "nlohmann-json not found: apt-get install nlohmann-json3-dev")
endif()

# ONNX models: libonnx's generated protobuf classes (onnx_proto) and the protobuf runtime they need.
find_package(Protobuf QUIET)
find_package(ONNX QUIET CONFIG)
if(NOT Protobuf_FOUND OR NOT ONNX_FOUND OR NOT TARGET onnx_proto)
  message(FATAL_ERROR "ONNX / protobuf not found: apt-get install libonnx-dev libprotobuf-dev")
endif()

set(KS_QT_COMPONENTS Core)
if(KS_BUILD_GUI)
  list(APPEND KS_QT_COMPONENTS Gui Widgets Charts Concurrent Svg)
endif()
if(KS_BUILD_TESTS)
  list(APPEND KS_QT_COMPONENTS Test)
endif()
set(_ks_qt_packages
  Core "qt6-base-dev" Gui "qt6-base-dev" Widgets "qt6-base-dev" Concurrent "qt6-base-dev" Test "qt6-base-dev"
  Charts "qt6-charts-dev libqt6opengl6-dev" Svg "qt6-svg-dev")
foreach(component IN LISTS KS_QT_COMPONENTS)
  find_package(Qt6 6.4 QUIET COMPONENTS ${component})
  if(NOT Qt6${component}_FOUND)
    list(FIND _ks_qt_packages ${component} index)
    math(EXPR index "${index} + 1")
    list(GET _ks_qt_packages ${index} package)
    message(FATAL_ERROR "Qt6 ${component} not found: apt-get install ${package}")
  endif()
endforeach()
