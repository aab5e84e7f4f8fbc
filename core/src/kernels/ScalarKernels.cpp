// The plain C++ path: always built, always supported, and the fallback for any kernel a SIMD
// path does not specialise. It reads the same packed layouts as the SIMD paths.
#include "ChunkLoops.h"
#include "Int8Epilogue.h"
#include "PathTables.h"
#include "QLinearElementwiseScalar.h"
#include "ScalarFloatConv.h"
#include "ScalarFloatOps.h"

#include "quantscope/kernels/Reference.h"
#include "quantscope/quant/ValueQuantizer.h"

#include <cstring>
#include <vector>

namespace quantscope::kernels {
namespace {

template <class T>
void quantizeScalar(const float* x, size_t count, float inverseScale, int32_t zp, int32_t qmin, int32_t qmax,
                    T* q) {
    IntegerQuantizer quantizer;
    quantizer.inverseScale = inverseScale;
    quantizer.zeroPoint = zp;
    quantizer.qmin = qmin;
    quantizer.qmax = qmax;
    for (size_t i = 0; i < count; ++i)
        q[i] = static_cast<T>(quantizer.quantize(x[i]));
}

template <class T> void dequantizeScalar(const T* q, size_t count, float scale, int32_t zp, float* x) {
    for (size_t i = 0; i < count; ++i)
        x[i] = static_cast<float>(static_cast<int32_t>(q[i]) - zp) * scale;
}

void f32ToF16(const float* x, size_t count, uint16_t* h) {
    for (size_t i = 0; i < count; ++i)
        h[i] = reference::f32ToF16(x[i]);
}
void f16ToF32(const uint16_t* h, size_t count, float* x) {
    for (size_t i = 0; i < count; ++i)
        x[i] = reference::f16ToF32(h[i]);
}
void f32ToBf16(const float* x, size_t count, uint16_t* h) {
    for (size_t i = 0; i < count; ++i)
        h[i] = reference::f32ToBf16(x[i]);
}
void bf16ToF32(const uint16_t* h, size_t count, float* x) {
    for (size_t i = 0; i < count; ++i)
        x[i] = reference::bf16ToF32(h[i]);
}

constexpr Int8Layout kScalarInt8Layout{16, 4, 4, false};

void int8GemmPanels(const Int8GemmProblem& p, int panelBegin, int panelEnd) {
    const int width = kScalarInt8Layout.panelWidth;
    const int groups = p.kPadded / 4;
    const auto* a = static_cast<const uint8_t*>(p.packedA);
    int32_t raw[16];
    for (int panel = panelBegin; panel < panelEnd; ++panel) {
        const int8_t* b = p.packedB + static_cast<size_t>(panel) * width * p.kPadded;
        const int col0 = panel * width;
        const int cols = std::min(width, p.n - col0);
        for (int row = 0; row < p.m; ++row) {
            const uint8_t* sliver = a + static_cast<size_t>(row / 4) * 4 * p.kPadded;
            const int r = row % 4;
            for (int j = 0; j < cols; ++j) {
                int32_t sum = 0;
                for (int g = 0; g < groups; ++g)
                    for (int i = 0; i < 4; ++i)
                        sum += static_cast<int32_t>(sliver[(g * 4 + r) * 4 + i]) * b[(g * width + j) * 4 + i];
                raw[j] = sum;
            }
            int8epilogue::storeRow(p, row, col0, cols, raw);
        }
    }
}

// Weight value (column j of a panel, index k) from the int4 layout.
inline int int4At(const uint8_t* panel, int j, int k) {
    const uint8_t byte = panel[(k / 8) * 64 + j * 4 + (k % 4)];
    const int nibble = (k % 8) < 4 ? (byte & 0x0F) : (byte >> 4);
    return nibble - 8;
}

void int4GemvF32(const Int4GemvProblem& p, int panelBegin, int panelEnd) {
    const int groups = p.k / p.groupSize;
    for (int panel = panelBegin; panel < panelEnd; ++panel) {
        const uint8_t* w = p.packedW + static_cast<size_t>(panel) * (p.k / 8) * 64;
        const float* scales = p.scales + static_cast<size_t>(panel) * groups * 16;
        for (int row = 0; row < p.m; ++row)
            for (int j = 0; j < 16 && panel * 16 + j < p.n; ++j) {
                const float* x = p.x + static_cast<size_t>(row) * p.k;
                float y = 0.0f;
                for (int g = 0; g < groups; ++g) {
                    float dot = 0.0f;
                    for (int k = g * p.groupSize; k < (g + 1) * p.groupSize; ++k)
                        dot += x[k] * static_cast<float>(int4At(w, j, k));
                    y += dot * scales[g * 16 + j];
                }
                p.y[static_cast<size_t>(row) * p.n + panel * 16 + j] = y;
            }
    }
}

void int4GemvS8(const Int4GemvProblem& p, int panelBegin, int panelEnd) {
    const int groups = p.k / p.groupSize;
    for (int panel = panelBegin; panel < panelEnd; ++panel) {
        const uint8_t* w = p.packedW + static_cast<size_t>(panel) * (p.k / 8) * 64;
        const float* scales = p.scales + static_cast<size_t>(panel) * groups * 16;
        for (int row = 0; row < p.m; ++row)
            for (int j = 0; j < 16 && panel * 16 + j < p.n; ++j) {
                const int8_t* xq = p.xq + static_cast<size_t>(row) * p.k;
                const float* xScales = p.xScales + static_cast<size_t>(row) * groups;
                float y = 0.0f;
                for (int g = 0; g < groups; ++g) {
                    int32_t dot = 0;
                    for (int k = g * p.groupSize; k < (g + 1) * p.groupSize; ++k)
                        dot += static_cast<int32_t>(xq[k]) * int4At(w, j, k);
                    y += static_cast<float>(dot) * (xScales[g] * scales[g * 16 + j]);
                }
                p.y[static_cast<size_t>(row) * p.n + panel * 16 + j] = y;
            }
    }
}

void requantizeU8(const int32_t* values, size_t count, const RequantizeSpec& spec, uint8_t* out) {
    int8epilogue::requantizeValues(values, count, spec, out);
}
void requantizeS8(const int32_t* values, size_t count, const RequantizeSpec& spec, int8_t* out) {
    int8epilogue::requantizeValues(values, count, spec, out);
}

void depthwisePlane(const DepthwisePlane& p) {
    const bool staged = p.y8 || p.yFloat;
    for (int oh = 0; oh < p.outH; ++oh)
        for (int ow = 0; ow < p.outW; ++ow) {
            int32_t sum = 0;
            for (int kh = 0; kh < p.kernelH; ++kh) {
                const uint8_t* row = p.x + static_cast<size_t>(oh * p.strideH + kh * p.dilationH) * p.width;
                for (int kw = 0; kw < p.kernelW; ++kw)
                    sum += static_cast<int32_t>(row[ow * p.strideW + kw * p.dilationW]) *
                           p.w[kh * p.kernelW + kw];
            }
            const size_t at = static_cast<size_t>(oh) * p.outW + ow;
            if (!staged) {
                p.acc[at] = sum;
            } else if (p.y8) {
                p.y8[at] = static_cast<uint8_t>(int8epilogue::requantizeOne(
                    sum, p.bias, p.multiplier, p.shift, p.zeroPoint, p.clampMin, p.clampMax));
            } else {
                const auto value =
                    static_cast<int32_t>(static_cast<uint32_t>(sum) + static_cast<uint32_t>(p.bias));
                p.yFloat[at] = static_cast<float>(value) * p.scale + p.floatBias;
            }
        }
}

void lookupU8(const uint8_t* table, const uint8_t* x, size_t count, uint8_t* y) {
    for (size_t i = 0; i < count; ++i)
        y[i] = table[x[i]];
}

constexpr int kScalarBf16RowBlock = 4;

void bf16GemmPanels(const Bf16GemmProblem& p, int panelBegin, int panelEnd) {
    const int width = kBf16PanelWidth;
    const int pairs = p.kPadded / 2;
    for (int panel = panelBegin; panel < panelEnd; ++panel) {
        const uint16_t* b = p.packedB + static_cast<size_t>(panel) * width * p.kPadded;
        const int col0 = panel * width;
        const int cols = std::min(width, p.n - col0);
        for (int row = 0; row < p.m; ++row) {
            const uint16_t* sliver =
                p.packedA + static_cast<size_t>(row / p.rowBlock) * p.rowBlock * p.kPadded;
            const int r = row % p.rowBlock;
            for (int j = 0; j < cols; ++j) {
                float sum = 0.0f;
                for (int q = 0; q < pairs; ++q)
                    for (int i = 0; i < 2; ++i)
                        sum += reference::bf16ToF32(sliver[(q * p.rowBlock + r) * 2 + i]) *
                               reference::bf16ToF32(b[(q * width + j) * 2 + i]);
                const float bias = p.bias ? p.bias[col0 + j] : 0.0f;
                p.c[static_cast<size_t>(row) * p.ldc + col0 + j] = sum + bias;
            }
        }
    }
}

constexpr KernelTable makeTable() {
    KernelTable t;
    t.chunk = makeChunkKernels();
    t.path = IsaPath::Scalar;
    t.quantizeS8 = quantizeScalar<int8_t>;
    t.quantizeU8 = quantizeScalar<uint8_t>;
    t.dequantizeS8 = dequantizeScalar<int8_t>;
    t.dequantizeU8 = dequantizeScalar<uint8_t>;
    t.f32ToF16 = f32ToF16;
    t.f16ToF32 = f16ToF32;
    t.f32ToBf16 = f32ToBf16;
    t.bf16ToF32 = bf16ToF32;
    t.int8Layout = kScalarInt8Layout;
    t.int8GemmPanels = int8GemmPanels;
    t.requantizeU8 = requantizeU8;
    t.requantizeS8 = requantizeS8;
    t.depthwisePlane = depthwisePlane;
    t.lookupU8 = lookupU8;
    t.qlinearBinaryU8 = qlinear::binaryValues;
    t.int4GemvF32 = int4GemvF32;
    t.int4GemvS8 = int4GemvS8;
    t.bf16RowBlock = kScalarBf16RowBlock;
    t.bf16GemmPanels = bf16GemmPanels;
    t.erfF32 = scalarfloat::erfValues;
    t.geluF32 = scalarfloat::geluValues;
    t.softmaxF32 = scalarfloat::softmaxRow;
    t.layerNormF32 = scalarfloat::layerNormRow;
    t.binaryF32 = scalarfloat::binaryValues;
    t.depthwiseF32 = scalarfloat::depthwisePlane;
    t.clampF32 = scalarfloat::clampValues;
    return t;
}

} // namespace

const KernelTable* scalarKernelTable() {
    // Constant-initialised: building it runs no code of this path, which the processor may lack.
    static constexpr KernelTable table = makeTable();
    return &table;
}

} // namespace quantscope::kernels
