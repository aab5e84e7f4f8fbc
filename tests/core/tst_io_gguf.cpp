// GgufReader and ggml's block formats: for every readable type, blocks packed by the test (from
// ggml-common.h's struct layouts and the packing of ggml's quantize_row_*_ref) decode to the
// floats that ggml's dequantize_row_* formula gives, computed here in float32 in ggml's order;
// metadata of every key/value type; row-major shapes; alignment; stored block parameters; and
// hostile files refused with an Error naming the file (and the tensor or key).

#include "tst_io_gguf_writer.h"
#include "tst_io_support.h"

#include "quantscope/io/GgufReader.h"
#include "quantscope/io/WeightFile.h"

#include <QTemporaryDir>

#include <array>
#include <cmath>
#include <limits>

using namespace quantscope;
namespace gw = ggufwriter;

namespace {

// fp16 bit patterns and their exact values.
constexpr uint16_t kHalfZero = 0x0000;
constexpr uint16_t kHalfQuarter = 0x3400;   // 0.25
constexpr uint16_t kHalfHalf = 0x3800;      // 0.5
constexpr uint16_t kHalfMinusHalf = 0xB800; // -0.5
constexpr uint16_t kHalfMinusOne = 0xBC00;  // -1
constexpr uint16_t kHalfMinusTwo = 0xC000;  // -2
constexpr uint16_t kHalfThird = 0x3555;     // 0.333251953125 (11 significant bits)
constexpr uint16_t kHalfSubnormal = 0x0001; // 2^-24
constexpr float kThird = 0.333251953125f;

// The code books of ggml-common.h, copied here so the expected values do not come from the reader.
constexpr std::array<int, 16> kIq4nl{-127, -104, -83, -65, -49, -35, -22, -10,
                                     1,    13,   25,  38,  53,  69,  89,  113};
constexpr std::array<float, 16> kE2M1{0.0f,  0.5f,  1.0f,  1.5f,  2.0f,  3.0f,  4.0f,  6.0f,
                                      -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

std::string bytesOf(const std::vector<uint8_t>& bytes) {
    return std::string(bytes.begin(), bytes.end());
}

// 6-bit scales and mins of a Q4_K / Q5_K super-block packed into 12 bytes as ggml's
// quantize_row_q4_K_ref packs them.
std::vector<uint8_t> packK4Scales(const std::array<int, 8>& scales, const std::array<int, 8>& mins) {
    std::vector<uint8_t> packed(12, 0);
    for (int j = 0; j < 8; ++j) {
        const auto ls = static_cast<uint8_t>(scales[j]);
        const auto lm = static_cast<uint8_t>(mins[j]);
        if (j < 4) {
            packed[j] = ls;
            packed[j + 4] = lm;
        } else {
            packed[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
            packed[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
            packed[j] |= static_cast<uint8_t>((lm >> 4) << 6);
        }
    }
    return packed;
}

void appendHalf(std::vector<uint8_t>& out, uint16_t half) {
    out.push_back(static_cast<uint8_t>(half & 0xFF));
    out.push_back(static_cast<uint8_t>(half >> 8));
}

float halfValue(uint16_t half) {
    switch (half) {
    case kHalfZero:
        return 0.0f;
    case kHalfQuarter:
        return 0.25f;
    case kHalfHalf:
        return 0.5f;
    case kHalfMinusHalf:
        return -0.5f;
    case kHalfMinusOne:
        return -1.0f;
    case kHalfMinusTwo:
        return -2.0f;
    case kHalfThird:
        return kThird;
    case kHalfSubnormal:
        return std::ldexp(1.0f, -24);
    default:
        qFatal("no value for half 0x%04x", half);
    }
    return 0;
}

// One block of a type with the floats it must decode to.
struct Case {
    uint32_t type;
    std::string bytes;
    std::vector<float> expected;
};

Case q8_0Case(uint16_t d) {
    std::vector<uint8_t> b;
    appendHalf(b, d);
    Case c{8, {}, {}};
    for (int j = 0; j < 32; ++j) {
        const int q = j * 8 - 128 + (j == 31 ? 7 : 0); // -128 ... 127
        b.push_back(static_cast<uint8_t>(static_cast<int8_t>(q)));
        c.expected.push_back(static_cast<float>(q) * halfValue(d));
    }
    c.bytes = bytesOf(b);
    return c;
}

// Q4_0 / Q4_1 / IQ4_NL: 16 bytes of nibbles, element j low, element j + 16 high; every nibble
// value appears in both halves.
std::vector<uint8_t> everyNibble() {
    std::vector<uint8_t> qs;
    for (int j = 0; j < 16; ++j)
        qs.push_back(static_cast<uint8_t>(j | ((15 - j) << 4)));
    return qs;
}
int nibbleOf(int element) {
    return element < 16 ? element : 15 - (element - 16);
}

Case q4_0Case(uint16_t d) {
    std::vector<uint8_t> b;
    appendHalf(b, d);
    for (const uint8_t q : everyNibble())
        b.push_back(q);
    Case c{2, bytesOf(b), {}};
    for (int e = 0; e < 32; ++e)
        c.expected.push_back(static_cast<float>(nibbleOf(e) - 8) * halfValue(d));
    return c;
}

Case q4_1Case(uint16_t d, uint16_t m) {
    std::vector<uint8_t> b;
    appendHalf(b, d);
    appendHalf(b, m);
    for (const uint8_t q : everyNibble())
        b.push_back(q);
    Case c{3, bytesOf(b), {}};
    for (int e = 0; e < 32; ++e)
        c.expected.push_back(static_cast<float>(nibbleOf(e)) * halfValue(d) + halfValue(m));
    return c;
}

// Q5_0 / Q5_1: 5-bit values q_e = (7e + 3) mod 32 (all 32 values), low nibbles in qs as Q4_0,
// fifth bits in the 32-bit qh (bit e).
std::vector<uint8_t> fiveBitPayload(std::vector<int>& q) {
    q.clear();
    for (int e = 0; e < 32; ++e)
        q.push_back((7 * e + 3) % 32);
    uint32_t qh = 0;
    std::vector<uint8_t> qs;
    for (int j = 0; j < 16; ++j) {
        qs.push_back(static_cast<uint8_t>((q[j] & 0xF) | ((q[j + 16] & 0xF) << 4)));
        qh |= static_cast<uint32_t>(q[j] >> 4) << j;
        qh |= static_cast<uint32_t>(q[j + 16] >> 4) << (j + 16);
    }
    // Sized up front: GCC 12's -Wstringop-overread misreads the grow-then-insert path.
    std::vector<uint8_t> out(4 + qs.size());
    for (int i = 0; i < 4; ++i)
        out[static_cast<std::size_t>(i)] = static_cast<uint8_t>(qh >> (8 * i));
    std::copy(qs.begin(), qs.end(), out.begin() + 4);
    return out;
}

Case q5_0Case(uint16_t d) {
    std::vector<int> q;
    std::vector<uint8_t> b;
    appendHalf(b, d);
    const auto payload = fiveBitPayload(q);
    b.insert(b.end(), payload.begin(), payload.end());
    Case c{6, bytesOf(b), {}};
    for (int e = 0; e < 32; ++e)
        c.expected.push_back(static_cast<float>(q[e] - 16) * halfValue(d));
    return c;
}

Case q5_1Case(uint16_t d, uint16_t m) {
    std::vector<int> q;
    std::vector<uint8_t> b;
    appendHalf(b, d);
    appendHalf(b, m);
    const auto payload = fiveBitPayload(q);
    b.insert(b.end(), payload.begin(), payload.end());
    Case c{7, bytesOf(b), {}};
    for (int e = 0; e < 32; ++e)
        c.expected.push_back(static_cast<float>(q[e]) * halfValue(d) + halfValue(m));
    return c;
}

// 2-bit fields of four 32-element groups share bytes: qs[j/4 + l] = L[j+l] | L[j+l+32] << 2 |
// L[j+l+64] << 4 | L[j+l+96] << 6 for j = 0, 128 (ggml's Q2_K and Q3_K packing).
std::vector<uint8_t> packTwoBit(const std::vector<int>& levels) {
    std::vector<uint8_t> qs(64, 0);
    for (int j = 0; j < 256; j += 128)
        for (int l = 0; l < 32; ++l)
            qs[j / 4 + l] = static_cast<uint8_t>(levels[j + l] | (levels[j + l + 32] << 2) |
                                                 (levels[j + l + 64] << 4) | (levels[j + l + 96] << 6));
    return qs;
}

Case q2_kCase(uint16_t d, uint16_t dmin) {
    std::vector<int> q(256);
    for (int e = 0; e < 256; ++e)
        q[e] = (e + e / 16) % 4;
    std::vector<uint8_t> b;
    std::array<int, 16> scale{}, min{};
    for (int k = 0; k < 16; ++k) {
        scale[k] = (k * 5 + 1) % 16;
        min[k] = 15 - k;
        b.push_back(static_cast<uint8_t>(scale[k] | (min[k] << 4)));
    }
    const auto qs = packTwoBit(q);
    b.insert(b.end(), qs.begin(), qs.end());
    appendHalf(b, d);
    appendHalf(b, dmin);
    Case c{10, bytesOf(b), {}};
    for (int e = 0; e < 256; ++e) {
        const float dl = halfValue(d) * static_cast<float>(scale[e / 16]);
        const float ml = halfValue(dmin) * static_cast<float>(min[e / 16]);
        c.expected.push_back(dl * static_cast<float>(q[e]) - ml);
    }
    return c;
}

Case q3_kCase(uint16_t d) {
    std::vector<int> q(256);
    for (int e = 0; e < 256; ++e)
        q[e] = (e * 3 + e / 32) % 8 - 4; // -4 ... 3
    std::array<int, 16> scale{};
    for (int k = 0; k < 16; ++k)
        scale[k] = (k * 13) % 64 - 32; // -32 ... 31, every 6-bit position used
    // hmask bit e / 32 of byte e % 32 holds "level > 3"; the low two bits are packed as Q2_K.
    std::vector<uint8_t> hmask(32, 0);
    std::vector<int> low(256);
    for (int e = 0; e < 256; ++e) {
        int level = q[e] + 4;
        if (level > 3) {
            hmask[e % 32] |= static_cast<uint8_t>(1 << (e / 32));
            level -= 4;
        }
        low[e] = level;
    }
    std::vector<uint8_t> scales(12, 0);
    for (int j = 0; j < 16; ++j) {
        const int ls = scale[j] + 32;
        if (j < 8)
            scales[j] = static_cast<uint8_t>(ls & 0xF);
        else
            scales[j - 8] |= static_cast<uint8_t>((ls & 0xF) << 4);
        scales[j % 4 + 8] |= static_cast<uint8_t>((ls >> 4) << (2 * (j / 4)));
    }
    std::vector<uint8_t> b = hmask;
    const auto qs = packTwoBit(low);
    b.insert(b.end(), qs.begin(), qs.end());
    b.insert(b.end(), scales.begin(), scales.end());
    appendHalf(b, d);
    Case c{11, bytesOf(b), {}};
    for (int e = 0; e < 256; ++e)
        c.expected.push_back(halfValue(d) * static_cast<float>(scale[e / 16]) * static_cast<float>(q[e]));
    return c;
}

const std::array<int, 8> kK4Scales{63, 1, 32, 17, 48, 5, 60, 0};
const std::array<int, 8> kK4Mins{0, 63, 15, 16, 31, 47, 2, 62};

Case q4_kCase(uint16_t d, uint16_t dmin) {
    std::vector<int> q(256);
    for (int e = 0; e < 256; ++e)
        q[e] = (e * 7 + e / 64) % 16;
    std::vector<uint8_t> b;
    appendHalf(b, d);
    appendHalf(b, dmin);
    const auto scales = packK4Scales(kK4Scales, kK4Mins);
    b.insert(b.end(), scales.begin(), scales.end());
    for (int j = 0; j < 256; j += 64)
        for (int l = 0; l < 32; ++l)
            b.push_back(static_cast<uint8_t>(q[j + l] | (q[j + l + 32] << 4)));
    Case c{12, bytesOf(b), {}};
    for (int e = 0; e < 256; ++e) {
        const float d1 = halfValue(d) * static_cast<float>(kK4Scales[e / 32]);
        const float m1 = halfValue(dmin) * static_cast<float>(kK4Mins[e / 32]);
        c.expected.push_back(d1 * static_cast<float>(q[e]) - m1);
    }
    return c;
}

Case q5_kCase(uint16_t d, uint16_t dmin) {
    std::vector<int> q(256);
    for (int e = 0; e < 256; ++e)
        q[e] = (e * 11 + e / 32) % 32;
    std::vector<uint8_t> b;
    appendHalf(b, d);
    appendHalf(b, dmin);
    const auto scales = packK4Scales(kK4Scales, kK4Mins);
    b.insert(b.end(), scales.begin(), scales.end());
    std::vector<uint8_t> qh(32, 0), ql;
    for (int n = 0; n < 4; ++n) {
        for (int j = 0; j < 32; ++j) {
            int l1 = q[n * 64 + j];
            int l2 = q[n * 64 + 32 + j];
            if (l1 > 15) {
                l1 -= 16;
                qh[j] |= static_cast<uint8_t>(1 << (2 * n));
            }
            if (l2 > 15) {
                l2 -= 16;
                qh[j] |= static_cast<uint8_t>(2 << (2 * n));
            }
            ql.push_back(static_cast<uint8_t>(l1 | (l2 << 4)));
        }
    }
    b.insert(b.end(), qh.begin(), qh.end());
    b.insert(b.end(), ql.begin(), ql.end());
    Case c{13, bytesOf(b), {}};
    for (int e = 0; e < 256; ++e) {
        const float d1 = halfValue(d) * static_cast<float>(kK4Scales[e / 32]);
        const float m1 = halfValue(dmin) * static_cast<float>(kK4Mins[e / 32]);
        c.expected.push_back(d1 * static_cast<float>(q[e]) - m1);
    }
    return c;
}

Case q6_kCase(uint16_t d) {
    std::vector<int> level(256);
    for (int e = 0; e < 256; ++e)
        level[e] = (e * 5 + e / 64) % 64; // q = level - 32: -32 ... 31
    std::array<int, 16> scale{127, -128, 1, -1, 0, 64, -77, 33, 100, -100, 7, -7, 90, -3, 2, 127};
    std::vector<uint8_t> ql(128), qh(64);
    for (int half = 0; half < 2; ++half) {
        const int j = half * 128;
        for (int l = 0; l < 32; ++l) {
            ql[half * 64 + l] = static_cast<uint8_t>((level[j + l] & 0xF) | ((level[j + l + 64] & 0xF) << 4));
            ql[half * 64 + l + 32] =
                static_cast<uint8_t>((level[j + l + 32] & 0xF) | ((level[j + l + 96] & 0xF) << 4));
            qh[half * 32 + l] =
                static_cast<uint8_t>((level[j + l] >> 4) | ((level[j + l + 32] >> 4) << 2) |
                                     ((level[j + l + 64] >> 4) << 4) | ((level[j + l + 96] >> 4) << 6));
        }
    }
    std::vector<uint8_t> b = ql;
    b.insert(b.end(), qh.begin(), qh.end());
    for (const int s : scale)
        b.push_back(static_cast<uint8_t>(static_cast<int8_t>(s)));
    appendHalf(b, d);
    Case c{14, bytesOf(b), {}};
    for (int e = 0; e < 256; ++e)
        c.expected.push_back(halfValue(d) * static_cast<float>(scale[e / 16]) *
                             static_cast<float>(level[e] - 32));
    return c;
}

Case iq4_nlCase(uint16_t d) {
    std::vector<uint8_t> b;
    appendHalf(b, d);
    for (const uint8_t q : everyNibble())
        b.push_back(q);
    Case c{20, bytesOf(b), {}};
    for (int e = 0; e < 32; ++e)
        c.expected.push_back(halfValue(d) * static_cast<float>(kIq4nl[nibbleOf(e)]));
    return c;
}

Case iq4_xsCase(uint16_t d) {
    std::array<int, 8> ls{0, 63, 32, 31, 17, 48, 5, 40}; // stored 6-bit scales (bias 32)
    uint16_t scalesHigh = 0;
    std::vector<uint8_t> scalesLow(4, 0);
    for (int ib = 0; ib < 8; ++ib) {
        scalesLow[ib / 2] |= static_cast<uint8_t>((ls[ib] & 0xF) << (4 * (ib % 2)));
        scalesHigh |= static_cast<uint16_t>((ls[ib] >> 4) << (2 * ib));
    }
    std::vector<uint8_t> b;
    appendHalf(b, d);
    appendHalf(b, scalesHigh);
    b.insert(b.end(), scalesLow.begin(), scalesLow.end());
    std::vector<int> idx(256);
    for (int e = 0; e < 256; ++e)
        idx[e] = (e * 3 + e / 32) % 16;
    for (int ib = 0; ib < 8; ++ib)
        for (int j = 0; j < 16; ++j)
            b.push_back(static_cast<uint8_t>(idx[ib * 32 + j] | (idx[ib * 32 + j + 16] << 4)));
    Case c{23, bytesOf(b), {}};
    for (int e = 0; e < 256; ++e) {
        const float dl = halfValue(d) * static_cast<float>(ls[e / 32] - 32);
        c.expected.push_back(dl * static_cast<float>(kIq4nl[idx[e]]));
    }
    return c;
}

// MXFP4: value = E2M1(nibble) * 2^(e - 127), exactly (OCP MX); e = 127 is scale 1.
Case mxfp4Case(uint8_t e) {
    std::vector<uint8_t> b{e};
    for (const uint8_t q : everyNibble())
        b.push_back(q);
    Case c{39, bytesOf(b), {}};
    for (int i = 0; i < 32; ++i) {
        // ggml multiplies the doubled code (an integer, so +0 for code 8) by 2^(e - 128); for
        // e = 255 that is 2^127 and the larger codes overflow to infinity.
        const float doubled = kE2M1[nibbleOf(i)] == 0.0f ? 0.0f : 2.0f * kE2M1[nibbleOf(i)];
        c.expected.push_back(doubled * std::ldexp(1.0f, static_cast<int>(e) - 128));
    }
    return c;
}

std::string repeatHalf(uint16_t half, int count) {
    std::string out;
    for (int i = 0; i < count; ++i)
        out += gw::u16(half);
    return out;
}

} // namespace

class TestGguf : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    int m_fileNumber = 0;

    std::string write(const gw::Writer& writer, const std::string& name = {}) {
        const std::string path =
            m_dir
                .filePath(QString::fromStdString(name.empty() ? "f" + std::to_string(++m_fileNumber) + ".gguf"
                                                              : name))
                .toStdString();
        if (!iotest::writeBytes(path, writer.build()))
            qFatal("cannot write %s", path.c_str());
        return path;
    }

    // A file holding each case as a one-row tensor, checked element by element.
    void checkCases(const std::vector<Case>& cases) {
        gw::Writer writer;
        for (std::size_t i = 0; i < cases.size(); ++i)
            writer.tensor(
                {"t" + std::to_string(i), {cases[i].expected.size()}, cases[i].type, cases[i].bytes, {}});
        const std::string path = write(writer);
        GgufReader reader(path);
        for (std::size_t i = 0; i < cases.size(); ++i) {
            const Tensor tensor = reader.load("t" + std::to_string(i));
            QVERIFY2(iotest::sameValues(tensor, cases[i].expected),
                     ("case " + std::to_string(i) + " of type " + std::to_string(cases[i].type)).c_str());
        }
    }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void q8_0() {
        const Case c = q8_0Case(kHalfMinusHalf);
        QCOMPARE(c.expected[0], 64.0f);        // -128 * -0.5
        QCOMPARE(c.expected[31], -63.5f);      // 127 * -0.5
        QVERIFY(std::signbit(c.expected[16])); // 0 * -0.5 is -0, as in ggml
        checkCases({c, q8_0Case(kHalfZero), q8_0Case(kHalfThird), q8_0Case(kHalfSubnormal)});
    }
    void q4_0() {
        const Case c = q4_0Case(kHalfQuarter);
        QCOMPARE(c.expected[0], -2.0f);  // (0 - 8) * 0.25
        QCOMPARE(c.expected[16], 1.75f); // (15 - 8) * 0.25
        checkCases({c, q4_0Case(kHalfMinusTwo), q4_0Case(kHalfZero), q4_0Case(kHalfThird)});
    }
    void q4_1() {
        const Case c = q4_1Case(kHalfHalf, kHalfMinusOne);
        QCOMPARE(c.expected[0], -1.0f);
        QCOMPARE(c.expected[16], 6.5f); // 15 * 0.5 - 1
        checkCases({c, q4_1Case(kHalfMinusHalf, kHalfHalf), q4_1Case(kHalfZero, kHalfThird),
                    q4_1Case(kHalfThird, kHalfMinusTwo)});
    }
    void q5_0() {
        const Case c = q5_0Case(kHalfHalf);
        QCOMPARE(c.expected[0], -6.5f); // (3 - 16) * 0.5
        QCOMPARE(c.expected[1], -3.0f); // (10 - 16) * 0.5
        checkCases({c, q5_0Case(kHalfMinusTwo), q5_0Case(kHalfZero), q5_0Case(kHalfThird)});
    }
    void q5_1() {
        const Case c = q5_1Case(kHalfQuarter, kHalfMinusOne);
        QCOMPARE(c.expected[0], -0.25f); // 3 * 0.25 - 1
        checkCases({c, q5_1Case(kHalfMinusHalf, kHalfHalf), q5_1Case(kHalfThird, kHalfThird)});
    }
    void q2_k() {
        const Case c = q2_kCase(kHalfHalf, kHalfQuarter);
        // element 0: scale 1, min 15, q 0 -> 0.5 * 1 * 0 - 0.25 * 15
        QCOMPARE(c.expected[0], -3.75f);
        checkCases({c, q2_kCase(kHalfMinusOne, kHalfThird), q2_kCase(kHalfZero, kHalfZero)});
    }
    void q3_k() {
        const Case c = q3_kCase(kHalfHalf);
        // element 0: scale (0 * 13) % 64 - 32 = -32, q = 0 % 8 - 4 = -4 -> 0.5 * -32 * -4
        QCOMPARE(c.expected[0], 64.0f);
        checkCases({c, q3_kCase(kHalfMinusTwo), q3_kCase(kHalfThird), q3_kCase(kHalfZero)});
    }
    void q4_k() {
        const Case c = q4_kCase(kHalfHalf, kHalfQuarter);
        QCOMPARE(c.expected[1], 220.5f); // 0.5 * 63 * 7 - 0.25 * 0
        checkCases({c, q4_kCase(kHalfMinusHalf, kHalfThird), q4_kCase(kHalfThird, kHalfMinusTwo),
                    q4_kCase(kHalfZero, kHalfHalf)});
    }
    void q5_k() {
        checkCases({q5_kCase(kHalfHalf, kHalfQuarter), q5_kCase(kHalfThird, kHalfMinusOne),
                    q5_kCase(kHalfMinusTwo, kHalfZero)});
    }
    void q6_k() {
        const Case c = q6_kCase(kHalfHalf);
        QCOMPARE(c.expected[0], -2032.0f); // 0.5 * 127 * (0 - 32)
        checkCases({c, q6_kCase(kHalfThird), q6_kCase(kHalfMinusOne), q6_kCase(kHalfZero)});
    }
    void iq4_nl() {
        const Case c = iq4_nlCase(kHalfHalf);
        QCOMPARE(c.expected[0], -63.5f); // 0.5 * -127
        QCOMPARE(c.expected[16], 56.5f); // 0.5 * 113
        checkCases({c, iq4_nlCase(kHalfMinusTwo), iq4_nlCase(kHalfThird)});
    }
    void iq4_xs() {
        const Case c = iq4_xsCase(kHalfHalf);
        QCOMPARE(c.expected[0], 2032.0f); // 0.5 * (0 - 32) * -127
        checkCases({c, iq4_xsCase(kHalfThird), iq4_xsCase(kHalfMinusOne)});
    }
    void mxfp4() {
        const Case c = mxfp4Case(127);
        QCOMPARE(c.expected[7], 6.0f);
        QCOMPARE(c.expected[16], -6.0f);
        // Extremes of the E8M0 scale: 2^-127 (subnormal), 2^-126, 2^127 (ggml reads 255 as a power too).
        checkCases(
            {c, mxfp4Case(0), mxfp4Case(1), mxfp4Case(2), mxfp4Case(130), mxfp4Case(254), mxfp4Case(255)});
    }

    void plainTypes() {
        gw::Writer writer;
        writer.tensor({"f32", {3}, 0, gw::f32(1.5f) + gw::f32(-0.0f) + gw::f32(1e-40f), {}});
        writer.tensor({"f16", {3}, 1, gw::u16(0x3C00) + gw::u16(0xFC00) + gw::u16(0x0001), {}});
        writer.tensor({"bf16", {2}, 30, gw::u16(0x3F80) + gw::u16(0xC2F7), {}});
        writer.tensor({"i8", {2}, 24, std::string("\x80\x7f", 2), {}});
        writer.tensor({"i32", {1}, 26, gw::u32(static_cast<uint32_t>(-70000)), {}});
        writer.tensor({"f64", {1}, 28, gw::f64(0.1), {}});
        GgufReader reader(write(writer));
        QVERIFY(iotest::sameValues(reader.load("f32"), {1.5f, -0.0f, 1e-40f}));
        QVERIFY(iotest::sameValues(reader.load("f16"),
                                   {1.0f, -std::numeric_limits<float>::infinity(), std::ldexp(1.0f, -24)}));
        QVERIFY(iotest::sameValues(reader.load("bf16"), {1.0f, -123.5f}));
        QVERIFY(iotest::sameValues(reader.load("i8"), {-128.0f, 127.0f}));
        QVERIFY(iotest::sameValues(reader.load("i32"), {-70000.0f}));
        QVERIFY(iotest::sameValues(reader.load("f64"), {0.1f}));
        QCOMPARE(reader.find("f16")->dtype, DType::F16);
        QCOMPARE(storageName(*reader.find("bf16")), std::string("bf16"));
        QCOMPARE(reader.blockCount("f32"), uint64_t{0});
    }

    void listsShapesRowMajorWithGgmlTypes() {
        gw::Writer writer;
        // ne = [64, 3]: 3 rows of 64 (two Q8_0 blocks per row).
        std::string q8;
        std::vector<float> expected;
        for (int block = 0; block < 6; ++block) {
            const Case c = q8_0Case(block % 2 ? kHalfHalf : kHalfMinusOne);
            q8 += c.bytes;
            expected.insert(expected.end(), c.expected.begin(), c.expected.end());
        }
        writer.tensor({"blk.0.attn_q.weight", {64, 3}, 8, q8, {}});
        writer.tensor({"cube", {2, 3, 4}, 1, repeatHalf(0x3C00, 24), {}});
        writer.tensor({"scalar", {}, 0, gw::f32(2.5f), {}});
        const auto file = openWeightFile(write(writer, "model.bin")); // the content decides, not the name
        QCOMPARE(file->format(), std::string("gguf"));
        QCOMPARE(file->tensors().size(), std::size_t{3});
        const TensorInfo& q = file->tensors()[0];
        QCOMPARE(q.name, std::string("blk.0.attn_q.weight"));
        QCOMPARE(q.shape, (std::vector<int64_t>{3, 64}));
        QCOMPARE(q.elements, uint64_t{192});
        QCOMPARE(q.bytes, uint64_t{6 * 34});
        QCOMPARE(storageName(q), std::string("q8_0"));
        QCOMPARE(q.dtype, DType::F32);
        QCOMPARE(file->tensors()[1].shape, (std::vector<int64_t>{4, 3, 2}));
        QCOMPARE(file->tensors()[2].shape, (std::vector<int64_t>{}));
        const Tensor loaded = file->load("blk.0.attn_q.weight");
        QCOMPARE(loaded.shape(), (std::vector<int64_t>{3, 64}));
        QVERIFY(iotest::sameValues(loaded, expected));
        QVERIFY(iotest::sameValues(file->load("scalar"), {2.5f}));
    }

    void metadataOfEveryValueType() {
        gw::Writer writer;
        writer.key("u8", gw::U8, std::string(1, '\xC8'));
        writer.key("i8", gw::I8, std::string(1, '\xFB'));
        writer.key("u16", gw::U16, gw::u16(65535));
        writer.key("i16", gw::I16, gw::u16(static_cast<uint16_t>(-300)));
        writer.key("u32", gw::U32, gw::u32(4000000000u));
        writer.key("i32", gw::I32, gw::u32(static_cast<uint32_t>(-7)));
        writer.key("f32", gw::F32, gw::f32(0.1f));
        writer.key("bool", gw::Bool, std::string(1, '\x01'));
        writer.key("bool.false", gw::Bool, std::string(1, '\x00'));
        writer.string("general.architecture", "llama");
        writer.key("u64", gw::U64, gw::u64((uint64_t{1} << 63) + 1));
        writer.key("i64", gw::I64, gw::u64(static_cast<uint64_t>(-(int64_t{1} << 40))));
        writer.key("f64", gw::F64, gw::f64(0.1));
        writer.array("small", gw::I32, 3, gw::u32(1) + gw::u32(2) + gw::u32(static_cast<uint32_t>(-3)));
        std::string many;
        for (int i = 0; i < 32000; ++i)
            many += gw::u32(static_cast<uint32_t>(i));
        writer.array("tokenizer.ggml.scores", gw::I32, 32000, many);
        writer.array("tokens", gw::String, 2, gw::str("a") + gw::str("b c"));
        std::string manyStrings;
        for (int i = 0; i < 100; ++i)
            manyStrings += gw::str("tok" + std::to_string(i));
        writer.array("tokenizer.ggml.tokens", gw::String, 100, manyStrings);
        writer.array("nested", gw::Array, 2,
                     gw::u32(gw::U8) + gw::u64(2) + "\x01\x02" + gw::u32(gw::U8) + gw::u64(1) + "\x03");
        writer.tensor({"w", {1}, 0, gw::f32(1.0f), {}});
        GgufReader reader(write(writer));
        const auto& m = reader.metadata();
        QCOMPARE(m.size(), std::size_t{18});
        QCOMPARE(m.at("u8"), std::string("200"));
        QCOMPARE(m.at("i8"), std::string("-5"));
        QCOMPARE(m.at("u16"), std::string("65535"));
        QCOMPARE(m.at("i16"), std::string("-300"));
        QCOMPARE(m.at("u32"), std::string("4000000000"));
        QCOMPARE(m.at("i32"), std::string("-7"));
        QCOMPARE(m.at("f32"), std::string("0.100000001"));
        QCOMPARE(m.at("bool"), std::string("true"));
        QCOMPARE(m.at("bool.false"), std::string("false"));
        QCOMPARE(m.at("general.architecture"), std::string("llama"));
        QCOMPARE(m.at("u64"), std::string("9223372036854775809"));
        QCOMPARE(m.at("i64"), std::string("-1099511627776"));
        QCOMPARE(m.at("f64"), std::string("0.10000000000000001"));
        QCOMPARE(m.at("small"), std::string("[1, 2, -3]"));
        QCOMPARE(m.at("tokenizer.ggml.scores"), std::string("[int32 × 32000]"));
        QCOMPARE(m.at("tokens"), std::string("[\"a\", \"b c\"]"));
        QCOMPARE(m.at("tokenizer.ggml.tokens"), std::string("[string × 100]"));
        QCOMPARE(m.at("nested"), std::string("[[1, 2], [3]]"));
        QVERIFY(iotest::sameValues(reader.load("w"), {1.0f})); // the header was walked to its end
        QCOMPARE(reader.version(), uint32_t{3});
    }

    void honoursTheDeclaredAlignment() {
        for (const uint64_t alignment : {uint64_t{1}, uint64_t{64}, uint64_t{256}}) {
            gw::Writer writer;
            writer.version = 2;
            writer.alignment = alignment;
            writer.key("general.alignment", gw::U32, gw::u32(static_cast<uint32_t>(alignment)));
            writer.tensor({"a", {3}, 0, gw::f32(1) + gw::f32(2) + gw::f32(3), {}});
            writer.tensor({"b", {32}, 2, q4_0Case(kHalfHalf).bytes, {}});
            GgufReader reader(write(writer));
            QCOMPARE(reader.alignment(), alignment);
            QCOMPARE(reader.dataStart() % alignment, uint64_t{0});
            QVERIFY(iotest::sameValues(reader.load("a"), {1, 2, 3}));
            QVERIFY(iotest::sameValues(reader.load("b"), q4_0Case(kHalfHalf).expected));
        }
    }

    void storedBlockParameters() {
        gw::Writer writer;
        writer.tensor({"k4",
                       {512},
                       12,
                       q4_kCase(kHalfHalf, kHalfQuarter).bytes + q4_kCase(kHalfThird, kHalfMinusTwo).bytes,
                       {}});
        writer.tensor({"k6", {256}, 14, q6_kCase(kHalfMinusOne).bytes, {}});
        writer.tensor({"q8", {64}, 8, q8_0Case(kHalfQuarter).bytes + q8_0Case(kHalfMinusHalf).bytes, {}});
        writer.tensor({"q41", {32}, 3, q4_1Case(kHalfHalf, kHalfMinusOne).bytes, {}});
        writer.tensor({"mx", {32}, 39, mxfp4Case(130).bytes, {}});
        writer.tensor({"plain", {4}, 0, std::string(16, '\0'), {}});
        GgufReader reader(write(writer));

        QCOMPARE(reader.blockCount("k4"), uint64_t{2});
        const auto k4 = reader.blockFields("k4", 1);
        QCOMPARE(k4.size(), std::size_t{6});
        QCOMPARE(k4[0].name, std::string("d"));
        QCOMPARE(k4[0].values, (std::vector<double>{kThird}));
        QCOMPARE(k4[1].name, std::string("dmin"));
        QCOMPARE(k4[1].values, (std::vector<double>{-2.0}));
        QCOMPARE(k4[2].name, std::string("scales"));
        QCOMPARE(k4[2].values, (std::vector<double>{63, 1, 32, 17, 48, 5, 60, 0}));
        QCOMPARE(k4[3].name, std::string("mins"));
        QCOMPARE(k4[3].values, (std::vector<double>{0, 63, 15, 16, 31, 47, 2, 62}));
        QCOMPARE(k4[4].name, std::string("sub_scales"));
        QCOMPARE(k4[4].values[0], static_cast<double>(kThird * 63.0f));

        const auto k6 = reader.blockFields("k6", 0);
        QCOMPARE(k6[0].values, (std::vector<double>{-1.0}));
        QCOMPARE(k6[1].name, std::string("scales"));
        QCOMPARE(k6[1].values,
                 (std::vector<double>{127, -128, 1, -1, 0, 64, -77, 33, 100, -100, 7, -7, 90, -3, 2, 127}));

        QCOMPARE(reader.blockFields("q8", 1)[0].values, (std::vector<double>{-0.5}));
        const auto q41 = reader.blockFields("q41", 0);
        QCOMPARE(q41[1].name, std::string("m"));
        QCOMPARE(q41[1].values, (std::vector<double>{-1.0}));
        const auto mx = reader.blockFields("mx", 0);
        QCOMPARE(mx[0].values, (std::vector<double>{130}));
        QCOMPARE(mx[1].values, (std::vector<double>{8.0})); // 2^(130 - 127)

        QS_VERIFY_ERROR(reader.blockFields("k4", 2), "k4", "block 2 is out of range", "2 blocks (0 to 1)");
        QS_VERIFY_ERROR(reader.blockFields("plain", 0), "plain", "plain f32");
        QS_VERIFY_ERROR(reader.blockFields("nope", 0), "nope", "no such tensor");
    }

    void unreadableTypesAreListedAndRefusedByName() {
        gw::Writer writer;
        writer.tensor({"iq2", {256}, 16, std::string(66, '\0'), {}});
        writer.tensor({"ok", {1}, 0, gw::f32(4.0f), {}});
        const std::string path = write(writer);
        GgufReader reader(path);
        QCOMPARE(storageName(*reader.find("iq2")), std::string("iq2_xxs"));
        QCOMPARE(reader.find("iq2")->bytes, uint64_t{66});
        QS_VERIFY_ERROR(reader.load("iq2"), path, "iq2", "ggml type iq2_xxs, which quantscope cannot read",
                        "readable: f32, f16, bf16", "q4_k", "mxfp4");
        QVERIFY(iotest::sameValues(reader.load("ok"), {4.0f}));
    }

    void hostileFilesAreRefused() {
        const auto valid = [] {
            gw::Writer writer;
            writer.string("general.name", "x");
            writer.tensor({"w", {32}, 8, q8_0Case(kHalfHalf).bytes, {}});
            return writer;
        };
        const auto refused = [&](const gw::Writer& writer, std::initializer_list<std::string> pieces) {
            const std::string path = write(writer);
            std::vector<std::string> all{path};
            all.insert(all.end(), pieces);
            const std::string message = iotest::errorOf([&] { openWeightFile(path); });
            for (const auto& piece : all)
                if (message.find(piece) == std::string::npos)
                    return "\"" + piece + "\" missing from: " + message;
            return std::string();
        };
        const auto check = [&](const gw::Writer& writer, std::initializer_list<std::string> pieces) {
            const std::string problem = refused(writer, pieces);
            QVERIFY2(problem.empty(), problem.c_str());
        };

        {
            const std::string path = write(valid());
            std::string bytes = iotest::readBytes(path);
            bytes[3] = 'X';
            iotest::writeBytes(path, bytes);
            QS_VERIFY_ERROR(GgufReader{path}, path, "GGUF magic");
        }
        for (const uint32_t version : {0u, 1u, 4u, 0x03000000u}) {
            gw::Writer writer = valid();
            writer.version = version;
            check(writer,
                  {version == 0x03000000u ? "big-endian" : "GGUF version " + std::to_string(version)});
        }
        {
            // Truncated inside the key/values, inside the tensor infos, and inside the data.
            const std::string full = valid().build();
            for (const std::size_t size : {std::size_t{10}, std::size_t{30}, std::size_t{60}}) {
                const std::string path = m_dir.filePath(QStringLiteral("cut.gguf")).toStdString();
                std::remove(path.c_str());
                iotest::writeBytes(path, full.substr(0, size));
                QS_VERIFY_ERROR(GgufReader{path}, path, "the file ends at byte " + std::to_string(size));
            }
            const std::string path = m_dir.filePath(QStringLiteral("cutdata.gguf")).toStdString();
            iotest::writeBytes(path, full.substr(0, full.size() - 1));
            QS_VERIFY_ERROR(GgufReader{path}, path, "w", "goes past the end of the data section");
        }
        {
            gw::Writer writer = valid();
            writer.tensor({"late", {32}, 0, {}, 1 << 20});
            check(writer, {"late", "goes past the end of the data section"});
        }
        {
            gw::Writer writer;
            writer.tensor({"huge", {uint64_t{1} << 40, uint64_t{1} << 40}, 0, {}, {}});
            check(writer, {"huge", "element count", "overflows"});
        }
        {
            gw::Writer writer;
            writer.key("k", gw::String, gw::u64(uint64_t{1} << 40) + "abc");
            check(writer, {"string value of 1099511627776 bytes", "file ends"});
        }
        {
            gw::Writer writer;
            writer.array("tokenizer.ggml.merges", gw::I32, uint64_t{1} << 50, gw::u32(1));
            check(writer,
                  {"tokenizer.ggml.merges", "array of 1125899906842624 int32 items goes past the end"});
        }
        {
            gw::Writer writer;
            writer.key("odd", 13, gw::u32(0));
            check(writer, {"odd", "value type 13 is not a GGUF value type"});
        }
        {
            gw::Writer writer;
            writer.key("flag", gw::Bool, "\x02");
            check(writer, {"flag", "bool value 2"});
        }
        {
            gw::Writer writer = valid();
            writer.string("general.name", "again");
            check(writer, {"general.name", "key appears twice"});
        }
        {
            gw::Writer writer;
            writer.tensor({"mystery", {32}, 77, std::string(64, '\0'), {}});
            check(writer, {"mystery", "ggml type 77 is unknown"});
        }
        {
            gw::Writer writer;
            writer.tensor({"removed", {32}, 4, std::string(64, '\0'), {}}); // Q4_2, removed from ggml
            check(writer, {"removed", "ggml type 4 is unknown"});
        }
        {
            gw::Writer writer = valid();
            writer.tensor({"skewed", {1}, 0, gw::f32(1), 40});
            check(writer, {"skewed", "data offset 40 is not a multiple of the alignment 32"});
        }
        {
            gw::Writer writer = valid();
            writer.tensor({"w", {1}, 0, gw::f32(1), {}});
            check(writer, {"w", "tensor name appears twice"});
        }
        {
            gw::Writer writer;
            writer.tensor({"a", {16}, 0, std::string(64, '\1'), {}});
            writer.tensor({"b", {16}, 0, std::string(64, '\2'), 32});
            check(writer, {"b", "overlaps the data of tensor \"a\""});
        }
        {
            gw::Writer writer;
            writer.tensor({"ragged", {16, 2}, 2, std::string(36, '\0'), {}});
            check(writer, {"ragged", "row length 16 is not a multiple of the 32-element blocks of q4_0"});
        }
        {
            gw::Writer writer;
            writer.tensor({"wide", {1, 1, 1, 1, 1}, 0, gw::f32(1), {}});
            check(writer, {"wide", "5 dimensions", "at most 4"});
        }
        for (const uint32_t alignment : {0u, 48u}) {
            gw::Writer writer = valid();
            writer.key("general.alignment", gw::U32, gw::u32(alignment));
            check(writer, {"general.alignment", "power of two"});
        }
        {
            gw::Writer writer;
            writer.tensorCount = uint64_t{1} << 60;
            check(writer, {"tensor count 1152921504606846976 cannot fit"});
        }
        {
            gw::Writer writer;
            std::string nested;
            for (int depth = 0; depth < 20; ++depth)
                nested += gw::u32(gw::Array) + gw::u64(1);
            writer.key("deep", gw::Array, nested);
            check(writer, {"deep", "nested deeper than 8"});
        }
    }

    void survivesRandomCorruption() {
        gw::Writer writer;
        writer.string("general.architecture", "llama");
        writer.array("tokens", gw::String, 3, gw::str("a") + gw::str("bb") + gw::str("ccc"));
        writer.tensor({"k4", {256}, 12, q4_kCase(kHalfHalf, kHalfQuarter).bytes, {}});
        writer.tensor({"q8", {32}, 8, q8_0Case(kHalfHalf).bytes, {}});
        const std::string original = writer.build();
        const std::string path = m_dir.filePath(QStringLiteral("corrupt.gguf")).toStdString();
        const int refused = iotest::survivedCorruptions(original, path, 200, 300, [](const std::string& p) {
            GgufReader reader(p);
            for (const auto& info : reader.tensors()) {
                reader.load(info.name);
                for (uint64_t b = 0; b < reader.blockCount(info.name); ++b)
                    reader.blockFields(info.name, b);
            }
        });
        QVERIFY(refused > 0);
    }
};

QTEST_GUILESS_MAIN(TestGguf)
#include "tst_io_gguf.moc"
