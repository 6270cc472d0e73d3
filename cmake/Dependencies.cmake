# Third-party dependencies: Debian 12 packages only (see README "Set-up").
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED COMPONENTS json url)
find_package(OpenSSL 3 REQUIRED)
find_package(fmt REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(CLI11 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SIMDJSON REQUIRED IMPORTED_TARGET simdjson)

# Asio and Beast are compiled once, in src/http/asio_impl.cpp, instead of in every file that
# includes them: Beast is expensive to compile (design.md).
add_library(sluice_boost INTERFACE)
target_link_libraries(sluice_boost INTERFACE Boost::boost Boost::json Boost::url
  OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
target_compile_definitions(sluice_boost INTERFACE
  BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_DISABLE_BOOST_COROUTINE)
# RE2 (secret redaction) has no usable CMake package on Debian 12 (design.md).
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
# Scale-out engines (docs/deployment.md): hiredis for Redis (no usable CMake package: pkg-config,
# design.md) and libpq for PostgreSQL.
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
find_package(PostgreSQL REQUIRED)
