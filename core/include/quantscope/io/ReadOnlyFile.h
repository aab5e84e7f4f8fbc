#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace quantscope {

// A regular file opened for reading, read with checked pread() calls. Opening never blocks (a FIFO
// or a device is refused before anything is read from it) and reads only the bytes asked for, so
// listing a huge file touches only its header.
//
// The file is not memory-mapped: when another process truncates a mapped file, touching a page
// past the new end raises SIGBUS and kills the program. The alternative, a SIGBUS handler with
// sigsetjmp/siglongjmp around every mapped read, installs process-wide state a library should not
// own (the GUI, the CLI and the tests may have handlers of their own) and jumps out of C++ frames
// without running their destructors. pread() reports a file that shrank as a short read, an
// ordinary value, which becomes an Error naming the file.
class ReadOnlyFile {
public:
    // Throws Error naming `path` when the file cannot be opened or is not a regular file.
    explicit ReadOnlyFile(std::string path);
    ~ReadOnlyFile();

    ReadOnlyFile(ReadOnlyFile&& other) noexcept;
    ReadOnlyFile& operator=(ReadOnlyFile&& other) noexcept;
    ReadOnlyFile(const ReadOnlyFile&) = delete;
    ReadOnlyFile& operator=(const ReadOnlyFile&) = delete;

    const std::string& path() const { return m_path; }
    // The size when the file was opened; readers check their offsets against it.
    uint64_t size() const { return m_size; }

    // Fills `destination` with the bytes at `offset`. Throws Error naming the file when the range
    // is not inside the file as opened, or when the file has shrunk (or cannot be read) since.
    void read(uint64_t offset, std::span<std::byte> destination) const;
    std::vector<std::byte> read(uint64_t offset, uint64_t length) const;

    // Throws Error naming the file when it is now shorter than when it was opened: a reader calls
    // it before each tensor so that a file truncated meanwhile is reported as such.
    void checkNotShrunk() const;

    // The whole contents of the regular file `path`, refused (Error naming the file and the limit)
    // when longer than `maxBytes`.
    static std::string readAll(const std::string& path, uint64_t maxBytes);

private:
    void checkRange(uint64_t offset, uint64_t length) const;
    [[noreturn]] void throwShrunk(uint64_t needed) const;
    void close() noexcept;

    std::string m_path;
    int m_fd = -1;
    uint64_t m_size = 0;
};

} // namespace quantscope
