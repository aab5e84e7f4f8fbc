#include "quantscope/export/AtomicFile.h"

#include "quantscope/Error.h"

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace quantscope {
namespace {

std::string systemError(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// Removes the temporary file unless the rename put it in place.
class TemporaryFile {
public:
    explicit TemporaryFile(const std::string& target) : m_path(target + ".tmp-XXXXXX") {
        m_fd = ::mkstemp(m_path.data());
        if (m_fd < 0)
            throw Error(target, systemError("cannot create a temporary file beside it"));
    }
    ~TemporaryFile() {
        closeFile();
        if (!m_committed)
            ::unlink(m_path.c_str());
    }
    TemporaryFile(const TemporaryFile&) = delete;
    TemporaryFile& operator=(const TemporaryFile&) = delete;

    int fd() const { return m_fd; }
    const std::string& path() const { return m_path; }
    int closeFile() {
        const int result = m_fd >= 0 ? ::close(m_fd) : 0;
        m_fd = -1;
        return result;
    }
    void commit() { m_committed = true; }

private:
    std::string m_path;
    int m_fd = -1;
    bool m_committed = false;
};

// FIPS 180-4 SHA-256, written out so the project needs no crypto library for a file checksum.
class Sha256 {
public:
    void update(const unsigned char* data, std::size_t length) {
        m_totalBytes += length;
        while (length > 0) {
            const std::size_t take = std::min(length, m_block.size() - m_blockFill);
            std::memcpy(m_block.data() + m_blockFill, data, take);
            m_blockFill += take;
            data += take;
            length -= take;
            if (m_blockFill == m_block.size()) {
                compress(m_block.data());
                m_blockFill = 0;
            }
        }
    }

    std::string hexDigest() {
        const uint64_t bitLength = m_totalBytes * 8;
        const unsigned char one = 0x80;
        const unsigned char zero = 0;
        update(&one, 1);
        while (m_blockFill != 56)
            update(&zero, 1);
        unsigned char lengthBytes[8];
        for (int i = 0; i < 8; ++i)
            lengthBytes[i] = static_cast<unsigned char>(bitLength >> (56 - 8 * i));
        update(lengthBytes, 8);

        static const char* const kHex = "0123456789abcdef";
        std::string hex;
        for (uint32_t word : m_state)
            for (int shift = 28; shift >= 0; shift -= 4)
                hex += kHex[(word >> shift) & 0xF];
        return hex;
    }

private:
    static uint32_t rotateRight(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

    void compress(const unsigned char* block) {
        static constexpr std::array<uint32_t, 64> k{
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
            0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
            0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
            0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
            0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
            0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
            0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
        std::array<uint32_t, 64> w{};
        for (int i = 0; i < 16; ++i)
            w[i] = (uint32_t{block[4 * i]} << 24) | (uint32_t{block[4 * i + 1]} << 16) |
                   (uint32_t{block[4 * i + 2]} << 8) | uint32_t{block[4 * i + 3]};
        for (int i = 16; i < 64; ++i) {
            const uint32_t s0 = rotateRight(w[i - 15], 7) ^ rotateRight(w[i - 15], 18) ^ (w[i - 15] >> 3);
            const uint32_t s1 = rotateRight(w[i - 2], 17) ^ rotateRight(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = m_state[0], b = m_state[1], c = m_state[2], d = m_state[3];
        uint32_t e = m_state[4], f = m_state[5], g = m_state[6], h = m_state[7];
        for (int i = 0; i < 64; ++i) {
            const uint32_t s1 = rotateRight(e, 6) ^ rotateRight(e, 11) ^ rotateRight(e, 25);
            const uint32_t choose = (e & f) ^ (~e & g);
            const uint32_t t1 = h + s1 + choose + k[i] + w[i];
            const uint32_t s0 = rotateRight(a, 2) ^ rotateRight(a, 13) ^ rotateRight(a, 22);
            const uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
            const uint32_t t2 = s0 + majority;
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        m_state[0] += a;
        m_state[1] += b;
        m_state[2] += c;
        m_state[3] += d;
        m_state[4] += e;
        m_state[5] += f;
        m_state[6] += g;
        m_state[7] += h;
    }

    std::array<uint32_t, 8> m_state{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::array<unsigned char, 64> m_block{};
    std::size_t m_blockFill = 0;
    uint64_t m_totalBytes = 0;
};

} // namespace

void writeFileAtomically(const std::string& path, std::string_view contents) {
    TemporaryFile temporary(path);

    std::size_t written = 0;
    while (written < contents.size()) {
        const ssize_t result = ::write(temporary.fd(), contents.data() + written, contents.size() - written);
        if (result < 0) {
            if (errno == EINTR)
                continue;
            throw Error(path, systemError("cannot write"));
        }
        written += static_cast<std::size_t>(result);
    }
    // A replaced file keeps its permissions; a new one gets the usual rw-r--r--.
    struct stat existing {};
    const mode_t mode = ::stat(path.c_str(), &existing) == 0 ? (existing.st_mode & 07777) : 0644;
    if (::fchmod(temporary.fd(), mode) != 0)
        throw Error(path, systemError("cannot set the permissions of the new file"));
    if (::fsync(temporary.fd()) != 0)
        throw Error(path, systemError("cannot flush to disk"));
    if (temporary.closeFile() != 0)
        throw Error(path, systemError("cannot close the temporary file"));
    if (::rename(temporary.path().c_str(), path.c_str()) != 0)
        throw Error(path, systemError("cannot rename the temporary file into place"));
    temporary.commit();

    // Make the rename itself durable; failing here leaves the new file in place, so it is not an error.
    std::filesystem::path directory = std::filesystem::path(path).parent_path();
    if (directory.empty())
        directory = ".";
    const int directoryFd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directoryFd >= 0) {
        ::fsync(directoryFd);
        ::close(directoryFd);
    }
}

std::string sha256OfFile(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file)
        throw Error(path, systemError("cannot open the file"));
    Sha256 hash;
    std::vector<char> buffer(1 << 20);
    while (file) {
        file.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        hash.update(reinterpret_cast<const unsigned char*>(buffer.data()), static_cast<std::size_t>(file.gcount()));
    }
    if (file.bad())
        throw Error(path, "cannot read the file");
    return hash.hexDigest();
}

std::string sha256OfBytes(std::string_view bytes) {
    Sha256 hash;
    hash.update(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    return hash.hexDigest();
}

} // namespace quantscope
