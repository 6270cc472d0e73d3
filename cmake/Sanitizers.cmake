# Sanitizer builds, selected with -DSLUICE_SANITIZE=asan-ubsan|tsan. Applied globally so that
# every sluice target and test links the runtime consistently.
if(SLUICE_SANITIZE STREQUAL "asan-ubsan")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(SLUICE_SANITIZE STREQUAL "tsan")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(NOT SLUICE_SANITIZE STREQUAL "")
  message(FATAL_ERROR "unknown SLUICE_SANITIZE='${SLUICE_SANITIZE}'")
endif()
