# Sanitizer builds, selected with -DSLUICE_SANITIZE=asan-ubsan|tsan. Applied globally so that
# every sluice target and test links the runtime consistently.
if(SLUICE_SANITIZE STREQUAL "asan-ubsan")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(SLUICE_SANITIZE STREQUAL "tsan")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()
# Asio recycles coroutine frames and handler memory through its own allocator, which hides
# use-after-free from the sanitizers; sanitizer builds use plain new/delete instead.
if(NOT SLUICE_SANITIZE STREQUAL "")
  add_compile_definitions(BOOST_ASIO_DISABLE_SMALL_BLOCK_RECYCLING)
endif()
if(NOT SLUICE_SANITIZE MATCHES "^(|asan-ubsan|tsan)$")
  message(FATAL_ERROR "unknown SLUICE_SANITIZE='${SLUICE_SANITIZE}'")
endif()
