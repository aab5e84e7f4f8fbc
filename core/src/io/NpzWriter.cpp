#include "quantscope/io/NpzWriter.h"

#include "quantscope/Error.h"

#include <array>
#include <cstdint>
#include <set>

namespace quantscope {
namespace {

// CRC-32 as zip defines it (the IEEE 802.3 polynomial, reflected).
uint32_t crc32(const std::string& data) {
    static const std::array<uint32_t, 256> table = [] {
        std::array<uint32_t, 256> t{};
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k)
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    uint32_t c = 0xFFFFFFFFu;
    for (const char byte : data)
        c = table[(c ^ static_cast<uint8_t>(byte)) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

void put16(std::string& out, uint32_t v) {
    out.push_back(static_cast<char>(v & 0xFF));
    out.push_back(static_cast<char>((v >> 8) & 0xFF));
}

void put32(std::string& out, uint32_t v) {
    put16(out, v & 0xFFFF);
    put16(out, v >> 16);
}

} // namespace

std::string NpzWriter::encode(const std::vector<std::pair<std::string, std::string>>& arrays,
                              const std::string& subject) {
    constexpr uint64_t kZipLimit = 0xFFFFFFFFull;
    if (arrays.size() >= 0xFFFF)
        throw Error(subject, "too many arrays for a zip without zip64 (at most 65534)");
    std::string archive;
    std::string directory;
    std::set<std::string> names;
    for (const auto& [key, npy] : arrays) {
        const std::string name = key + ".npy";
        if (key.empty() || !names.insert(name).second)
            throw Error(subject, "array key '" + key + "' is empty or repeated");
        const uint64_t offset = archive.size();
        if (offset + npy.size() + name.size() + 30 > kZipLimit)
            throw Error(subject, "the arrays exceed the 4 GiB a zip without zip64 holds");
        const uint32_t crc = crc32(npy);
        const auto size = static_cast<uint32_t>(npy.size());
        // Local file header: version 2.0, no flags, stored, no time stamp.
        put32(archive, 0x04034b50);
        put16(archive, 20);
        put16(archive, 0);
        put16(archive, 0);
        put32(archive, 0);
        put32(archive, crc);
        put32(archive, size);
        put32(archive, size);
        put16(archive, static_cast<uint32_t>(name.size()));
        put16(archive, 0);
        archive += name;
        archive += npy;
        // Its central directory record.
        put32(directory, 0x02014b50);
        put16(directory, 20);
        put16(directory, 20);
        put16(directory, 0);
        put16(directory, 0);
        put32(directory, 0);
        put32(directory, crc);
        put32(directory, size);
        put32(directory, size);
        put16(directory, static_cast<uint32_t>(name.size()));
        put16(directory, 0);
        put16(directory, 0);
        put16(directory, 0);
        put16(directory, 0);
        put32(directory, 0);
        put32(directory, static_cast<uint32_t>(offset));
        directory += name;
    }
    if (archive.size() + directory.size() + 22 > kZipLimit)
        throw Error(subject, "the arrays exceed the 4 GiB a zip without zip64 holds");
    const auto directoryOffset = static_cast<uint32_t>(archive.size());
    archive += directory;
    // End of central directory.
    put32(archive, 0x06054b50);
    put16(archive, 0);
    put16(archive, 0);
    put16(archive, static_cast<uint32_t>(arrays.size()));
    put16(archive, static_cast<uint32_t>(arrays.size()));
    put32(archive, static_cast<uint32_t>(directory.size()));
    put32(archive, directoryOffset);
    put16(archive, 0);
    return archive;
}

} // namespace quantscope
