#include "quantscope/io/GgmlBlocks.h"

#include "io/ElementConversion.h"

#include <array>
#include <cstring>

// Each decoder follows ggml's reference dequantize_row_* (ggml-quants.c) operation for operation,
// reading the block structs of ggml-common.h byte by byte (the offsets are given beside each
// decoder) so that no struct layout or host byte order is assumed.
namespace quantscope {
namespace {

constexpr int kSuperBlock = 256; // QK_K

// The non-linear 4-bit code book of IQ4_NL and IQ4_XS (kvalues_iq4nl).
constexpr std::array<int8_t, 16> kIq4nlValues{-127, -104, -83, -65, -49, -35, -22, -10,
                                              1,    13,   25,  38,  53,  69,  89,  113};
// E2M1 values doubled (kvalues_mxfp4); the E8M0 scale is halved to match.
constexpr std::array<int8_t, 16> kMxfp4Values{0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

uint8_t byteAt(const std::byte* p, int offset) {
    return static_cast<uint8_t>(p[offset]);
}
int8_t signedByteAt(const std::byte* p, int offset) {
    return static_cast<int8_t>(byteAt(p, offset));
}
uint16_t u16At(const std::byte* p, int offset) {
    return static_cast<uint16_t>(byteAt(p, offset) | (byteAt(p, offset + 1) << 8));
}
uint32_t u32At(const std::byte* p, int offset) {
    return static_cast<uint32_t>(u16At(p, offset)) | (static_cast<uint32_t>(u16At(p, offset + 2)) << 16);
}
float halfAt(const std::byte* p, int offset) {
    return io::halfToFloat(u16At(p, offset));
}

// ggml_e8m0_to_fp32_half: 2^(e - 128), subnormal for e < 2.
float e8m0Half(uint8_t e) {
    const uint32_t bits = e < 2 ? uint32_t{0x00200000} << e : static_cast<uint32_t>(e - 1) << 23;
    float value = 0;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

// get_scale_min_k4: the 6-bit scale and min of sub-block j (0..7) of a Q4_K / Q5_K super-block.
void scaleMinK4(int j, const std::byte* scales, uint8_t& scale, uint8_t& min) {
    if (j < 4) {
        scale = byteAt(scales, j) & 63;
        min = byteAt(scales, j + 4) & 63;
    } else {
        scale = static_cast<uint8_t>((byteAt(scales, j + 4) & 0xF) | ((byteAt(scales, j - 4) >> 6) << 4));
        min = static_cast<uint8_t>((byteAt(scales, j + 4) >> 4) | ((byteAt(scales, j) >> 6) << 4));
    }
}

// The 16 signed 6-bit scales of a Q3_K super-block: 4 low bits in bytes 0..7 (two per byte),
// 2 high bits in bytes 8..11, stored with a bias of 32.
std::array<int, 16> q3kScales(const std::byte* scales) {
    std::array<int, 16> result{};
    for (int j = 0; j < 16; ++j) {
        const int low = j < 8 ? byteAt(scales, j) & 0xF : byteAt(scales, j - 8) >> 4;
        const int high = (byteAt(scales, 8 + j % 4) >> (2 * (j / 4))) & 3;
        result[static_cast<std::size_t>(j)] = (low | (high << 4)) - 32;
    }
    return result;
}

// Q4_0: d (fp16) @0, qs[16] @2.
void q4_0(const std::byte* b, float* y) {
    const float d = halfAt(b, 0);
    for (int j = 0; j < 16; ++j) {
        const int x0 = (byteAt(b, 2 + j) & 0x0F) - 8;
        const int x1 = (byteAt(b, 2 + j) >> 4) - 8;
        y[j] = static_cast<float>(x0) * d;
        y[j + 16] = static_cast<float>(x1) * d;
    }
}

// Q4_1: d @0, m @2, qs[16] @4.
void q4_1(const std::byte* b, float* y) {
    const float d = halfAt(b, 0);
    const float m = halfAt(b, 2);
    for (int j = 0; j < 16; ++j) {
        const int x0 = byteAt(b, 4 + j) & 0x0F;
        const int x1 = byteAt(b, 4 + j) >> 4;
        y[j] = static_cast<float>(x0) * d + m;
        y[j + 16] = static_cast<float>(x1) * d + m;
    }
}

// Q5_0: d @0, qh (u32) @2, qs[16] @6.
void q5_0(const std::byte* b, float* y) {
    const float d = halfAt(b, 0);
    const uint32_t qh = u32At(b, 2);
    for (int j = 0; j < 16; ++j) {
        const uint8_t high0 = static_cast<uint8_t>(((qh >> j) << 4) & 0x10);
        const uint8_t high1 = static_cast<uint8_t>((qh >> (j + 12)) & 0x10);
        const int x0 = ((byteAt(b, 6 + j) & 0x0F) | high0) - 16;
        const int x1 = ((byteAt(b, 6 + j) >> 4) | high1) - 16;
        y[j] = static_cast<float>(x0) * d;
        y[j + 16] = static_cast<float>(x1) * d;
    }
}

// Q5_1: d @0, m @2, qh (u32) @4, qs[16] @8.
void q5_1(const std::byte* b, float* y) {
    const float d = halfAt(b, 0);
    const float m = halfAt(b, 2);
    const uint32_t qh = u32At(b, 4);
    for (int j = 0; j < 16; ++j) {
        const uint8_t high0 = static_cast<uint8_t>(((qh >> j) << 4) & 0x10);
        const uint8_t high1 = static_cast<uint8_t>((qh >> (j + 12)) & 0x10);
        const int x0 = (byteAt(b, 8 + j) & 0x0F) | high0;
        const int x1 = (byteAt(b, 8 + j) >> 4) | high1;
        y[j] = static_cast<float>(x0) * d + m;
        y[j + 16] = static_cast<float>(x1) * d + m;
    }
}

// Q8_0: d @0, qs[32] (int8) @2.
void q8_0(const std::byte* b, float* y) {
    const float d = halfAt(b, 0);
    for (int j = 0; j < 32; ++j)
        y[j] = static_cast<float>(signedByteAt(b, 2 + j)) * d;
}

// Q2_K: scales[16] @0 (scale in the low nibble, min in the high one), qs[64] @16, d @80, dmin @82.
void q2_k(const std::byte* b, float* y) {
    const float d = halfAt(b, 80);
    const float min = halfAt(b, 82);
    const std::byte* q = b + 16;
    int is = 0;
    for (int n = 0; n < kSuperBlock; n += 128) {
        int shift = 0;
        for (int j = 0; j < 4; ++j) {
            for (int half = 0; half < 2; ++half) {
                const uint8_t sc = byteAt(b, is++);
                const float dl = d * static_cast<float>(sc & 0xF);
                const float ml = min * static_cast<float>(sc >> 4);
                for (int l = 0; l < 16; ++l)
                    *y++ = dl * static_cast<float>((byteAt(q, l + 16 * half) >> shift) & 3) - ml;
            }
            shift += 2;
        }
        q += 32;
    }
}

// Q3_K: hmask[32] @0, qs[64] @32, scales[12] @96, d @108.
void q3_k(const std::byte* b, float* y) {
    const float dAll = halfAt(b, 108);
    const std::byte* hm = b;
    const std::byte* q = b + 32;
    const std::array<int, 16> scales = q3kScales(b + 96);
    uint8_t mask = 1;
    std::size_t is = 0;
    for (int n = 0; n < kSuperBlock; n += 128) {
        int shift = 0;
        for (int j = 0; j < 4; ++j) {
            for (int half = 0; half < 2; ++half) {
                const float dl = dAll * static_cast<float>(scales[is++]);
                for (int l = 0; l < 16; ++l) {
                    const int low = (byteAt(q, l + 16 * half) >> shift) & 3;
                    const int high = (byteAt(hm, l + 16 * half) & mask) ? 0 : 4;
                    *y++ = dl * static_cast<float>(low - high);
                }
            }
            shift += 2;
            mask = static_cast<uint8_t>(mask << 1);
        }
        q += 32;
    }
}

// Q4_K: d @0, dmin @2, scales[12] @4, qs[128] @16.
void q4_k(const std::byte* b, float* y) {
    const float d = halfAt(b, 0);
    const float min = halfAt(b, 2);
    const std::byte* q = b + 16;
    int is = 0;
    for (int j = 0; j < kSuperBlock; j += 64) {
        uint8_t sc = 0;
        uint8_t m = 0;
        scaleMinK4(is, b + 4, sc, m);
        const float d1 = d * static_cast<float>(sc);
        const float m1 = min * static_cast<float>(m);
        scaleMinK4(is + 1, b + 4, sc, m);
        const float d2 = d * static_cast<float>(sc);
        const float m2 = min * static_cast<float>(m);
        for (int l = 0; l < 32; ++l)
            *y++ = d1 * static_cast<float>(byteAt(q, l) & 0xF) - m1;
        for (int l = 0; l < 32; ++l)
            *y++ = d2 * static_cast<float>(byteAt(q, l) >> 4) - m2;
        q += 32;
        is += 2;
    }
}

// Q5_K: d @0, dmin @2, scales[12] @4, qh[32] @16, qs[128] @48.
void q5_k(const std::byte* b, float* y) {
    const float d = halfAt(b, 0);
    const float min = halfAt(b, 2);
    const std::byte* qh = b + 16;
    const std::byte* ql = b + 48;
    int is = 0;
    uint8_t u1 = 1;
    uint8_t u2 = 2;
    for (int j = 0; j < kSuperBlock; j += 64) {
        uint8_t sc = 0;
        uint8_t m = 0;
        scaleMinK4(is, b + 4, sc, m);
        const float d1 = d * static_cast<float>(sc);
        const float m1 = min * static_cast<float>(m);
        scaleMinK4(is + 1, b + 4, sc, m);
        const float d2 = d * static_cast<float>(sc);
        const float m2 = min * static_cast<float>(m);
        for (int l = 0; l < 32; ++l)
            *y++ = d1 * static_cast<float>((byteAt(ql, l) & 0xF) + ((byteAt(qh, l) & u1) ? 16 : 0)) - m1;
        for (int l = 0; l < 32; ++l)
            *y++ = d2 * static_cast<float>((byteAt(ql, l) >> 4) + ((byteAt(qh, l) & u2) ? 16 : 0)) - m2;
        ql += 32;
        is += 2;
        u1 = static_cast<uint8_t>(u1 << 2);
        u2 = static_cast<uint8_t>(u2 << 2);
    }
}

// Q6_K: ql[128] @0, qh[64] @128, scales[16] (int8) @192, d @208.
void q6_k(const std::byte* b, float* y) {
    const float d = halfAt(b, 208);
    const std::byte* ql = b;
    const std::byte* qh = b + 128;
    const std::byte* sc = b + 192;
    for (int n = 0; n < kSuperBlock; n += 128) {
        for (int l = 0; l < 32; ++l) {
            const int is = l / 16;
            const uint8_t h = byteAt(qh, l);
            const auto q1 = static_cast<int8_t>(((byteAt(ql, l) & 0xF) | (((h >> 0) & 3) << 4)) - 32);
            const auto q2 = static_cast<int8_t>(((byteAt(ql, l + 32) & 0xF) | (((h >> 2) & 3) << 4)) - 32);
            const auto q3 = static_cast<int8_t>(((byteAt(ql, l) >> 4) | (((h >> 4) & 3) << 4)) - 32);
            const auto q4 = static_cast<int8_t>(((byteAt(ql, l + 32) >> 4) | (((h >> 6) & 3) << 4)) - 32);
            // (d * scale) * q, in that order, as ggml evaluates d * sc[is] * q.
            y[l + 0] = d * static_cast<float>(signedByteAt(sc, is + 0)) * static_cast<float>(q1);
            y[l + 32] = d * static_cast<float>(signedByteAt(sc, is + 2)) * static_cast<float>(q2);
            y[l + 64] = d * static_cast<float>(signedByteAt(sc, is + 4)) * static_cast<float>(q3);
            y[l + 96] = d * static_cast<float>(signedByteAt(sc, is + 6)) * static_cast<float>(q4);
        }
        y += 128;
        ql += 64;
        qh += 32;
        sc += 8;
    }
}

// IQ4_NL: d @0, qs[16] @2.
void iq4_nl(const std::byte* b, float* y) {
    const float d = halfAt(b, 0);
    for (int j = 0; j < 16; ++j) {
        y[j] = d * static_cast<float>(kIq4nlValues[byteAt(b, 2 + j) & 0xF]);
        y[j + 16] = d * static_cast<float>(kIq4nlValues[byteAt(b, 2 + j) >> 4]);
    }
}

// The 6-bit scale of sub-block ib (0..7) of an IQ4_XS super-block, without its bias of 32.
int iq4xsScale(const std::byte* b, int ib) {
    const uint16_t scalesHigh = u16At(b, 2);
    return ((byteAt(b, 4 + ib / 2) >> (4 * (ib % 2))) & 0xF) | (((scalesHigh >> (2 * ib)) & 3) << 4);
}

// IQ4_XS: d @0, scales_h (u16) @2, scales_l[4] @4, qs[128] @8.
void iq4_xs(const std::byte* b, float* y) {
    const float d = halfAt(b, 0);
    const std::byte* qs = b + 8;
    for (int ib = 0; ib < kSuperBlock / 32; ++ib) {
        const float dl = d * static_cast<float>(iq4xsScale(b, ib) - 32);
        for (int j = 0; j < 16; ++j) {
            y[j] = dl * static_cast<float>(kIq4nlValues[byteAt(qs, j) & 0xF]);
            y[j + 16] = dl * static_cast<float>(kIq4nlValues[byteAt(qs, j) >> 4]);
        }
        y += 32;
        qs += 16;
    }
}

// MXFP4: e (E8M0) @0, qs[16] @1.
void mxfp4(const std::byte* b, float* y) {
    const float d = e8m0Half(byteAt(b, 0));
    for (int j = 0; j < 16; ++j) {
        y[j] = static_cast<float>(kMxfp4Values[byteAt(b, 1 + j) & 0x0F]) * d;
        y[j + 16] = static_cast<float>(kMxfp4Values[byteAt(b, 1 + j) >> 4]) * d;
    }
}

using BlockDecoder = void (*)(const std::byte*, float*);

BlockDecoder blockDecoder(GgmlType type) {
    switch (type) {
    case GgmlType::Q4_0:
        return q4_0;
    case GgmlType::Q4_1:
        return q4_1;
    case GgmlType::Q5_0:
        return q5_0;
    case GgmlType::Q5_1:
        return q5_1;
    case GgmlType::Q8_0:
        return q8_0;
    case GgmlType::Q2_K:
        return q2_k;
    case GgmlType::Q3_K:
        return q3_k;
    case GgmlType::Q4_K:
        return q4_k;
    case GgmlType::Q5_K:
        return q5_k;
    case GgmlType::Q6_K:
        return q6_k;
    case GgmlType::IQ4_NL:
        return iq4_nl;
    case GgmlType::IQ4_XS:
        return iq4_xs;
    case GgmlType::MXFP4:
        return mxfp4;
    default:
        return nullptr;
    }
}

// The plain ggml types are packed elements of a DType.
bool plainDType(GgmlType type, DType& dtype) {
    switch (type) {
    case GgmlType::F32:
        dtype = DType::F32;
        return true;
    case GgmlType::F16:
        dtype = DType::F16;
        return true;
    case GgmlType::BF16:
        dtype = DType::BF16;
        return true;
    case GgmlType::F64:
        dtype = DType::F64;
        return true;
    case GgmlType::I8:
        dtype = DType::I8;
        return true;
    case GgmlType::I16:
        dtype = DType::I16;
        return true;
    case GgmlType::I32:
        dtype = DType::I32;
        return true;
    case GgmlType::I64:
        dtype = DType::I64;
        return true;
    default:
        return false;
    }
}

std::vector<double> halves(const std::byte* b, std::initializer_list<int> offsets) {
    std::vector<double> values;
    for (const int offset : offsets)
        values.push_back(halfAt(b, offset));
    return values;
}

} // namespace

void dequantizeGgmlBlocks(GgmlType type, const std::byte* source, uint64_t blocks, float* destination) {
    DType dtype{};
    if (plainDType(type, dtype)) {
        io::decodeToFloat(dtype, io::ByteOrder::Little, source, blocks, destination);
        return;
    }
    const BlockDecoder decode = blockDecoder(type);
    if (decode == nullptr)
        return; // not readable: the reader refuses such tensors before calling
    const GgmlTypeTraits& traits = ggmlTypeTraits(type);
    for (uint64_t i = 0; i < blocks; ++i)
        decode(source + i * traits.blockBytes, destination + i * traits.blockElements);
}

std::vector<GgmlBlockField> ggmlBlockFields(GgmlType type, const std::byte* b) {
    std::vector<GgmlBlockField> fields;
    const auto add = [&](std::string name, std::vector<double> values) {
        fields.push_back({std::move(name), std::move(values)});
    };
    switch (type) {
    case GgmlType::Q4_0:
    case GgmlType::Q5_0:
    case GgmlType::Q8_0:
    case GgmlType::IQ4_NL:
        add("d", halves(b, {0}));
        break;
    case GgmlType::Q4_1:
    case GgmlType::Q5_1:
        add("d", halves(b, {0}));
        add("m", halves(b, {2}));
        break;
    case GgmlType::MXFP4: {
        const uint8_t e = byteAt(b, 0);
        add("e", {static_cast<double>(e)});
        // The E8M0 scale 2^(e-127) of the OCP MX spec (ggml stores the E2M1 values doubled and
        // multiplies by half of it).
        add("scale", {2.0 * static_cast<double>(e8m0Half(e))});
        break;
    }
    case GgmlType::Q2_K: {
        const float d = halfAt(b, 80);
        const float dmin = halfAt(b, 82);
        std::vector<double> scales, mins, subScales, subMins;
        for (int j = 0; j < 16; ++j) {
            const uint8_t sc = byteAt(b, j);
            scales.push_back(sc & 0xF);
            mins.push_back(sc >> 4);
            subScales.push_back(d * static_cast<float>(sc & 0xF));
            subMins.push_back(dmin * static_cast<float>(sc >> 4));
        }
        add("d", {d});
        add("dmin", {dmin});
        add("scales", std::move(scales));
        add("mins", std::move(mins));
        add("sub_scales", std::move(subScales));
        add("sub_mins", std::move(subMins));
        break;
    }
    case GgmlType::Q3_K: {
        const float d = halfAt(b, 108);
        std::vector<double> scales, subScales;
        for (const int sc : q3kScales(b + 96)) {
            scales.push_back(sc);
            subScales.push_back(d * static_cast<float>(sc));
        }
        add("d", {d});
        add("scales", std::move(scales));
        add("sub_scales", std::move(subScales));
        break;
    }
    case GgmlType::Q4_K:
    case GgmlType::Q5_K: {
        const float d = halfAt(b, 0);
        const float dmin = halfAt(b, 2);
        std::vector<double> scales, mins, subScales, subMins;
        for (int j = 0; j < 8; ++j) {
            uint8_t sc = 0;
            uint8_t m = 0;
            scaleMinK4(j, b + 4, sc, m);
            scales.push_back(sc);
            mins.push_back(m);
            subScales.push_back(d * static_cast<float>(sc));
            subMins.push_back(dmin * static_cast<float>(m));
        }
        add("d", {d});
        add("dmin", {dmin});
        add("scales", std::move(scales));
        add("mins", std::move(mins));
        add("sub_scales", std::move(subScales));
        add("sub_mins", std::move(subMins));
        break;
    }
    case GgmlType::Q6_K: {
        const float d = halfAt(b, 208);
        std::vector<double> scales, subScales;
        for (int j = 0; j < 16; ++j) {
            const int8_t sc = signedByteAt(b, 192 + j);
            scales.push_back(sc);
            subScales.push_back(d * static_cast<float>(sc));
        }
        add("d", {d});
        add("scales", std::move(scales));
        add("sub_scales", std::move(subScales));
        break;
    }
    case GgmlType::IQ4_XS: {
        const float d = halfAt(b, 0);
        std::vector<double> scales, subScales;
        for (int ib = 0; ib < 8; ++ib) {
            const int sc = iq4xsScale(b, ib) - 32;
            scales.push_back(sc);
            subScales.push_back(d * static_cast<float>(sc));
        }
        add("d", {d});
        add("scales", std::move(scales));
        add("sub_scales", std::move(subScales));
        break;
    }
    default:
        break;
    }
    return fields;
}

} // namespace quantscope
