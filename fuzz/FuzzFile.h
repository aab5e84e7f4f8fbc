#pragma once

// The loaders read files by path: each input is written to one scratch file per fuzzer process
// (under $TMPDIR, /tmp by default) and read back from there.

#include "quantscope/Error.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <unistd.h>

namespace quantscope::fuzz {

class FuzzFile {
public:
    // `fileName` matters where the loaders look at extensions or fixed names.
    explicit FuzzFile(const std::string& fileName) {
        const char* tmp = std::getenv("TMPDIR");
        m_directory = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") /
                      ("quantscope-fuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(m_directory);
        m_path = (m_directory / fileName).string();
    }
    ~FuzzFile() {
        std::error_code ignored;
        std::filesystem::remove_all(m_directory, ignored);
    }

    const std::string& write(const uint8_t* data, std::size_t size) const {
        std::ofstream out(m_path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
        return m_path;
    }
    const std::string& path() const { return m_path; }
    std::string directory() const { return m_directory.string(); }

private:
    std::filesystem::path m_directory;
    std::string m_path;
};

inline std::string_view asText(const uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

} // namespace quantscope::fuzz
