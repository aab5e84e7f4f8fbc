#include "quantscope/io/ReadOnlyFile.h"

#include "quantscope/Cancellation.h"
#include "quantscope/Error.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace quantscope {
namespace {

std::string systemError(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

std::string fileKind(mode_t mode) {
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a plain file";
}

} // namespace

ReadOnlyFile::ReadOnlyFile(std::string path) : m_path(std::move(path)) {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever. It changes
    // nothing for a regular file, the only kind accepted.
    m_fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (m_fd < 0)
        throw Error(m_path, systemError("cannot open the file"));
    struct stat status {};
    if (::fstat(m_fd, &status) != 0) {
        const std::string error = systemError("cannot read the file's size");
        close();
        throw Error(m_path, error);
    }
    if (!S_ISREG(status.st_mode)) {
        close();
        throw Error(m_path, "is not a regular file (it is " + fileKind(status.st_mode) + ")");
    }
    m_size = static_cast<uint64_t>(status.st_size);
}

ReadOnlyFile::~ReadOnlyFile() {
    close();
}

ReadOnlyFile::ReadOnlyFile(ReadOnlyFile&& other) noexcept
    : m_path(std::move(other.m_path)), m_fd(std::exchange(other.m_fd, -1)),
      m_size(std::exchange(other.m_size, 0)) {}

ReadOnlyFile& ReadOnlyFile::operator=(ReadOnlyFile&& other) noexcept {
    if (this != &other) {
        close();
        m_path = std::move(other.m_path);
        m_fd = std::exchange(other.m_fd, -1);
        m_size = std::exchange(other.m_size, 0);
    }
    return *this;
}

void ReadOnlyFile::checkRange(uint64_t offset, uint64_t length) const {
    if (offset > m_size || length > m_size - offset)
        throw Error(m_path, "byte range [" + std::to_string(offset) + ", " + std::to_string(offset) + " + " +
                                std::to_string(length) + ") is past the end of the file (" +
                                std::to_string(m_size) + " bytes)");
}

void ReadOnlyFile::read(uint64_t offset, std::span<std::byte> destination) const {
    const uint64_t length = destination.size();
    checkRange(offset, length);
    // Large reads go in slices so a cancelled job stops within one slice.
    constexpr std::size_t kSliceBytes = 8 << 20;
    std::size_t done = 0;
    while (done < destination.size()) {
        throwIfCancelled();
        const ssize_t got =
            ::pread(m_fd, destination.data() + done, std::min(destination.size() - done, kSliceBytes),
                    static_cast<off_t>(offset + done));
        if (got < 0) {
            if (errno == EINTR)
                continue;
            throw Error(m_path, systemError("cannot read the file"));
        }
        if (got == 0)
            throwShrunk(offset + length);
        done += static_cast<std::size_t>(got);
    }
}

std::vector<std::byte> ReadOnlyFile::read(uint64_t offset, uint64_t length) const {
    checkRange(offset, length); // before allocating
    std::vector<std::byte> bytes(static_cast<std::size_t>(length));
    read(offset, bytes);
    return bytes;
}

void ReadOnlyFile::checkNotShrunk() const {
    struct stat status {};
    if (::fstat(m_fd, &status) != 0)
        throw Error(m_path, systemError("cannot read the file's size"));
    if (static_cast<uint64_t>(status.st_size) < m_size)
        throwShrunk(m_size);
}

void ReadOnlyFile::throwShrunk(uint64_t needed) const {
    struct stat status {};
    const std::string now =
        ::fstat(m_fd, &status) == 0 ? std::to_string(status.st_size) + " bytes" : std::string("unknown size");
    throw Error(m_path, "the file shrank while being read (" + std::to_string(m_size) +
                            " bytes when opened, " + now + " now, " + std::to_string(needed) +
                            " needed): was it changed by another program?");
}

std::string ReadOnlyFile::readAll(const std::string& path, uint64_t maxBytes) {
    const ReadOnlyFile file(path);
    if (file.size() > maxBytes)
        throw Error(path, "is " + std::to_string(file.size()) + " bytes, more than the " +
                              std::to_string(maxBytes) + " accepted");
    std::string text(static_cast<std::size_t>(file.size()), '\0');
    file.read(0, std::as_writable_bytes(std::span<char>(text)));
    return text;
}

void ReadOnlyFile::close() noexcept {
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
}

} // namespace quantscope
