#pragma once

// The body of every libFuzzer target: the input goes to one scratch file per fuzzer process
// (under $TMPDIR, /tmp by default, named as the loader expects) and the target's function reads
// it. quantscope::Error is the expected answer to a bad input; anything else escapes and is a
// finding.

#include "FuzzTargets.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace quantscope::fuzz {

inline int runOnce(const Target& chosen, const uint8_t* data, std::size_t size) {
    static const std::filesystem::path directory = [] {
        const char* tmp = std::getenv("TMPDIR");
        auto path = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") /
                    ("quantscope-fuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(path);
        return path;
    }();
    const std::string path = (directory / chosen.fileName).string();
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    try {
        chosen.run(path);
    } catch (const Error&) {
    }
    return 0;
}

} // namespace quantscope::fuzz

// One line per target: QUANTSCOPE_FUZZ_TARGET(kNpy)
#define QUANTSCOPE_FUZZ_TARGET(target)                                                                       \
    extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {                           \
        return quantscope::fuzz::runOnce(quantscope::fuzz::target, data, size);                              \
    }
