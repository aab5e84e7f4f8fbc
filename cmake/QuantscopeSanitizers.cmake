# ThreadSanitizer and libFuzzer builds (the `dev-tsan` and `fuzz` presets). Flags go through
# add_compile_options / add_link_options so every target of the build is instrumented alike.

option(QUANTSCOPE_TSAN "Build with ThreadSanitizer (the dev-tsan preset)" OFF)
option(QUANTSCOPE_FUZZ "Build the libFuzzer targets under fuzz/ (clang only; the fuzz preset)" OFF)
# The sanitizer build (dev-asan, clang) builds the fuzz targets too, so CI replays every target's
# seeds plus a short run of mutations without a second build. Its code is instrumented for coverage
# as in the fuzz preset (inline counters, a few per cent slower), so its targets can also run long.
option(QUANTSCOPE_FUZZ_TARGETS "Build the fuzz/ targets in a sanitizer build (clang only)" OFF)

if(QUANTSCOPE_TSAN)
  if(QUANTSCOPE_SANITIZE OR QUANTSCOPE_FUZZ)
    message(FATAL_ERROR "QUANTSCOPE_TSAN cannot be combined with AddressSanitizer builds")
  endif()
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()

if(QUANTSCOPE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "QUANTSCOPE_FUZZ needs clang++ (libFuzzer): configure with the fuzz preset")
  endif()
  # The library is instrumented for coverage and the sanitizers; only the fuzz targets link
  # libFuzzer's main (-fsanitize=fuzzer, set in fuzz/CMakeLists.txt).
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

if(QUANTSCOPE_FUZZ_TARGETS)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "QUANTSCOPE_FUZZ_TARGETS needs clang++ (libFuzzer)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
