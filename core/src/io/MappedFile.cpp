#include "quantscope/io/MappedFile.h"

#include "quantscope/Error.h"

#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace quantscope {
namespace {

// Closes the descriptor on every path out of the constructor; the mapping outlives it.
class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : m_fd(fd) {}
    ~FileDescriptor() {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return m_fd; }

private:
    int m_fd;
};

std::string systemError(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

} // namespace

MappedFile::MappedFile(std::string path) : m_path(std::move(path)) {
    const FileDescriptor fd(::open(m_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0)
        throw Error(m_path, systemError("cannot open the file"));

    struct stat status {};
    if (::fstat(fd.get(), &status) != 0)
        throw Error(m_path, systemError("cannot read the file's size"));
    if (!S_ISREG(status.st_mode))
        throw Error(m_path, "not a regular file");
    if (status.st_size < 0 || static_cast<uint64_t>(status.st_size) > std::numeric_limits<std::size_t>::max())
        throw Error(m_path, "file size " + std::to_string(status.st_size) + " cannot be mapped");

    m_size = static_cast<uint64_t>(status.st_size);
    if (m_size == 0)
        return; // mmap refuses a zero length; an empty file is an empty span

    void* address = ::mmap(nullptr, static_cast<std::size_t>(m_size), PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (address == MAP_FAILED)
        throw Error(m_path, systemError("cannot map the file into memory"));
    m_data = static_cast<const std::byte*>(address);
}

MappedFile::~MappedFile() {
    unmap();
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : m_path(std::move(other.m_path)), m_data(std::exchange(other.m_data, nullptr)),
      m_size(std::exchange(other.m_size, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        unmap();
        m_path = std::move(other.m_path);
        m_data = std::exchange(other.m_data, nullptr);
        m_size = std::exchange(other.m_size, 0);
    }
    return *this;
}

std::span<const std::byte> MappedFile::range(uint64_t offset, uint64_t length) const {
    if (offset > m_size || length > m_size - offset)
        throw Error(m_path, "byte range [" + std::to_string(offset) + ", " + std::to_string(offset) + " + " +
                                std::to_string(length) + ") is past the end of the file (" +
                                std::to_string(m_size) + " bytes)");
    return bytes().subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(length));
}

void MappedFile::unmap() noexcept {
    if (m_data != nullptr)
        ::munmap(const_cast<std::byte*>(m_data), static_cast<std::size_t>(m_size));
    m_data = nullptr;
    m_size = 0;
}

} // namespace quantscope
