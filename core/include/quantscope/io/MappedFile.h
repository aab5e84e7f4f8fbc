#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace quantscope {

// A whole file mapped read-only into memory. Pages are read from disk only when touched, so
// parsing a header at the start of a huge file reads only that header. Move-only; unmaps on
// destruction. An empty file maps to an empty span.
class MappedFile {
public:
    // Throws Error naming `path` when the file cannot be opened, is not a regular file or cannot
    // be mapped.
    explicit MappedFile(std::string path);
    ~MappedFile();

    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::string& path() const { return m_path; }
    uint64_t size() const { return m_size; }
    std::span<const std::byte> bytes() const { return {m_data, static_cast<std::size_t>(m_size)}; }

    // The bytes [offset, offset + length), or an Error naming the file when the range is not
    // inside the file.
    std::span<const std::byte> range(uint64_t offset, uint64_t length) const;

private:
    void unmap() noexcept;

    std::string m_path;
    const std::byte* m_data = nullptr;
    uint64_t m_size = 0;
};

} // namespace quantscope
