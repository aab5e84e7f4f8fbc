#include "quantscope/io/AtomicFileSet.h"

#include "quantscope/Error.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace quantscope {
namespace {

std::string systemError() {
    return std::strerror(errno);
}

// Follows `path` through symlinks (also dangling ones, whose target is then created) to the file
// that a write should change. Only the last component matters: rename() replaces that entry.
std::string resolveTarget(const std::string& path) {
    std::filesystem::path current(path);
    for (int hops = 0; hops < 40; ++hops) {
        struct stat status {};
        if (::lstat(current.c_str(), &status) != 0 || !S_ISLNK(status.st_mode))
            return current.string();
        std::error_code error;
        const std::filesystem::path next = std::filesystem::read_symlink(current, error);
        if (error)
            throw Error(path, "cannot read the symbolic link: " + error.message());
        current = next.is_absolute() ? next : current.parent_path() / next;
    }
    throw Error(path, "too many levels of symbolic links");
}

// Writes all of `contents` to `fd`; false with errno set on failure (ENOSPC on a full disk).
bool writeAll(int fd, std::string_view contents) {
    const char* data = contents.data();
    std::size_t left = contents.size();
    while (left > 0) {
        const ssize_t written = ::write(fd, data, left);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data += written;
        left -= static_cast<std::size_t>(written);
    }
    return true;
}

// Writes a device or FIFO in place: it cannot be replaced by a regular file, nor made atomic.
void writeDirectly(const std::string& path, const std::string& target, std::string_view contents) {
    // O_NONBLOCK so that a FIFO nobody reads is an error (ENXIO) instead of a wait forever.
    const int fd = ::open(target.c_str(), O_WRONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENXIO)
            throw Error(path, "is a FIFO that no program is reading");
        throw Error(path, "cannot open for writing: " + systemError());
    }
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0)
        ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK); // the reader may be slower than we write
    const bool written = writeAll(fd, contents);
    const std::string writeError = written ? "" : systemError();
    const bool closed = ::close(fd) == 0;
    if (!written)
        throw Error(path, "cannot write: " + writeError);
    if (!closed)
        throw Error(path, "cannot write: " + systemError());
}

} // namespace

AtomicFileSet::~AtomicFileSet() {
    removeTemporaries();
}

void AtomicFileSet::stage(const std::string& path, std::string_view contents) {
    Staged staged;
    staged.path = path;
    staged.target = resolveTarget(path);

    struct stat existing {};
    const bool exists = ::stat(staged.target.c_str(), &existing) == 0;
    if (exists && S_ISDIR(existing.st_mode))
        throw Error(path, "is a directory");
    if (exists && !S_ISREG(existing.st_mode)) {
        staged.contents = std::string(contents);
        m_staged.push_back(std::move(staged));
        return;
    }

    std::string temporary = staged.target + ".tmp-XXXXXX";
    const int fd = ::mkstemp(temporary.data());
    if (fd < 0)
        throw Error(path, "cannot create a temporary file beside it: " + systemError());
    staged.temporary = temporary;
    m_staged.push_back(std::move(staged)); // from here on the destructor removes it

    bool ok = writeAll(fd, contents);
    std::string error = ok ? "" : systemError();
    // mkstemp creates the file 0600: keep the mode of the file replaced, or give a new file the
    // permissions of an ordinary new file.
    mode_t mode = 0;
    if (exists) {
        mode = existing.st_mode & 0777; // never carry set-user-ID bits over to new contents
    } else {
        const mode_t mask = ::umask(0);
        ::umask(mask);
        mode = 0666 & ~mask;
    }
    ::fchmod(fd, mode);
    if (ok && ::fsync(fd) != 0) {
        ok = false;
        error = systemError();
    }
    if (::close(fd) != 0 && ok) {
        ok = false;
        error = systemError();
    }
    if (!ok)
        throw Error(path, "cannot write: " + error);
}

void AtomicFileSet::commit() {
    try {
        // Devices and FIFOs first: they are the likeliest to fail (a full device, no reader), and a
        // failure there must still leave the regular targets untouched.
        for (const Staged& staged : m_staged)
            if (staged.temporary.empty())
                writeDirectly(staged.path, staged.target, staged.contents);
        for (Staged& staged : m_staged) {
            if (staged.temporary.empty())
                continue;
            if (std::rename(staged.temporary.c_str(), staged.target.c_str()) != 0)
                throw Error(staged.path, "cannot replace the file: " + systemError());
            staged.temporary.clear();
        }
    } catch (...) {
        removeTemporaries();
        throw;
    }
    m_staged.clear();
}

void AtomicFileSet::removeTemporaries() noexcept {
    for (const Staged& staged : m_staged)
        if (!staged.temporary.empty())
            std::remove(staged.temporary.c_str());
    m_staged.clear();
}

} // namespace quantscope
