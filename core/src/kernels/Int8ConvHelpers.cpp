#include "quantscope/kernels/Int8ConvHelpers.h"

#include "quantscope/Error.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

namespace quantscope::kernels {

namespace {

constexpr const char* kSubject = "int8 im2col";

} // namespace

void checkConv2dGeometry(const Conv2dGeometry& g) {
    for (int value : {g.channels, g.height, g.width, g.kernelH, g.kernelW, g.strideH, g.strideW, g.dilationH,
                      g.dilationW})
        if (value < 1 || value > (1 << 24))
            throw Error(kSubject, "sizes, strides and dilations must be in [1, 16777216], got " +
                                      std::to_string(value));
    for (int pad : {g.padTop, g.padLeft, g.padBottom, g.padRight})
        if (pad < 0 || pad > (1 << 16))
            throw Error(kSubject, "pads must be in [0, 65536], got " + std::to_string(pad));
    if (g.height + g.padTop + g.padBottom < g.dilationH * (g.kernelH - 1) + 1 ||
        g.width + g.padLeft + g.padRight < g.dilationW * (g.kernelW - 1) + 1)
        throw Error(kSubject, "the kernel (with dilation) is larger than the padded input");
    if (static_cast<long long>(g.rows()) * g.patch() > (1LL << 40))
        throw Error(kSubject, "the im2col matrix would exceed 2^40 bytes");
}

namespace {

#if defined(__SSE2__)
// One 16 x 16 block in four rounds of interleaves (bytes, then 2-, 4- and 8-byte units): each
// round doubles the run of one column's values that lie next to each other.
void transpose16x16(const uint8_t* src, size_t srcStride, uint8_t* dst, size_t dstStride) {
    __m128i r[16], a[16], b[16], c[16];
    for (int i = 0; i < 16; ++i)
        r[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i * srcStride));
    for (int i = 0; i < 8; ++i) { // a[h*8 + p]: rows 2p, 2p+1 of columns h*8 .. h*8+7
        a[i] = _mm_unpacklo_epi8(r[2 * i], r[2 * i + 1]);
        a[i + 8] = _mm_unpackhi_epi8(r[2 * i], r[2 * i + 1]);
    }
    for (int h = 0; h < 2; ++h)
        for (int q = 0; q < 4; ++q) { // b[h*8 + g*4 + q]: rows 4q .. 4q+3 of columns h*8+g*4 ..
            b[h * 8 + q] = _mm_unpacklo_epi16(a[h * 8 + 2 * q], a[h * 8 + 2 * q + 1]);
            b[h * 8 + 4 + q] = _mm_unpackhi_epi16(a[h * 8 + 2 * q], a[h * 8 + 2 * q + 1]);
        }
    for (int hg = 0; hg < 4; ++hg)
        for (int o = 0; o < 2; ++o) { // c[hg*4 + k*2 + o]: rows 8o .. 8o+7 of columns hg*4+k*2 ..
            c[hg * 4 + o] = _mm_unpacklo_epi32(b[hg * 4 + 2 * o], b[hg * 4 + 2 * o + 1]);
            c[hg * 4 + 2 + o] = _mm_unpackhi_epi32(b[hg * 4 + 2 * o], b[hg * 4 + 2 * o + 1]);
        }
    for (int col = 0; col < 16; col += 2) { // all 16 rows of columns col and col + 1
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + col * dstStride),
                         _mm_unpacklo_epi64(c[col], c[col + 1]));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + (col + 1) * dstStride),
                         _mm_unpackhi_epi64(c[col], c[col + 1]));
    }
}
#endif

} // namespace

void transposeU8(const uint8_t* src, int rows, int cols, uint8_t* dst) {
    transposeU8(src, rows, cols, static_cast<size_t>(cols), dst, static_cast<size_t>(rows));
}

void transposeU8(const uint8_t* src, int rows, int cols, size_t srcStride, uint8_t* dst, size_t dstStride) {
    if (rows < 0 || cols < 0 || (!src && rows * cols > 0) || (!dst && rows * cols > 0) ||
        (rows > 0 && cols > 0 &&
         (srcStride < static_cast<size_t>(cols) || dstStride < static_cast<size_t>(rows))))
        throw Error("int8 transpose", "needs non-negative sizes, both buffers and strides of at least a row");
    constexpr int kBlock = 16;
    for (int r0 = 0; r0 < rows; r0 += kBlock)
        for (int c0 = 0; c0 < cols; c0 += kBlock) {
            const int rEnd = std::min(rows, r0 + kBlock), cEnd = std::min(cols, c0 + kBlock);
#if defined(__SSE2__)
            if (rEnd - r0 == kBlock && cEnd - c0 == kBlock) {
                transpose16x16(src + static_cast<size_t>(r0) * srcStride + c0, srcStride,
                               dst + static_cast<size_t>(c0) * dstStride + r0, dstStride);
                continue;
            }
#endif
            for (int c = c0; c < cEnd; ++c) {
                uint8_t* out = dst + static_cast<size_t>(c) * dstStride;
                for (int r = r0; r < rEnd; ++r)
                    out[r] = src[static_cast<size_t>(r) * srcStride + c];
            }
        }
}

void im2rowU8(const Conv2dGeometry& g, const uint8_t* input, uint8_t zeroPoint, uint8_t* rows) {
    checkConv2dGeometry(g);
    if (!input || !rows)
        throw Error(kSubject, "input and output must be given");
    const int outH = g.outHeight(), outW = g.outWidth();
    const size_t k = static_cast<size_t>(g.patch());
    const size_t plane = static_cast<size_t>(g.height) * g.width;
    const bool pointwise = g.kernelH == 1 && g.kernelW == 1 && g.strideH == 1 && g.strideW == 1 &&
                           g.padTop == 0 && g.padLeft == 0 && g.padBottom == 0 && g.padRight == 0;
    if (pointwise) { // rows[pixel][c] = x[c][pixel]
        transposeU8(input, g.channels, static_cast<int>(plane), rows);
        return;
    }
    if (g.padTop > 0 || g.padLeft > 0 || g.padBottom > 0 || g.padRight > 0) {
        // Copy the image into a frame of zero points once, so that every window lies inside and
        // takes the fast copies below (the buffer lives with the thread: no allocation per call).
        Conv2dGeometry framed = g;
        framed.height = g.height + g.padTop + g.padBottom;
        framed.width = g.width + g.padLeft + g.padRight;
        framed.padTop = framed.padLeft = framed.padBottom = framed.padRight = 0;
        thread_local std::vector<uint8_t> frame;
        const size_t framedPlane = static_cast<size_t>(framed.height) * framed.width;
        frame.assign(framedPlane * g.channels, zeroPoint);
        for (int c = 0; c < g.channels; ++c)
            for (int h = 0; h < g.height; ++h)
                std::memcpy(frame.data() + c * framedPlane +
                                static_cast<size_t>(h + g.padTop) * framed.width + g.padLeft,
                            input + c * plane + static_cast<size_t>(h) * g.width,
                            static_cast<size_t>(g.width));
        im2rowU8(framed, frame.data(), zeroPoint, rows);
        return;
    }
    // The output pixels whose receptive field lies inside the image copy KW bytes per (c, kh)
    // without checks; the border ones test each position.
    // (wideCopy - KW <= KW: the extra bytes never run past the next line of the same row.)
    const int wideCopy = g.dilationW != 1 || g.kernelW < 2 || g.kernelW > 8 ? 0 : (g.kernelW <= 4 ? 4 : 8);
    for (int oh = 0; oh < outH; ++oh)
        for (int ow = 0; ow < outW; ++ow) {
            uint8_t* out = rows + (static_cast<size_t>(oh) * outW + ow) * k;
            const int ih0 = oh * g.strideH - g.padTop, iw0 = ow * g.strideW - g.padLeft;
            const bool inside = ih0 >= 0 && iw0 >= 0 && ih0 + g.dilationH * (g.kernelH - 1) < g.height &&
                                iw0 + g.dilationW * (g.kernelW - 1) < g.width;
            if (inside && wideCopy > 0 && iw0 + wideCopy <= g.width) {
                // Every window line but the row's last as one 4- or 8-byte move: the bytes past a
                // line belong to the same row and the next line writes them again.
                const uint8_t* line = input + static_cast<size_t>(ih0) * g.width + iw0;
                const size_t lineStep = static_cast<size_t>(g.dilationH) * g.width;
                const int lines = g.channels * g.kernelH;
                for (int l = 0, kh = 0; l + 1 < lines; ++l) {
                    std::memcpy(out, line, static_cast<size_t>(wideCopy));
                    out += g.kernelW;
                    if (++kh == g.kernelH) {
                        kh = 0;
                        line += plane - (g.kernelH - 1) * lineStep;
                    } else {
                        line += lineStep;
                    }
                }
                std::memcpy(out, line, static_cast<size_t>(g.kernelW));
                continue;
            }
            for (int c = 0; c < g.channels; ++c) {
                const uint8_t* x = input + static_cast<size_t>(c) * plane;
                for (int kh = 0; kh < g.kernelH; ++kh) {
                    const int ih = ih0 + kh * g.dilationH;
                    const uint8_t* line = x + static_cast<size_t>(ih) * g.width;
                    if (inside) {
                        for (int kw = 0; kw < g.kernelW; ++kw)
                            *out++ = line[iw0 + kw * g.dilationW];
                        continue;
                    }
                    for (int kw = 0; kw < g.kernelW; ++kw) {
                        const int iw = iw0 + kw * g.dilationW;
                        *out++ = ih >= 0 && ih < g.height && iw >= 0 && iw < g.width ? line[iw] : zeroPoint;
                    }
                }
            }
        }
}

} // namespace quantscope::kernels
