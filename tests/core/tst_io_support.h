#pragma once

// Shared by the tst_io_* tests: committed data paths, writing hostile files byte by byte, exact
// float comparison and checking that an error names the file (and the tensor).

#include "quantscope/Error.h"
#include "quantscope/tensor/Tensor.h"

#include <QTemporaryDir>
#include <QTest>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace iotest {

inline std::string dataPath(const std::string& name) {
    return std::string(QUANTSCOPE_TEST_DATA) + "/io/" + name;
}

inline bool writeBytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return out.good();
}

inline std::string readBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::string littleEndian64(uint64_t value) {
    std::string bytes;
    for (int i = 0; i < 8; ++i)
        bytes += static_cast<char>((value >> (8 * i)) & 0xFF);
    return bytes;
}

// The message of the quantscope::Error that `action` throws; "" (and a recorded failure) when it
// throws nothing or another exception.
inline std::string errorOf(const std::function<void()>& action) {
    try {
        action();
    } catch (const quantscope::Error& error) {
        return error.what();
    } catch (const std::exception& other) {
        QTest::qFail((std::string("expected quantscope::Error, got: ") + other.what()).c_str(), __FILE__,
                     __LINE__);
        return "";
    }
    QTest::qFail("expected quantscope::Error, nothing was thrown", __FILE__, __LINE__);
    return "";
}

// Runs `action`, which must throw quantscope::Error whose message holds every listed piece.
#define QS_VERIFY_ERROR(action, ...)                                                                         \
    do {                                                                                                     \
        const std::string message_ = iotest::errorOf([&] { action; });                                       \
        if (QTest::currentTestFailed())                                                                      \
            return;                                                                                          \
        for (const std::string& piece_ : std::vector<std::string>{__VA_ARGS__})                              \
            QVERIFY2(message_.find(piece_) != std::string::npos,                                             \
                     ("\"" + piece_ + "\" missing from: " + message_).c_str());                              \
    } while (false)

// Bit-exact comparison (so -0 differs from 0); an expected NaN matches any NaN.
inline bool sameValues(const quantscope::Tensor& tensor, const std::vector<float>& expected) {
    if (tensor.size() != static_cast<int64_t>(expected.size())) {
        qWarning("%s: %lld values, expected %zu", tensor.name().c_str(),
                 static_cast<long long>(tensor.size()), expected.size());
        return false;
    }
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const float actual = tensor.values()[i];
        const bool same = std::isnan(expected[i])
                              ? std::isnan(actual)
                              : std::bit_cast<uint32_t>(actual) == std::bit_cast<uint32_t>(expected[i]);
        if (!same) {
            qWarning("%s element %zu: got %.9g, expected %.9g", tensor.name().c_str(), i,
                     static_cast<double>(actual), static_cast<double>(expected[i]));
            return false;
        }
    }
    return true;
}

// Writes `iterations` corrupted copies of `original` to `path` (random bytes overwritten within
// the first `span` bytes, or the file cut short) and runs `openAndLoadAll` on each: it must either
// succeed or throw quantscope::Error, never anything else (and, under the sanitizers, never read
// out of bounds). Returns how many copies were refused; the seed is printed.
inline int survivedCorruptions(const std::string& original, const std::string& path, std::size_t span,
                               int iterations,
                               const std::function<void(const std::string&)>& openAndLoadAll) {
    const auto seed = static_cast<unsigned>(std::random_device{}());
    qInfo("corruption seed %u", seed);
    std::mt19937 random(seed);
    span = std::min(span, original.size());
    int refused = 0;
    for (int i = 0; i < iterations; ++i) {
        std::string bytes = original;
        if (random() % 4 == 0) {
            bytes.resize(random() % original.size());
        } else {
            const int changes = 1 + static_cast<int>(random() % 4);
            for (int c = 0; c < changes; ++c)
                bytes[random() % span] = static_cast<char>(random() & 0xFF);
        }
        std::remove(path.c_str()); // a fresh file: rewriting a truncated one makes ext4 flush it to disk
        if (!writeBytes(path, bytes)) {
            QTest::qFail("cannot write the corrupted copy", __FILE__, __LINE__);
            return refused;
        }
        try {
            openAndLoadAll(path);
        } catch (const quantscope::Error&) {
            ++refused;
        } catch (const std::exception& other) {
            QTest::qFail((std::string("seed ") + std::to_string(seed) + ", iteration " + std::to_string(i) +
                          ": expected quantscope::Error, got: " + other.what())
                             .c_str(),
                         __FILE__, __LINE__);
            return refused;
        }
    }
    return refused;
}

// Files a test writes into its own temporary folder.
class TempFiles {
public:
    bool isValid() const { return m_dir.isValid(); }
    QString folder() const { return m_dir.path(); }
    std::string path(const std::string& name) const {
        return m_dir.filePath(QString::fromStdString(name)).toStdString();
    }
    std::string make(const std::string& name, const std::string& bytes) const {
        const std::string file = path(name);
        if (!writeBytes(file, bytes))
            qFatal("cannot write %s", file.c_str());
        return file;
    }

private:
    QTemporaryDir m_dir;
};

} // namespace iotest
