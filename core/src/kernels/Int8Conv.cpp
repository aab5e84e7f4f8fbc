#include "quantscope/kernels/Int8Conv.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/AlignedBuffer.h"
#include "quantscope/kernels/Int8Gemm.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/kernels/ThreadPool.h"

#include "RequantizeLanes.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace quantscope::kernels {

namespace {

constexpr const char* kSubject = "int8 convolution";

// A tile's window rows as u8 bytes: small enough that they and the GEMM's packed copy of them stay
// in L2 beside a block of weight panels (Int8Gemm's kernels block the weights by 256 KB).
constexpr size_t kTileBytes = size_t{64} << 10;
constexpr int kMaxTileRows = 192;
constexpr int kInPlaceTileRows = 192;

// Copies `count` codes to dst, widened when T is int16_t (the AVX2 GEMM's activation layout),
// and returns their sum (which the u8 route leaves to the GEMM's own packing).
template <class T> int32_t copyCodes(const uint8_t* src, size_t count, T* dst) {
    if constexpr (std::is_same_v<T, uint8_t>) {
        std::memcpy(dst, src, count);
        return 0;
    } else {
        int32_t sum = 0;
        size_t i = 0;
#if defined(__SSE2__)
        // 16 codes a step (x86-64's baseline, so every path's build has it): zero-extended by
        // unpacking with zeros, summed by psadbw against zeros (two 64-bit partial sums).
        const __m128i zero = _mm_setzero_si128();
        __m128i sums = zero;
        for (; i + 16 <= count; i += 16) {
            const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_unpacklo_epi8(bytes, zero));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i + 8), _mm_unpackhi_epi8(bytes, zero));
            sums = _mm_add_epi64(sums, _mm_sad_epu8(bytes, zero));
        }
        sum = _mm_cvtsi128_si32(sums) + _mm_cvtsi128_si32(_mm_unpackhi_epi64(sums, sums));
#endif
        for (; i < count; ++i) {
            dst[i] = static_cast<T>(src[i]);
            sum += src[i];
        }
        return sum;
    }
}

template <class T> int32_t fillCodes(uint8_t zeroPoint, size_t count, T* dst) {
    std::fill(dst, dst + count, static_cast<T>(zeroPoint));
    return static_cast<int32_t>(count) * zeroPoint;
}

// rows[r][(kh * KW + kw) * C + c] = x[n][ih][iw][c] of output pixel row0 + r (over the whole
// batch), or its image's zero point in the padding: im2rowU8's rows with K in (kh, kw, c) order, from NHWC.
// Rows are `stride` elements apart; elements from K to the stride are zero. With int16 rows, each
// row's sum goes to rowSums.
template <class T>
void gatherWindows(const Conv2dGeometry& g, const uint8_t* nhwc, int64_t row0, int rows,
                   const int32_t* zeroPoints, bool perImageZeroPoints, size_t stride, T* dst,
                   int32_t* rowSums) {
    const int outW = g.outWidth();
    const int64_t pixels = g.rows();
    const size_t c = static_cast<size_t>(g.channels);
    const size_t run = static_cast<size_t>(g.kernelW) * c; // one kernel row of a window
    const size_t k = static_cast<size_t>(g.kernelH) * run;
    const bool pointwise = g.kernelH == 1 && g.kernelW == 1 && g.strideH == 1 && g.strideW == 1 &&
                           g.padTop == 0 && g.padLeft == 0 && g.padBottom == 0 && g.padRight == 0;
    for (int r = 0; r < rows; ++r) {
        T* out = dst + static_cast<size_t>(r) * stride;
        std::fill(out + k, out + stride, T{0});
        int32_t sum = 0;
        const int64_t row = row0 + r;
        if (pointwise) { // the pixel itself
            sum = copyCodes(nhwc + static_cast<size_t>(row) * c, c, out);
        } else {
            const int64_t image = row / pixels;
            const int pixel = static_cast<int>(row % pixels);
            const auto zeroPoint = static_cast<uint8_t>(zeroPoints[perImageZeroPoints ? image : 0]);
            const int ih0 = (pixel / outW) * g.strideH - g.padTop;
            const int iw0 = (pixel % outW) * g.strideW - g.padLeft;
            const bool wholeRun = g.dilationW == 1 && iw0 >= 0 && iw0 + g.kernelW <= g.width;
            for (int kh = 0; kh < g.kernelH; ++kh, out += run) {
                const int ih = ih0 + kh * g.dilationH;
                if (ih < 0 || ih >= g.height) {
                    sum += fillCodes(zeroPoint, run, out);
                    continue;
                }
                const uint8_t* line = nhwc + (static_cast<size_t>(image) * g.height + ih) * g.width * c;
                if (wholeRun) {
                    sum += copyCodes(line + static_cast<size_t>(iw0) * c, run, out);
                    continue;
                }
                for (int kw = 0; kw < g.kernelW; ++kw) {
                    const int iw = iw0 + kw * g.dilationW;
                    sum += iw >= 0 && iw < g.width
                               ? copyCodes(line + static_cast<size_t>(iw) * c, c, out + kw * c)
                               : fillCodes(zeroPoint, c, out + kw * c);
                }
            }
        }
        if (rowSums)
            rowSums[r] = sum;
    }
}

// Image `image` of the NCHW batch as a padded NHWC int16 image: (H + padTop + padBottom) x
// (W + padLeft + padRight) pixels of C values, the border holding the zero point, so that each
// kernel row of any window is one run of KW * C values (implicit GEMM: the AVX2 tile reads the
// windows in place instead of a gathered copy of them).
void toPaddedInt16(const Conv2dGeometry& g, const uint8_t* image, int16_t zeroPoint, int16_t* dst) {
    const size_t c = static_cast<size_t>(g.channels);
    const size_t paddedW = static_cast<size_t>(g.width) + g.padLeft + g.padRight;
    const size_t line = static_cast<size_t>(g.width) * c;
    thread_local AlignedBuffer<uint8_t> nhwc; // this thread's image, in L2
    nhwc.reserveScratch(line * g.height);
    transposeU8(image, g.channels, g.height * g.width, nhwc.data());
    std::fill(dst, dst + static_cast<size_t>(g.padTop) * paddedW * c, zeroPoint);
    int16_t* row = dst + static_cast<size_t>(g.padTop) * paddedW * c;
    for (int h = 0; h < g.height; ++h, row += paddedW * c) {
        std::fill(row, row + static_cast<size_t>(g.padLeft) * c, zeroPoint);
        copyCodes(nhwc.data() + static_cast<size_t>(h) * line, line,
                  row + static_cast<size_t>(g.padLeft) * c);
        std::fill(row + static_cast<size_t>(g.padLeft) * c + line, row + paddedW * c, zeroPoint);
    }
    std::fill(row, row + static_cast<size_t>(g.padBottom) * paddedW * c, zeroPoint);
}

// `weights` (K = kernelH runs of `run` values, run odd) with one more value, the weights' zero
// point, after each run: K' = kernelH * (run + 1), for windows read in runs of whole int16 pairs.
PackedInt8Weights withEvenRuns(const KernelTable& path, const PackedInt8Weights& weights, int kernelH,
                               int run) {
    const Int8Layout& layout = weights.layout();
    const int n = weights.n(), width = layout.panelWidth, group = layout.kGroup;
    const size_t evenK = static_cast<size_t>(kernelH) * (run + 1);
    std::vector<int8_t> expanded(static_cast<size_t>(n) * evenK, static_cast<int8_t>(weights.zeroPoint()));
    for (int col = 0; col < n; ++col) {
        const int8_t* panel = weights.data() + static_cast<size_t>(col / width) * width * weights.kPadded();
        for (int kk = 0; kk < weights.k(); ++kk)
            expanded[static_cast<size_t>(col) * evenK + static_cast<size_t>(kk / run) * (run + 1) +
                     kk % run] =
                panel[(static_cast<size_t>(kk / group) * width + col % width) * group + kk % group];
    }
    return PackedInt8Weights(path, expanded.data(), n, static_cast<int>(evenK), weights.zeroPoint());
}

// The sum of `runs` runs of `count` int16 codes, `stride` apart (a window's row sum).
int32_t sumRuns(const int16_t* first, int runs, size_t count, size_t stride) {
    int32_t sum = 0;
    for (int run = 0; run < runs; ++run) {
        const int16_t* x = first + run * stride;
        size_t i = 0;
#if defined(__SSE2__)
        const __m128i ones = _mm_set1_epi16(1);
        __m128i sums = _mm_setzero_si128();
        for (; i + 8 <= count; i += 8)
            sums = _mm_add_epi32(
                sums, _mm_madd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)), ones));
        alignas(16) int32_t lanes[4];
        _mm_store_si128(reinterpret_cast<__m128i*>(lanes), sums);
        sum += lanes[0] + lanes[1] + lanes[2] + lanes[3];
#endif
        for (; i < count; ++i)
            sum += x[i];
    }
    return sum;
}

} // namespace

std::vector<int8_t> convWeightsToHwc(const int8_t* weights, int outChannels, int channels, int kernelH,
                                     int kernelW) {
    if (!weights || outChannels < 1 || channels < 1 || kernelH < 1 || kernelW < 1)
        throw Error(kSubject, "weights need positive sizes");
    const size_t window = static_cast<size_t>(kernelH) * kernelW;
    const size_t k = window * channels;
    std::vector<int8_t> hwc(static_cast<size_t>(outChannels) * k);
    for (size_t o = 0; o < static_cast<size_t>(outChannels); ++o)
        for (size_t c = 0; c < static_cast<size_t>(channels); ++c)
            for (size_t s = 0; s < window; ++s)
                hwc[o * k + s * channels + c] = weights[o * k + c * window + s];
    return hwc;
}

namespace {

// The output stages of convTiles. Each says what one tile's GEMM writes (Value, pixels x channels
// row-major), sets the direct int16 GEMM's output stage (setUp), runs the GEMM of gathered u8 rows
// on the other layouts (gemm), and moves a tile's result into the NCHW output (store).

// Requantized u8 codes (int8ConvRequantizeU8).
struct RequantizeStage {
    using Value = uint8_t;
    const KernelTable& path;
    const PackedInt8Weights& weights;
    const FixedPointMultiplier* multipliers;
    bool perChannel;
    const int32_t* bias;
    int32_t outZeroPoint, clampMin, clampMax;
    uint8_t* output;
    AlignedBuffer<int32_t> lanes;

    void setUp(Int8GemmProblem& problem) {
        if (!multipliers)
            throw Error(kSubject, "requantization multipliers are missing");
        if (outZeroPoint < 0 || outZeroPoint > 255)
            throw Error(kSubject,
                        "output zero point " + std::to_string(outZeroPoint) + " is outside [0, 255]");
        const OutputClamp clamp = outputClamp(true, clampMin, clampMax, kSubject);
        const size_t padded = static_cast<size_t>(weights.panelCount()) * weights.layout().panelWidth;
        lanes.resize(3 * padded);
        fillRequantizeLanes(multipliers, perChannel, bias, weights.n(), padded, lanes.data(), problem);
        problem.output = Int8OutputKind::Uint8;
        problem.outZeroPoint = outZeroPoint;
        problem.clampMin = clamp.min;
        problem.clampMax = clamp.max;
    }
    void gemm(const QuantizedActivations& a, uint8_t* c, ThreadPool* pool) const {
        int8GemmRequantizeU8(path, a, weights, multipliers, perChannel, bias, outZeroPoint, c, pool, clampMin,
                             clampMax);
    }
    void store(const uint8_t* tile, int64_t image, int64_t pixel, int count, int64_t pixels) const {
        const int n = weights.n();
        transposeU8(tile, count, n, static_cast<size_t>(n),
                    output + static_cast<size_t>(image) * pixels * n + pixel, static_cast<size_t>(pixels));
    }
};

// Float outputs of per-image zero points and scales (int8ConvDequantize). The GEMM runs with
// activation zero point 0, giving sum_k x (w - zw); each image's own zero point comes off in
// store(): sum_k (x - z)(w - zw) = sum_k x (w - zw) - z * sum_k (w - zw), modulo 2^32 as the GEMM
// epilogues compute (the true value fits in int32).
struct DequantizeStage {
    using Value = int32_t;
    const KernelTable& path;
    const PackedInt8Weights& weights;
    const int32_t* zeroPoints;
    const float* inputScales;
    const float* weightScales;
    bool perChannelScales;
    const float* bias;
    float* output;
    std::vector<uint32_t> weightSums; // sum_k (w[o][k] - zw), per output channel

    void setUp(Int8GemmProblem& problem) const { problem.output = Int8OutputKind::Int32; }
    void gemm(const QuantizedActivations& a, int32_t* c, ThreadPool* pool) const {
        int8GemmInt32(path, a, weights, c, pool);
    }
    void store(const int32_t* tile, int64_t image, int64_t pixel, int count, int64_t pixels) const {
        const int n = weights.n();
        const auto z = static_cast<uint32_t>(zeroPoints[image]);
        const float sx = inputScales[image];
        float* planes = output + static_cast<size_t>(image) * pixels * n + pixel;
        for (int o = 0; o < n; ++o) {
            // The dynamic Conv's float epilogue, operation for operation: (sx * scale) first.
            const float scale = sx * weightScales[perChannelScales ? o : 0];
            const float add = bias ? bias[o] : 0.0f;
            const uint32_t correction = z * weightSums[static_cast<size_t>(o)];
            float* out = planes + static_cast<size_t>(o) * pixels;
            const int32_t* column = tile + o;
            for (int i = 0; i < count; ++i) {
                const auto acc = static_cast<int32_t>(
                    static_cast<uint32_t>(column[static_cast<size_t>(i) * n]) - correction);
                out[i] = static_cast<float>(acc) * scale + add;
            }
        }
    }
};

void checkConvInputs(const Conv2dGeometry& g, int batch, const void* input, const void* output,
                     const PackedInt8Weights& weights) {
    checkConv2dGeometry(g);
    if (batch < 1 || !input || !output)
        throw Error(kSubject, "needs at least one image, the input and the output");
    if (weights.k() != g.patch())
        throw Error(kSubject, "a window of " + std::to_string(g.patch()) +
                                  " values does not match the weights' K = " + std::to_string(weights.k()));
    const int64_t imageBytes = int64_t{g.channels} * g.height * g.width;
    const int64_t pixels = int64_t{g.outHeight()} * g.outWidth();
    if (imageBytes > INT32_MAX || pixels * weights.n() > INT32_MAX)
        throw Error(kSubject, "an image or its output has more than 2^31 - 1 values");
}

void checkZeroPoint(int32_t zeroPoint) {
    if (zeroPoint < 0 || zeroPoint > 255)
        throw Error(kSubject, "input zero point " + std::to_string(zeroPoint) + " is outside [0, 255]");
}

// The convolution's tile loop, shared by the output stages. The gather pads image n's windows
// with padZeroPoints[perImageZeroPoints ? n : 0]; the GEMM subtracts gemmZeroPoint.
template <class Stage>
void convTiles(const KernelTable& path, const Conv2dGeometry& g, int batch, const uint8_t* input,
               const int32_t* padZeroPoints, bool perImageZeroPoints, int32_t gemmZeroPoint,
               const PackedInt8Weights& weights, ThreadPool* pool, Stage& stage) {
    using Value = typename Stage::Value;
    const int64_t imageBytes = int64_t{g.channels} * g.height * g.width;
    const int64_t pixels = int64_t{g.outHeight()} * g.outWidth();
    const int64_t totalRows = pixels * batch;
    const int k = g.patch(), n = weights.n();
    const int rowBlock = weights.layout().rowBlock;
    const Int8Layout& layout = weights.layout();
    // Windows read in place (below) need no tile of gathered rows, so their tiles are as long as
    // the output tile allows: fewer tiles, fewer passes over the weights.
    const bool windowsInPlace =
        layout.activationsAsInt16 && layout.kGroup == 2 && path.int8GemmPanels && g.kernelH * g.kernelW > 1 &&
        g.dilationW == 1 &&
        ((g.kernelW * g.channels) % 2 == 0 || k + g.kernelH <= PackedInt8Weights::kMaxK); // see oddRuns
    int tileRows =
        windowsInPlace
            ? kInPlaceTileRows
            : static_cast<int>(std::clamp<size_t>(kTileBytes / static_cast<size_t>(k), 1, kMaxTileRows));
    const int threads = pool ? pool->threadCount() : 1;
    if (threads > 1) // at least four tiles per thread, so the last ones do not leave a core idle
        tileRows =
            static_cast<int>(std::min<int64_t>(tileRows, (totalRows + 4 * threads - 1) / (4 * threads)));
    tileRows = std::max(rowBlock, tileRows / rowBlock * rowBlock); // whole register tiles
    // Few output pixels (a late layer of one image): each tile would read all the weights for a
    // few rows, so one tile instead, whose GEMM splits the weight panels across the threads.
    const bool splitPanels = threads > 1 && totalRows < int64_t{16} * rowBlock * threads;
    if (splitPanels)
        tileRows = static_cast<int>(totalRows);
    const int64_t tiles = (totalRows + tileRows - 1) / tileRows;
    if (tiles > INT32_MAX)
        throw Error(kSubject, "too many output pixels");

    const bool pointwise = g.kernelH == 1 && g.kernelW == 1 && g.strideH == 1 && g.strideW == 1 &&
                           g.padTop == 0 && g.padLeft == 0 && g.padBottom == 0 && g.padRight == 0;
    // The AVX2 GEMM reads int16 rows: the gather writes them (and their sums) itself and the
    // panel kernel runs on them directly, with no second packing pass. Other layouts take the
    // gathered u8 rows through the stage's GEMM, which packs them.
    const bool directInt16 =
        layout.activationsAsInt16 && layout.kGroup == 2 && path.int8GemmPanels && !splitPanels;
    // Better still, when each kernel row of a window is contiguous (no dilation along W): the
    // GEMM reads the windows in place from a padded int16 NHWC copy of the batch, and nothing is
    // gathered at all. Not for 1 x 1 kernels, whose windows hold each input value once: there the
    // gather is a plain widening copy into a tile that stays in cache, cheaper than a batch-sized
    // int16 copy twice the input's size.
    const bool inPlace = directInt16 && windowsInPlace;
    // The tile reads int16 pairs, so a kernel row of an odd KW * C values (the 7 x 7 stem over 3
    // channels) is read one value longer, and the weights get an entry equal to their zero point
    // there: (x - za)(zb - zb) adds nothing, whatever the value read.
    const bool oddRuns = inPlace && (g.kernelW * g.channels) % 2 != 0;
    const int run = g.kernelW * g.channels + (oddRuns ? 1 : 0);
    std::optional<PackedInt8Weights> evenRunWeights;
    if (oddRuns)
        evenRunWeights.emplace(withEvenRuns(path, weights, g.kernelH, g.kernelW * g.channels));
    const PackedInt8Weights& gemmWeights = oddRuns ? *evenRunWeights : weights;
    const size_t paddedW = static_cast<size_t>(g.width) + g.padLeft + g.padRight;
    const size_t paddedImage =
        (static_cast<size_t>(g.height) + g.padTop + g.padBottom) * paddedW * static_cast<size_t>(g.channels);

    // NHWC: each kernel row of a window is one run of KW * C bytes (a 1 x 1 stride-1 convolution's
    // rows are the pixels themselves).
    thread_local AlignedBuffer<uint8_t> nhwcBuffer;
    thread_local AlignedBuffer<int16_t> paddedBuffer;
    if (inPlace)
        paddedBuffer.reserveScratch(paddedImage * batch + 2); // + the value past the last odd run
    else
        nhwcBuffer.reserveScratch(static_cast<size_t>(imageBytes) * batch);
    uint8_t* nhwc = nhwcBuffer.data();
    int16_t* padded = paddedBuffer.data();
    const int planeSize = g.height * g.width;
    auto toNhwc = [&](int begin, int end) {
        for (int image = begin; image < end; ++image) {
            const uint8_t* planes = input + static_cast<size_t>(image) * imageBytes;
            if (inPlace)
                toPaddedInt16(g, planes, static_cast<int16_t>(padZeroPoints[perImageZeroPoints ? image : 0]),
                              padded + static_cast<size_t>(image) * paddedImage);
            else
                transposeU8(planes, g.channels, planeSize, nhwc + static_cast<size_t>(image) * imageBytes);
        }
    };
    if (threads > 1 && batch > 1)
        pool->parallelFor(batch, toNhwc);
    else
        toNhwc(0, batch);
    if (inPlace)
        std::fill(padded + paddedImage * batch, padded + paddedImage * batch + 2, int16_t{0});
    Int8GemmProblem problem;
    if (directInt16) {
        if (weights.path() != path.path)
            throw Error(kSubject, std::string("weights packed for the ") + isaName(weights.path()) +
                                      " path, used with the " + isaName(path.path) + " path");
        stage.setUp(problem);
        problem.n = n;
        problem.k = gemmWeights.k();
        problem.kPadded = gemmWeights.kPadded();
        problem.aZeroPoint = gemmZeroPoint;
        problem.packedB = gemmWeights.data();
        problem.colSums = gemmWeights.columnSums();
        problem.bZeroPoint = gemmWeights.zeroPoint();
        problem.ldc = n;
        if (inPlace) {
            problem.segments = g.kernelH;
            problem.segmentPairs = run / 2;
            problem.segmentStride = static_cast<size_t>(g.dilationH) * paddedW * g.channels;
        }
    }
    const int outW = g.outWidth();
    auto runTiles = [&](int begin, int end) {
        // Each thread's own scratch (thread_local here is the running thread's).
        thread_local AlignedBuffer<uint8_t> windows;
        thread_local AlignedBuffer<Value> pixelsByChannel;
        thread_local AlignedBuffer<int16_t> wideWindows;
        thread_local AlignedBuffer<int32_t> rowSums;
        thread_local std::vector<const int16_t*> rowStarts;
        if (inPlace) {
            rowStarts.resize(static_cast<size_t>(tileRows));
            rowSums.reserveScratch(static_cast<size_t>(tileRows));
        } else if (directInt16) {
            wideWindows.reserveScratch(static_cast<size_t>(tileRows) * problem.kPadded);
            rowSums.reserveScratch(static_cast<size_t>(tileRows));
        } else if (!pointwise) {
            windows.reserveScratch(static_cast<size_t>(tileRows) * k);
        }
        pixelsByChannel.reserveScratch(static_cast<size_t>(tileRows) * n);
        // The int16 routes' problem for one tile, its rows read from where the caller says.
        const auto tileProblem = [&](int rows) {
            Int8GemmProblem part = problem;
            part.m = rows;
            part.rowSums = rowSums.data();
            part.c = pixelsByChannel.data();
            return part;
        };
        for (int tile = begin; tile < end; ++tile) {
            const int64_t row0 = int64_t{tile} * tileRows;
            const int rows = static_cast<int>(std::min<int64_t>(tileRows, totalRows - row0));
            if (inPlace) {
                // Each window's first value in the padded image; its sum only when the weights'
                // zero point multiplies it (with zb = 0 the row term is 0 whatever the sum).
                for (int r = 0; r < rows; ++r) {
                    const int64_t row = row0 + r;
                    const int64_t image = row / pixels;
                    const int pixel = static_cast<int>(row % pixels);
                    const size_t oh = static_cast<size_t>(pixel / outW),
                                 ow = static_cast<size_t>(pixel % outW);
                    rowStarts[static_cast<size_t>(r)] =
                        padded + static_cast<size_t>(image) * paddedImage +
                        (oh * g.strideH * paddedW + ow * g.strideW) * static_cast<size_t>(g.channels);
                    rowSums.data()[r] =
                        problem.bZeroPoint == 0
                            ? 0
                            : sumRuns(rowStarts[static_cast<size_t>(r)], problem.segments,
                                      static_cast<size_t>(2) * problem.segmentPairs, problem.segmentStride);
                }
                Int8GemmProblem part = tileProblem(rows);
                part.rowStarts = rowStarts.data();
                path.int8GemmPanels(part, 0, weights.panelCount());
            } else if (directInt16) {
                gatherWindows(g, nhwc, row0, rows, padZeroPoints, perImageZeroPoints,
                              static_cast<size_t>(problem.kPadded), wideWindows.data(), rowSums.data());
                Int8GemmProblem part = tileProblem(rows);
                part.packedA = wideWindows.data();
                path.int8GemmPanels(part, 0, weights.panelCount());
            } else {
                QuantizedActivations a;
                a.m = rows;
                a.k = k;
                a.zeroPoint = gemmZeroPoint;
                if (pointwise) {
                    a.data = nhwc + static_cast<size_t>(row0) * k;
                } else {
                    gatherWindows(g, nhwc, row0, rows, padZeroPoints, perImageZeroPoints,
                                  static_cast<size_t>(k), windows.data(), nullptr);
                    a.data = windows.data();
                }
                stage.gemm(a, pixelsByChannel.data(), splitPanels ? pool : nullptr);
            }
            // Pixels x channels into the NCHW planes of each image the tile touches.
            for (int done = 0; done < rows;) {
                const int64_t row = row0 + done;
                const int64_t image = row / pixels;
                const int64_t pixel = row % pixels;
                const int count = static_cast<int>(std::min<int64_t>(rows - done, pixels - pixel));
                stage.store(pixelsByChannel.data() + static_cast<size_t>(done) * n, image, pixel, count,
                            pixels);
                done += count;
            }
        }
    };
    if (threads > 1 && tiles > 1) {
        // Tiles are handed out one at a time, so a thread the machine slows down takes fewer of
        // them instead of holding up the others at the end.
        std::atomic<int> next{0};
        pool->parallelFor(threads, [&](int, int) {
            for (int tile = next++; tile < tiles; tile = next++)
                runTiles(tile, tile + 1);
        });
    } else {
        runTiles(0, static_cast<int>(tiles));
    }
}

bool isPointwise(const Conv2dGeometry& g) {
    return g.kernelH == 1 && g.kernelW == 1 && g.strideH == 1 && g.strideW == 1 && g.padTop == 0 &&
           g.padLeft == 0 && g.padBottom == 0 && g.padRight == 0;
}

// int8ConvRequantizeU8 of a 1 x 1 stride-1 convolution on a path with a direct NCHW kernel
// (KernelTable::pointwiseConvU8): no NHWC copy, no transpose back. The same bytes as convTiles
// (the sums do not depend on their order; the epilogue is the same fixed-point arithmetic).
// Threads take items of whole pixel tiles, and when there are few tiles (late layers, small
// batches) also of output channel blocks; each output byte is written by one item.
void pointwiseRequantize(const KernelTable& path, const Conv2dGeometry& g, int batch, const uint8_t* input,
                         int32_t inputZeroPoint, const PackedInt8Weights& weights,
                         const FixedPointMultiplier* multipliers, bool perChannel, const int32_t* bias,
                         int32_t outZeroPoint, uint8_t* output, ThreadPool* pool, int32_t clampMin,
                         int32_t clampMax) {
    if (!multipliers)
        throw Error(kSubject, "requantization multipliers are missing");
    if (outZeroPoint < 0 || outZeroPoint > 255)
        throw Error(kSubject, "output zero point " + std::to_string(outZeroPoint) + " is outside [0, 255]");
    const OutputClamp clamp = outputClamp(true, clampMin, clampMax, kSubject);
    const int n = weights.n();
    // Per output channel: bias - zx * sum_c w[o][c] (modulo 2^32, as the GEMM epilogues fold
    // the same terms), m0 and shift.
    const size_t padded = static_cast<size_t>(weights.panelCount()) * weights.layout().panelWidth;
    thread_local AlignedBuffer<int32_t> lanes;
    lanes.reserveScratch(3 * padded);
    int32_t* rowOffsets = lanes.data();
    int32_t* laneMultipliers = rowOffsets + padded;
    int32_t* laneShifts = laneMultipliers + padded;
    for (int o = 0; o < n; ++o) {
        rowOffsets[o] = static_cast<int32_t>(static_cast<uint32_t>(bias ? bias[o] : 0) -
                                             static_cast<uint32_t>(inputZeroPoint) *
                                                 static_cast<uint32_t>(weights.columnSums()[o]));
        const FixedPointMultiplier& m = multipliers[perChannel ? o : 0];
        laneMultipliers[o] = m.multiplier();
        laneShifts[o] = m.shift();
    }
    PointwiseConvProblem problem;
    problem.batch = batch;
    problem.channels = g.channels;
    problem.outChannels = n;
    problem.pixels = int64_t{g.height} * g.width;
    problem.x = input;
    problem.packedW = weights.data();
    problem.kPadded = weights.kPadded();
    problem.rowOffsets = rowOffsets;
    problem.multipliers = laneMultipliers;
    problem.shifts = laneShifts;
    problem.zeroPoint = outZeroPoint;
    problem.clampMin = clamp.min;
    problem.clampMax = clamp.max;
    problem.y = output;

    const int64_t totalPixels = problem.pixels * batch;
    const int threads = pool ? pool->threadCount() : 1;
    if (threads == 1) {
        path.pointwiseConvU8(problem, 0, totalPixels, 0, n);
        return;
    }
    // Items of whole tiles, about eight per thread so that a thread the machine slows down takes
    // fewer of them; with fewer tiles than four per thread, channel blocks are split as well.
    const int64_t tileSize = path.pointwisePixelTile;
    const int64_t tiles = (totalPixels + tileSize - 1) / tileSize;
    const int blockSize = path.pointwiseChannelBlock;
    const int blocks = (n + blockSize - 1) / blockSize;
    const int64_t tilesPerItem = std::max<int64_t>(1, tiles / (8 * threads));
    const int64_t pixelParts = (tiles + tilesPerItem - 1) / tilesPerItem;
    const int channelParts =
        static_cast<int>(std::clamp<int64_t>((4 * threads + tiles - 1) / tiles, 1, blocks));
    const int64_t items = pixelParts * channelParts;
    std::atomic<int64_t> next{0};
    pool->parallelFor(threads, [&](int, int) {
        for (int64_t item = next++; item < items; item = next++) {
            const int64_t part = item / channelParts;
            const int channelPart = static_cast<int>(item % channelParts);
            const int64_t begin = part * tilesPerItem * tileSize;
            const int64_t end = std::min(totalPixels, begin + tilesPerItem * tileSize);
            const int outBegin = static_cast<int>(int64_t{blocks} * channelPart / channelParts) * blockSize;
            const int outEnd =
                std::min(n, static_cast<int>(int64_t{blocks} * (channelPart + 1) / channelParts) * blockSize);
            path.pointwiseConvU8(problem, begin, end, outBegin, outEnd);
        }
    });
}

} // namespace

void int8ConvRequantizeU8(const KernelTable& path, const Conv2dGeometry& g, int batch, const uint8_t* input,
                          int32_t inputZeroPoint, const PackedInt8Weights& weights,
                          const FixedPointMultiplier* multipliers, bool perChannel, const int32_t* bias,
                          int32_t outZeroPoint, uint8_t* output, ThreadPool* pool, int32_t clampMin,
                          int32_t clampMax) {
    checkConvInputs(g, batch, input, output, weights);
    checkZeroPoint(inputZeroPoint);
    // The direct NCHW kernel reads the GEMM's packed weights, whose zero point it does not
    // subtract (the static pipeline's weights are symmetric); other weights take the NHWC route.
    if (path.pointwiseConvU8 && isPointwise(g) && weights.zeroPoint() == 0 && weights.path() == path.path) {
        pointwiseRequantize(path, g, batch, input, inputZeroPoint, weights, multipliers, perChannel, bias,
                            outZeroPoint, output, pool, clampMin, clampMax);
        return;
    }
    RequantizeStage stage{path,         weights,  multipliers, perChannel, bias,
                          outZeroPoint, clampMin, clampMax,    output,     {}};
    convTiles(path, g, batch, input, &inputZeroPoint, false, inputZeroPoint, weights, pool, stage);
}

void int8ConvDequantize(const KernelTable& path, const Conv2dGeometry& g, int batch, const uint8_t* input,
                        const int32_t* inputZeroPoints, const float* inputScales,
                        const PackedInt8Weights& weights, const float* weightScales, bool perChannelScales,
                        const float* bias, float* output, ThreadPool* pool) {
    checkConvInputs(g, batch, input, output, weights);
    if (!inputZeroPoints || !inputScales || !weightScales)
        throw Error(kSubject, "the input zero points and scales and the weight scales are needed");
    for (int image = 0; image < batch; ++image)
        checkZeroPoint(inputZeroPoints[image]);
    DequantizeStage stage{path,   weights, inputZeroPoints, inputScales, weightScales, perChannelScales, bias,
                          output, {}};
    // sum_k (w - zw) = the packed column sum - K zw (the padding of K adds nothing).
    const int n = weights.n();
    stage.weightSums.resize(static_cast<size_t>(n));
    for (int o = 0; o < n; ++o)
        stage.weightSums[static_cast<size_t>(o)] =
            static_cast<uint32_t>(weights.columnSums()[o]) -
            static_cast<uint32_t>(weights.k()) * static_cast<uint32_t>(weights.zeroPoint());
    convTiles(path, g, batch, input, inputZeroPoints, true, 0, weights, pool, stage);
}

} // namespace quantscope::kernels
