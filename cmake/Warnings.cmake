# Warnings for sluice's own targets (third-party headers are included as SYSTEM).
add_library(sluice_warnings INTERFACE)
target_compile_options(sluice_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor -Wno-missing-field-initializers
  # g++ 12 false positive on every Asio coroutine frame (awaitable_frame_base::operator delete).
  -Wno-mismatched-new-delete
  $<$<BOOL:${SLUICE_WERROR}>:-Werror>)
# Sanitizer instrumentation makes g++ 12 report maybe-uninitialized inside Boost.Beast's
# basic_parser (boost::optional storage); not ours and not real.
if(NOT SLUICE_SANITIZE STREQUAL "")
  target_compile_options(sluice_warnings INTERFACE -Wno-maybe-uninitialized)
endif()
# Asio uses atomic_thread_fence, which TSan cannot model; g++ warns about it in every TU.
if(SLUICE_SANITIZE STREQUAL "tsan")
  target_compile_options(sluice_warnings INTERFACE -Wno-tsan)
endif()
