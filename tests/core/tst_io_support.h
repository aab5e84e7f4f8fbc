#pragma once

// Shared by the tst_io_* tests: committed data paths, writing hostile files byte by byte, exact
// float comparison and checking that an error names the file (and the tensor).

#include "quantscope/Error.h"
#include "quantscope/tensor/Tensor.h"

#include <QTest>

#include <bit>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

namespace iotest {

inline std::string dataPath(const std::string& name) { return std::string(QUANTSCOPE_TEST_DATA) + "/io/" + name; }

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
        QTest::qFail((std::string("expected quantscope::Error, got: ") + other.what()).c_str(), __FILE__, __LINE__);
        return "";
    }
    QTest::qFail("expected quantscope::Error, nothing was thrown", __FILE__, __LINE__);
    return "";
}

// Runs `action`, which must throw quantscope::Error whose message holds every listed piece.
#define QS_VERIFY_ERROR(action, ...)                                                                      \
    do {                                                                                                  \
        const std::string message_ = iotest::errorOf([&] { action; });                                    \
        if (QTest::currentTestFailed())                                                                   \
            return;                                                                                       \
        for (const std::string& piece_ : std::vector<std::string>{__VA_ARGS__})                           \
            QVERIFY2(message_.find(piece_) != std::string::npos,                                          \
                     ("\"" + piece_ + "\" missing from: " + message_).c_str());                           \
    } while (false)

// Bit-exact comparison (so -0 differs from 0); an expected NaN matches any NaN.
inline bool sameValues(const quantscope::Tensor& tensor, const std::vector<float>& expected) {
    if (tensor.size() != static_cast<int64_t>(expected.size())) {
        qWarning("%s: %lld values, expected %zu", tensor.name().c_str(), static_cast<long long>(tensor.size()),
                 expected.size());
        return false;
    }
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const float actual = tensor.values()[i];
        const bool same = std::isnan(expected[i]) ? std::isnan(actual)
                                                  : std::bit_cast<uint32_t>(actual) == std::bit_cast<uint32_t>(expected[i]);
        if (!same) {
            qWarning("%s element %zu: got %.9g, expected %.9g", tensor.name().c_str(), i, static_cast<double>(actual),
                     static_cast<double>(expected[i]));
            return false;
        }
    }
    return true;
}

} // namespace iotest
