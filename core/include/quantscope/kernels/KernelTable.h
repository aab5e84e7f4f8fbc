#pragma once

#include "quantscope/kernels/ChunkKernels.h"
#include "quantscope/kernels/FloatDepthwisePlane.h"
#include "quantscope/kernels/IsaPath.h"

#include <cstddef>
#include <cstdint>

namespace quantscope::kernels {

class FixedPointMultiplier;

// How a path wants int8 GEMM operands laid out. Weights (N x K) are cut into panels of
// `panelWidth` columns; inside a panel K is split into groups of `kGroup` consecutive values
// stored together for each column: panel[k / kGroup][column][k % kGroup]. Activations are packed
// the same way into slivers of `rowBlock` rows: sliver[k / kGroup][row][k % kGroup], as uint8;
// or, when `activationsAsInt16`, kept row-major and widened to int16, each row K padded to kPadded
// with zeros (the AVX2 path multiplies int16 pairs and reads its rows' pairs in place, so packing
// is a plain widening copy). Either way rows [r, r + rowBlock) start at element r * kPadded.
struct Int8Layout {
    int panelWidth = 16;
    int kGroup = 4;
    int rowBlock = 4;
    bool activationsAsInt16 = false;
};

enum class Int8OutputKind { Int32, Float, Uint8, Int8 };

// One int8 GEMM call, C[m][n] = sum_k (A[m][k] - za) * (B[n][k] - zb), then the output stage.
// All pointers are owned by the caller; the kernel writes the panels it is given.
struct Int8GemmProblem {
    int m = 0, n = 0, k = 0, kPadded = 0;
    const void* packedA = nullptr; // slivers per Int8Layout
    // Implicit-GEMM activations, on the int16 layout only (Int8Layout::activationsAsInt16): when
    // rowStarts is set, packedA is unused and row r's K = kPadded values are `segments` runs of
    // 2 * segmentPairs int16 values, run s at rowStarts[r] + s * segmentStride. A convolution's
    // window is KH such runs in a padded NHWC image, read in place instead of gathered.
    const int16_t* const* rowStarts = nullptr;
    int segments = 1, segmentPairs = 0;
    size_t segmentStride = 0;
    const int32_t* rowSums = nullptr; // sum_k A[m][k], m entries
    int32_t aZeroPoint = 0;
    const int8_t* packedB = nullptr;  // panels per Int8Layout
    const int32_t* colSums = nullptr; // sum_k B[n][k], padded to whole panels
    int32_t bZeroPoint = 0;
    Int8OutputKind output = Int8OutputKind::Int32;
    void* c = nullptr;
    int ldc = 0; // elements between rows of C
    // Float output: c = float(acc) * (aScale * bScales[n]) + bias[n], multiply then add.
    float aScale = 1.0f;
    const float* bScales = nullptr; // 1 entry, or n when perChannelScales
    bool perChannelScales = false;
    const float* bias = nullptr; // n entries or null
    // Requantized output: c = clamp(multiplier[n].apply(acc + biasInt32[n]) + outZeroPoint,
    // clampMin, clampMax), the clamp already inside the output type's range.
    const FixedPointMultiplier* multipliers = nullptr; // 1 entry, or n when perChannelMultipliers
    bool perChannelMultipliers = false;
    const int32_t* biasInt32 = nullptr;
    int32_t outZeroPoint = 0;
    int32_t clampMin = 0, clampMax = 255;
    // The same per column for SIMD lanes, padded with zeros to whole panels: m0, shift and bias
    // (0 when there is none) of every column, per-tensor values repeated.
    const int32_t* laneMultipliers = nullptr;
    const int32_t* laneShifts = nullptr;
    const int32_t* laneBias = nullptr;
};

// Requantization of int32 values to 8 bits: out[i] = clamp(M_i.apply(values[i] + bias_i) +
// zeroPoint, clampMin, clampMax), M_i the FixedPointMultiplier (multiplier m0, shift) and the
// bias added modulo 2^32. With perChannel, element i uses entry i of the arrays; otherwise entry
// 0. bias may be null. clampMin / clampMax lie inside the output type's range.
struct RequantizeSpec {
    const int32_t* bias = nullptr;
    const int32_t* multipliers = nullptr;
    const int32_t* shifts = nullptr;
    bool perChannel = false;
    int32_t zeroPoint = 0;
    int32_t clampMin = 0, clampMax = 255;
};

// A 1 x 1 stride-1 convolution of NCHW u8 codes straight to NCHW u8 codes, without the NHWC
// round trip: in NCHW one image is already the GEMM Y (OC x HW) = W (OC x C) * X (C x HW). Pixels
// are numbered across the batch, q = n * pixels + p; for q in [pixelBegin, pixelEnd) and output
// channels o in [outBegin, outEnd):
//   y[n][o][p] = clamp(FixedPointMultiplier::apply(sum_c w[o][c] x[n][c][p] + rowOffsets[o],
//                      multipliers[o], shifts[o]) + zeroPoint, clampMin, clampMax)
// with the sum and the addition modulo 2^32 (rowOffsets[o] = bias[o] - zx * sum_c w[o][c] folds
// the input zero point in; the weights' zero point is 0). `packedW` is a PackedInt8Weights of
// K = channels in the path's int8Layout; the per-channel arrays cover whole panels of it.
// pixelBegin is a multiple of the path's pointwisePixelTile, outBegin of pointwiseChannelBlock.
struct PointwiseConvProblem {
    int batch = 0, channels = 0, outChannels = 0;
    int64_t pixels = 0; // of one image (H * W)
    const uint8_t* x = nullptr;
    const int8_t* packedW = nullptr;
    int kPadded = 0;
    const int32_t* rowOffsets = nullptr;
    const int32_t* multipliers = nullptr;
    const int32_t* shifts = nullptr;
    int32_t zeroPoint = 0, clampMin = 0, clampMax = 255;
    uint8_t* y = nullptr;
};

// Depthwise convolution of one padded u8 plane with one KH x KW filter: acc[oh * outW + ow] =
// sum_{kh,kw} x[(oh * strideH + kh * dilationH) * width + ow * strideW + kw * dilationW] * w[kh][kw]
// (raw products; the caller folds in the zero points). SIMD versions compute whole vectors: the
// plane must be readable for kDepthwiseSlack bytes past its last row.
//
// Without an output stage (y8 and yFloat null) acc receives the outH x outW sums densely and must
// be writable for 32 values past its end (the extra values are garbage). With one, v = sum + bias
// (modulo 2^32) goes straight to the output, acc being scratch of outH * width + 32 values:
//   y8:     y8[oh * outW + ow] = clamp(FixedPointMultiplier::apply(v, multiplier, shift) +
//           zeroPoint, clampMin, clampMax), [clampMin, clampMax] inside [0, 255];
//   yFloat: yFloat[oh * outW + ow] = float(v) * scale + floatBias (a float multiply, then an add).
inline constexpr int kDepthwiseSlack = 256;
struct DepthwisePlane {
    const uint8_t* x = nullptr;
    int width = 0; // of the padded plane
    const int8_t* w = nullptr;
    int kernelH = 0, kernelW = 0, strideH = 1, strideW = 1, dilationH = 1, dilationW = 1;
    int outH = 0, outW = 0;
    int32_t* acc = nullptr;
    int32_t bias = 0;
    int32_t multiplier = 0, shift = 0, zeroPoint = 0, clampMin = 0, clampMax = 255;
    uint8_t* y8 = nullptr;
    float scale = 1.0f, floatBias = 0.0f;
    float* yFloat = nullptr;
};

// int4 weight-only GEMV / GEMM (m rows of activations): y[m][n] = sum_g scale[n][g] * sum_{k in g} x[k] *
// w[n][k], w in [-8, 7]. Weights are panels of 16 columns; for every 8 values of k a 64-byte block holds, at
// byte 4 * column + i, w[k + i] + 8 in the low nibble and w[k + 4 + i] + 8 in the high one.
struct Int4GemvProblem {
    int m = 1, n = 0, k = 0, groupSize = 0;
    const uint8_t* packedW = nullptr; // panels * (k / 8) * 64 bytes
    const float* scales = nullptr;    // [panel][group][16]
    const float* x = nullptr;         // fp32 activations (float variant), m x k
    const int8_t* xq = nullptr;       // int8 activations (int8 variant), m x k
    const float* xScales = nullptr;   // m x groups (int8 variant)
    const int32_t* xSums = nullptr;   // sum of xq per group, m x groups (int8 variant)
    float* y = nullptr;               // m x n
};

// bf16 GEMM, C = A * B^T in fp32 with bf16 inputs: A is packed as slivers of `rowBlock` rows of
// bf16 pairs [k / 2][row][2], B as panels of kBf16PanelWidth columns [k / 2][column][2].
inline constexpr int kBf16PanelWidth = 32;
struct Bf16GemmProblem {
    int m = 0, n = 0, k = 0, kPadded = 0, rowBlock = 0;
    const uint16_t* packedA = nullptr;
    const uint16_t* packedB = nullptr;
    const float* bias = nullptr;
    float* c = nullptr;
    int ldc = 0;
};

// The element-wise arithmetic of FloatKernels.h's binary().
enum class FloatBinaryOp { Add, Sub, Mul, Div };

// The kernels of one ISA path. A null entry means the path has no specialised version and the
// scalar one is used (KernelRegistry::resolve tells which).
struct KernelTable {
    IsaPath path = IsaPath::Scalar;

    // Element-wise: q = clamp(nearbyint(x * inverseScale) + zp, qmin, qmax), NaN -> zp
    // (IntegerQuantizer's rule); x = float(q - zp) * scale.
    void (*quantizeS8)(const float* x, size_t count, float inverseScale, int32_t zp, int32_t qmin,
                       int32_t qmax, int8_t* q) = nullptr;
    void (*quantizeU8)(const float* x, size_t count, float inverseScale, int32_t zp, int32_t qmin,
                       int32_t qmax, uint8_t* q) = nullptr;
    void (*dequantizeS8)(const int8_t* q, size_t count, float scale, int32_t zp, float* x) = nullptr;
    void (*dequantizeU8)(const uint8_t* q, size_t count, float scale, int32_t zp, float* x) = nullptr;
    // IEEE conversions, round to nearest even (fp16 overflows to infinity as F16C does).
    void (*f32ToF16)(const float* x, size_t count, uint16_t* h) = nullptr;
    void (*f16ToF32)(const uint16_t* h, size_t count, float* x) = nullptr;
    void (*f32ToBf16)(const float* x, size_t count, uint16_t* h) = nullptr;
    void (*bf16ToF32)(const uint16_t* h, size_t count, float* x) = nullptr;

    // int8 GEMM over weight panels [panelBegin, panelEnd).
    Int8Layout int8Layout;
    void (*int8GemmPanels)(const Int8GemmProblem& problem, int panelBegin, int panelEnd) = nullptr;

    // Requantization of int32 values (the depthwise convolution's and any int32 result's output stage).
    void (*requantizeU8)(const int32_t* values, size_t count, const RequantizeSpec& spec,
                         uint8_t* out) = nullptr;
    void (*requantizeS8)(const int32_t* values, size_t count, const RequantizeSpec& spec,
                         int8_t* out) = nullptr;

    // y[i] = table[x[i]] (256 entries) and QLinear element-wise Add / Mul (QLinearElementwise.h);
    // `mul` selects Mul, and b is read at index 0 only when bIsScalar.
    void (*lookupU8)(const uint8_t* table, const uint8_t* x, size_t count, uint8_t* y) = nullptr;
    void (*qlinearBinaryU8)(const uint8_t* a, const uint8_t* b, bool bIsScalar, size_t count,
                            const float* scales, const int32_t* zeroPoints, bool mul, uint8_t* y) = nullptr;

    // The direct NCHW 1 x 1 convolution (see PointwiseConvProblem); null on paths that run it
    // through the NHWC GEMM route instead. Work is split in tiles of pointwisePixelTile pixels and
    // blocks of pointwiseChannelBlock output channels.
    int pointwisePixelTile = 48, pointwiseChannelBlock = 8;
    void (*pointwiseConvU8)(const PointwiseConvProblem& problem, int64_t pixelBegin, int64_t pixelEnd,
                            int outBegin, int outEnd) = nullptr;

    // One depthwise convolution plane (see DepthwisePlane).
    void (*depthwisePlane)(const DepthwisePlane& plane) = nullptr;

    // int4 weight-only GEMV over 16-column panels [panelBegin, panelEnd).
    void (*int4GemvF32)(const Int4GemvProblem& problem, int panelBegin, int panelEnd) = nullptr;
    void (*int4GemvS8)(const Int4GemvProblem& problem, int panelBegin, int panelEnd) = nullptr;

    // bf16 GEMM over kBf16PanelWidth-column panels [panelBegin, panelEnd).
    int bf16RowBlock = 4;
    void (*bf16GemmPanels)(const Bf16GemmProblem& problem, int panelBegin, int panelEnd) = nullptr;

    // The fp32 ops between the GEMMs (FloatKernels.h): element-wise over `count` values, softmax
    // and layer normalization over one row of `length` values; y may be the input.
    void (*erfF32)(const float* x, size_t count, float* y) = nullptr;
    void (*geluF32)(const float* x, size_t count, float* y) = nullptr;
    void (*softmaxF32)(const float* x, size_t length, float* y) = nullptr;
    void (*layerNormF32)(const float* x, size_t length, const float* scale, const float* bias, float epsilon,
                         float* y, float* mean, float* inverseStd) = nullptr;
    void (*binaryF32)(FloatBinaryOp op, const float* a, size_t aStep, const float* b, size_t bStep,
                      size_t count, float* y) = nullptr;

    // The fp32 convolution's own kernels (FloatConvKernels.h): one depthwise plane, and the clamp of
    // a fused Clip / Relu.
    void (*depthwiseF32)(const FloatDepthwisePlane& plane) = nullptr;
    void (*clampF32)(float* y, size_t count, const FloatClamp& clamp) = nullptr;

    // The calibration and tensor-analysis loops; every path has all of them.
    ChunkKernels chunk;
};

} // namespace quantscope::kernels
