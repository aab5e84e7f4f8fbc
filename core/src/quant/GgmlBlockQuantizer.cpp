#include "quantscope/quant/GgmlBlockQuantizer.h"

#include "quantscope/Error.h"

#include "io/ElementConversion.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cfloat>
#include <cmath>

// The reference quantizers of ggml-quants.c (ggml, MIT). Every expression keeps ggml's operand
// order and types (float32 throughout, int levels converted where ggml converts them): a different
// order rounds differently, and llama.cpp's files would no longer match ours byte for byte.
namespace quantscope {
namespace {

constexpr int kSuperBlock = 256;       // QK_K
constexpr float kGroupMaxEps = 1e-15f; // GROUP_MAX_EPS: below this a group counts as all zero

// GGML_FP32_TO_FP16: round to nearest even; beyond the largest half (65504) to infinity.
uint16_t halfBitsOf(float value) {
    uint32_t bits = std::bit_cast<uint32_t>(value);
    const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
    bits &= 0x7fffffffu;
    if (bits > 0x7f800000u)
        return sign | 0x7e00u;
    if (bits >= 0x477ff000u) // 65520 and above round to infinity
        return sign | 0x7c00u;
    if (bits < 0x38800000u) {
        // Below 2^-14: a subnormal half, value * 2^24 units (exact scaling by a power of two).
        const float units = std::bit_cast<float>(bits) * 16777216.0f;
        return sign | static_cast<uint16_t>(std::nearbyint(units));
    }
    uint32_t half = ((((bits >> 23) - 127u) + 15u) << 10) | ((bits >> 13) & 0x3ffu);
    const uint32_t dropped = bits & 0x1fffu;
    if (dropped > 0x1000u || (dropped == 0x1000u && (half & 1u) != 0))
        ++half; // a carry into the exponent is the right result
    return static_cast<uint16_t>(sign | half);
}

// The half that GGML_FP32_TO_FP16 stores and its float32 value, as ggml reads it back.
struct Half {
    uint16_t bits;
    float value;
    explicit Half(float x) : bits(halfBitsOf(x)), value(io::halfToFloat(bits)) {}
};

void putHalf(std::byte* at, Half half) {
    at[0] = static_cast<std::byte>(half.bits & 0xffu);
    at[1] = static_cast<std::byte>(half.bits >> 8);
}

// ggml's nearest_int: round to nearest even through the float32 mantissa, valid for |x| < 2^22
// (ggml asserts it; larger inputs give what ggml gives).
int nearestInt(float x) {
    const float shifted = x + 12582912.0f;
    const auto bits = std::bit_cast<int32_t>(shifted);
    return (bits & 0x007fffff) - 0x00400000;
}

int clampLevel(int level, int lowest, int highest, bool& clipped) {
    clipped = level < lowest || level > highest;
    return std::max(lowest, std::min(highest, level));
}

// ggml's make_qkx2_quants (use_mad = false): fits level = round((x - min) / scale) in [0, nmax]
// with min <= 0, trying nstep + 1 scales around the min-max one and keeping the one with the
// least weighted squared error. Returns the scale, and -min through `negatedMin`.
float fitScaleAndMin(const float* x, const float* weights, int n, int nmax, uint8_t* levels,
                     float& negatedMin, float rmin, float rdelta, int nstep) {
    float min = x[0];
    float max = x[0];
    float sumW = weights[0];
    float sumX = sumW * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min)
            min = x[i];
        if (x[i] > max)
            max = x[i];
        const float w = weights[i];
        sumW += w;
        sumX += w * x[i];
    }
    if (min > 0)
        min = 0;
    if (max == min) {
        std::fill(levels, levels + n, uint8_t{0});
        negatedMin = -min;
        return 0.0f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float bestError = 0;
    for (int i = 0; i < n; ++i) {
        const int l = nearestInt(iscale * (x[i] - min));
        levels[i] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
        float diff = scale * levels[i] + min - x[i];
        diff = diff * diff;
        bestError += weights[i] * diff;
    }
    std::array<uint8_t, 32> trial{};
    for (int step = 0; step <= nstep; ++step) {
        iscale = (rmin + rdelta * step + nmax) / (max - min);
        float sumL = 0, sumL2 = 0, sumXL = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearestInt(iscale * (x[i] - min));
            l = std::max(0, std::min(nmax, l));
            trial[static_cast<std::size_t>(i)] = static_cast<uint8_t>(l);
            const float w = weights[i];
            sumL += w * l;
            sumL2 += w * l * l;
            sumXL += w * l * x[i];
        }
        const float determinant = sumW * sumL2 - sumL * sumL;
        if (determinant > 0) {
            float thisScale = (sumW * sumXL - sumX * sumL) / determinant;
            float thisMin = (sumL2 * sumX - sumL * sumXL) / determinant;
            if (thisMin > 0) {
                thisMin = 0;
                thisScale = sumXL / sumL2;
            }
            float error = 0;
            for (int i = 0; i < n; ++i) {
                float diff = thisScale * trial[static_cast<std::size_t>(i)] + thisMin - x[i];
                diff = diff * diff;
                error += weights[i] * diff;
            }
            if (error < bestError) {
                std::copy_n(trial.begin(), n, levels);
                bestError = error;
                scale = thisScale;
                min = thisMin;
            }
        }
    }
    negatedMin = -min;
    return scale;
}

// ggml's make_qx_quants with rmse_type 1 and no importance weights (weights x^2): a symmetric fit
// of level = round(x / scale) in [-nmax, nmax - 1], the sign chosen so that the largest magnitude
// lands on -nmax, trying 18 scales around it. Writes level + nmax.
float fitSymmetricScale(const float* x, int n, int nmax, uint8_t* levels) {
    float max = 0;
    float amax = 0;
    for (int i = 0; i < n; ++i) {
        const float ax = std::fabs(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < kGroupMaxEps) {
        std::fill(levels, levels + n, uint8_t{0});
        return 0.0f;
    }
    auto levelOf = [&](float iscale, int i) {
        return std::max(-nmax, std::min(nmax - 1, nearestInt(iscale * x[i])));
    };
    float iscale = -nmax / max;
    float sumLX = 0;
    float sumL2 = 0;
    for (int i = 0; i < n; ++i) {
        const int l = levelOf(iscale, i);
        levels[i] = static_cast<uint8_t>(l + nmax);
        const float w = x[i] * x[i];
        sumLX += w * x[i] * l;
        sumL2 += w * l * l;
    }
    float scale = sumL2 != 0.0f ? sumLX / sumL2 : 0.0f;
    float best = scale * sumLX;
    for (int step = -9; step <= 9; ++step) {
        if (step == 0)
            continue;
        iscale = -(nmax + 0.1f * step) / max;
        sumLX = sumL2 = 0;
        for (int i = 0; i < n; ++i) {
            const int l = levelOf(iscale, i);
            const float w = x[i] * x[i];
            sumLX += w * x[i] * l;
            sumL2 += w * l * l;
        }
        if (sumL2 > 0 && sumLX * sumLX > best * sumL2) {
            for (int i = 0; i < n; ++i)
                levels[i] = static_cast<uint8_t>(nmax + levelOf(iscale, i));
            scale = sumLX / sumL2;
            best = scale * sumLX;
        }
    }
    return scale;
}

// The value of largest magnitude (the first one on a tie), as q4_0 / q5_0 look for it.
float signedAbsMax(const float* x, int n) {
    float amax = 0.0f;
    float max = 0.0f;
    for (int j = 0; j < n; ++j) {
        if (amax < std::fabs(x[j])) {
            amax = std::fabs(x[j]);
            max = x[j];
        }
    }
    return max;
}

// q4_0 / q4_1 / q5_0 / q5_1 store the levels of values j and j + 16 in byte j of qs (low and high
// nibble); the 5-bit types keep each level's fifth bit in qh, bit j for value j, little endian.
void packNibbles(const uint8_t* levels, int bits, std::byte* qs, std::byte* qh) {
    uint32_t highBits = 0;
    for (int j = 0; j < 16; ++j) {
        const int l0 = levels[j];
        const int l1 = levels[16 + j];
        qs[j] = static_cast<std::byte>((l0 & 0x0f) | ((l1 & 0x0f) << 4));
        highBits |= static_cast<uint32_t>((l0 & 0x10) >> 4) << j;
        highBits |= static_cast<uint32_t>((l1 & 0x10) >> 4) << (j + 16);
    }
    if (bits == 5)
        for (int b = 0; b < 4; ++b)
            qh[b] = static_cast<std::byte>((highBits >> (8 * b)) & 0xffu);
}

// q4_0 (bits 4, d @0, qs[16] @2) and q5_0 (bits 5, d @0, qh @2, qs[16] @6): x = d * (level - 2^(bits-1)),
// d = max / -2^(bits-1) where max is the value of largest magnitude.
void quantizeSymmetricBlock(const float* x, int bits, std::byte* block, uint8_t* levels, bool* clipped) {
    const int offset = 1 << (bits - 1);
    const int highest = (1 << bits) - 1;
    const float d = signedAbsMax(x, 32) / static_cast<float>(-offset);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    putHalf(block, Half(d));
    const float rounding = static_cast<float>(offset) + 0.5f;
    for (int j = 0; j < 32; ++j)
        levels[j] = static_cast<uint8_t>(
            clampLevel(static_cast<int8_t>(x[j] * id + rounding), 0, highest, clipped[j]));
    packNibbles(levels, bits, block + (bits == 4 ? 2 : 6), block + 2);
}

// q4_1 (bits 4, d @0, m @2, qs[16] @4) and q5_1 (bits 5, d @0, m @2, qh @4, qs[16] @8):
// x = d * level + m over the block's [min, max].
void quantizeAffineBlock(const float* x, int bits, std::byte* block, uint8_t* levels, bool* clipped) {
    float min = FLT_MAX;
    float max = -FLT_MAX;
    for (int j = 0; j < 32; ++j) {
        if (x[j] < min)
            min = x[j];
        if (x[j] > max)
            max = x[j];
    }
    const float d = (max - min) / static_cast<float>((1 << bits) - 1);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    putHalf(block, Half(d));
    putHalf(block + 2, Half(min));
    for (int j = 0; j < 32; ++j) {
        if (bits == 4) { // q4_1 clamps to 15; q5_1 stores the low five bits as they come
            levels[j] = static_cast<uint8_t>(
                clampLevel(static_cast<int8_t>((x[j] - min) * id + 0.5f), 0, 15, clipped[j]));
        } else {
            levels[j] = static_cast<uint8_t>(static_cast<uint8_t>((x[j] - min) * id + 0.5f) & 0x1f);
            clipped[j] = false;
        }
    }
    packNibbles(levels, bits, block + (bits == 4 ? 4 : 8), block + 4);
}

// q8_0 (d @0, qs[32] int8 @2): x = d * q, d = amax / 127, q = roundf(x / d).
void quantizeQ8_0(const float* x, std::byte* block, uint8_t* levels, bool* clipped) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j)
        amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / ((1 << 7) - 1);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    putHalf(block, Half(d));
    for (int j = 0; j < 32; ++j) {
        const auto q = static_cast<int8_t>(std::round(x[j] * id));
        block[2 + j] = static_cast<std::byte>(static_cast<uint8_t>(q));
        levels[j] = static_cast<uint8_t>(q + 128);
        clipped[j] = false;
    }
}

// q4_K (d @0, dmin @2, scales[12] @4, qs[128] @16): eight sub-blocks of 32, each
// x = d * sc * level - dmin * m with 6-bit sc and m, levels 0..15.
void quantizeQ4_K(const float* x, std::byte* block, uint8_t* levels, bool* clipped) {
    std::array<float, 8> scales{};
    std::array<float, 8> mins{};
    std::array<float, 32> weights{};
    float maxScale = 0;
    float maxMin = 0;
    for (int j = 0; j < 8; ++j) {
        const float* sub = x + 32 * j;
        float sumX2 = 0;
        for (int l = 0; l < 32; ++l)
            sumX2 += sub[l] * sub[l];
        const float averageX = std::sqrt(sumX2 / 32);
        for (int l = 0; l < 32; ++l)
            weights[static_cast<std::size_t>(l)] = averageX + std::fabs(sub[l]);
        scales[static_cast<std::size_t>(j)] = fitScaleAndMin(
            sub, weights.data(), 32, 15, levels + 32 * j, mins[static_cast<std::size_t>(j)], -1.0f, 0.1f, 20);
        if (scales[static_cast<std::size_t>(j)] > maxScale)
            maxScale = scales[static_cast<std::size_t>(j)];
        if (mins[static_cast<std::size_t>(j)] > maxMin)
            maxMin = mins[static_cast<std::size_t>(j)];
    }
    const float inverseScale = maxScale > 0 ? 63.0f / maxScale : 0.0f;
    const float inverseMin = maxMin > 0 ? 63.0f / maxMin : 0.0f;
    std::array<uint8_t, 12> packed{};
    for (int j = 0; j < 8; ++j) {
        auto ls = static_cast<uint8_t>(nearestInt(inverseScale * scales[static_cast<std::size_t>(j)]));
        auto lm = static_cast<uint8_t>(nearestInt(inverseMin * mins[static_cast<std::size_t>(j)]));
        ls = std::min<uint8_t>(63, ls);
        lm = std::min<uint8_t>(63, lm);
        if (j < 4) {
            packed[static_cast<std::size_t>(j)] = ls;
            packed[static_cast<std::size_t>(j + 4)] = lm;
        } else {
            packed[static_cast<std::size_t>(j + 4)] = static_cast<uint8_t>((ls & 0xf) | ((lm & 0xf) << 4));
            packed[static_cast<std::size_t>(j - 4)] |= static_cast<uint8_t>((ls >> 4) << 6);
            packed[static_cast<std::size_t>(j)] |= static_cast<uint8_t>((lm >> 4) << 6);
        }
    }
    const Half d(maxScale / 63.0f);
    const Half dmin(maxMin / 63.0f);
    putHalf(block, d);
    putHalf(block + 2, dmin);
    for (int i = 0; i < 12; ++i)
        block[4 + i] = static_cast<std::byte>(packed[static_cast<std::size_t>(i)]);
    std::fill(clipped, clipped + kSuperBlock, false);
    for (int j = 0; j < 8; ++j) {
        // get_scale_min_k4
        uint8_t sc = 0;
        uint8_t m = 0;
        if (j < 4) {
            sc = packed[static_cast<std::size_t>(j)] & 63;
            m = packed[static_cast<std::size_t>(j + 4)] & 63;
        } else {
            sc = static_cast<uint8_t>((packed[static_cast<std::size_t>(j + 4)] & 0xf) |
                                      ((packed[static_cast<std::size_t>(j - 4)] >> 6) << 4));
            m = static_cast<uint8_t>((packed[static_cast<std::size_t>(j + 4)] >> 4) |
                                     ((packed[static_cast<std::size_t>(j)] >> 6) << 4));
        }
        const float subScale = d.value * sc;
        if (subScale == 0.0f)
            continue;
        const float subMin = dmin.value * m;
        for (int i = 0; i < 32; ++i) {
            const int l = nearestInt((x[32 * j + i] + subMin) / subScale);
            levels[32 * j + i] = static_cast<uint8_t>(clampLevel(l, 0, 15, clipped[32 * j + i]));
        }
    }
    std::byte* qs = block + 16;
    for (int j = 0; j < kSuperBlock; j += 64) {
        for (int l = 0; l < 32; ++l)
            qs[l] = static_cast<std::byte>(levels[j + l] | (levels[j + l + 32] << 4));
        qs += 32;
    }
}

// q6_K (ql[128] @0, qh[64] @128, int8 scales[16] @192, d @208): sixteen sub-blocks of 16,
// x = d * sc * (level - 32) with int8 sc, levels 0..63.
void quantizeQ6_K(const float* x, std::byte* block, uint8_t* levels, bool* clipped) {
    std::array<float, 16> scales{};
    float maxScale = 0;
    float maxAbsScale = 0;
    for (int ib = 0; ib < 16; ++ib) {
        const float scale = fitSymmetricScale(x + 16 * ib, 16, 32, levels + 16 * ib);
        scales[static_cast<std::size_t>(ib)] = scale;
        if (std::fabs(scale) > maxAbsScale) {
            maxAbsScale = std::fabs(scale);
            maxScale = scale;
        }
    }
    std::fill(block, block + 210, std::byte{0});
    std::fill(clipped, clipped + kSuperBlock, false);
    if (maxAbsScale < kGroupMaxEps) {
        std::fill(levels, levels + kSuperBlock, uint8_t{0}); // ggml stores an all-zero block
        return;
    }
    const float iscale = -128.0f / maxScale;
    const Half d(1 / iscale);
    std::array<int8_t, 16> subScales{};
    for (int ib = 0; ib < 16; ++ib)
        subScales[static_cast<std::size_t>(ib)] =
            static_cast<int8_t>(std::min(127, nearestInt(iscale * scales[static_cast<std::size_t>(ib)])));
    for (int j = 0; j < 16; ++j) {
        const float subScale = d.value * subScales[static_cast<std::size_t>(j)];
        if (subScale == 0.0f)
            continue;
        for (int i = 0; i < 16; ++i) {
            const int l = nearestInt(x[16 * j + i] / subScale);
            levels[16 * j + i] = static_cast<uint8_t>(clampLevel(l, -32, 31, clipped[16 * j + i]) + 32);
        }
    }
    std::byte* ql = block;
    std::byte* qh = block + 128;
    for (int j = 0; j < kSuperBlock; j += 128) {
        for (int l = 0; l < 32; ++l) {
            const uint8_t* L = levels + j + l;
            ql[l] = static_cast<std::byte>((L[0] & 0xf) | ((L[64] & 0xf) << 4));
            ql[l + 32] = static_cast<std::byte>((L[32] & 0xf) | ((L[96] & 0xf) << 4));
            qh[l] = static_cast<std::byte>((L[0] >> 4) | ((L[32] >> 4) << 2) | ((L[64] >> 4) << 4) |
                                           ((L[96] >> 4) << 6));
        }
        ql += 64;
        qh += 32;
    }
    for (int ib = 0; ib < 16; ++ib)
        block[192 + ib] =
            static_cast<std::byte>(static_cast<uint8_t>(subScales[static_cast<std::size_t>(ib)]));
    putHalf(block + 208, d);
}

} // namespace

bool GgmlBlockQuantizer::supports(GgmlType type) {
    switch (type) {
    case GgmlType::Q8_0:
    case GgmlType::Q4_0:
    case GgmlType::Q4_1:
    case GgmlType::Q5_0:
    case GgmlType::Q5_1:
    case GgmlType::Q4_K:
    case GgmlType::Q6_K:
        return true;
    default:
        return false;
    }
}

GgmlBlockQuantizer::GgmlBlockQuantizer(GgmlType type) : m_type(type) {
    const GgmlTypeTraits& traits = ggmlTypeTraits(type);
    if (!supports(type))
        throw Error("--dtype", "no reference quantizer for ggml type " + std::string(traits.name) +
                                   " (allowed: q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q6_k)");
    m_blockElements = traits.blockElements;
    m_blockBytes = traits.blockBytes;
    switch (type) {
    case GgmlType::Q8_0:
        m_levelCount = 256;
        break;
    case GgmlType::Q5_0:
    case GgmlType::Q5_1:
        m_levelCount = 32;
        break;
    case GgmlType::Q6_K:
        m_levelCount = 64;
        break;
    default:
        m_levelCount = 16;
    }
}

void GgmlBlockQuantizer::quantize(std::span<const float> values, std::span<std::byte> block,
                                  std::span<uint8_t> levels, std::span<bool> clipped) const {
    if (values.size() != m_blockElements || block.size() != m_blockBytes ||
        levels.size() != m_blockElements || clipped.size() != m_blockElements)
        throw Error(std::string(ggmlTypeTraits(m_type).name),
                    "a block takes " + std::to_string(m_blockElements) + " values into " +
                        std::to_string(m_blockBytes) + " bytes");
    switch (m_type) {
    case GgmlType::Q8_0:
        quantizeQ8_0(values.data(), block.data(), levels.data(), clipped.data());
        return;
    case GgmlType::Q4_0:
        quantizeSymmetricBlock(values.data(), 4, block.data(), levels.data(), clipped.data());
        return;
    case GgmlType::Q5_0:
        quantizeSymmetricBlock(values.data(), 5, block.data(), levels.data(), clipped.data());
        return;
    case GgmlType::Q4_1:
        quantizeAffineBlock(values.data(), 4, block.data(), levels.data(), clipped.data());
        return;
    case GgmlType::Q5_1:
        quantizeAffineBlock(values.data(), 5, block.data(), levels.data(), clipped.data());
        return;
    case GgmlType::Q4_K:
        quantizeQ4_K(values.data(), block.data(), levels.data(), clipped.data());
        return;
    case GgmlType::Q6_K:
        quantizeQ6_K(values.data(), block.data(), levels.data(), clipped.data());
        return;
    default:
        return;
    }
}

} // namespace quantscope
