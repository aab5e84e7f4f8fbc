// Signal-processing ops of opset 17: the Hann, Hamming and Blackman windows, DFT (real or complex
// input, forward or inverse, one-sided), STFT and MelWeightMatrix. Complex tensors are ONNX's
// [..., 2] (real, imaginary) layout; transforms sum in double.
#include "model/Ops.h"

#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <cmath>
#include <numbers>

namespace quantscope::ops {
namespace {

constexpr int64_t kMaxSignal = int64_t{1} << 24;

int64_t scalarInteger(const Node& n, const Value& v, const char* what) {
    const auto values = integerValues(n, v, what);
    if (values.size() != 1)
        throw Error(nodeSubject(n), std::string(what) + " must hold one value");
    return values[0];
}

DType outputType(const Node& n) {
    const int64_t code = n.intAttribute("output_datatype", 1);
    const auto dtype = dtypeFromOnnx(code);
    if (!dtype)
        throw Error(nodeSubject(n), "output_datatype " + std::to_string(code) + " is not supported");
    return *dtype;
}

enum class Window { Hann, Hamming, Blackman };

std::vector<Value> window(const Node& n, const Inputs& in, Window kind) {
    const int64_t size = scalarInteger(n, requireInput(n, in, 0), "size");
    if (size < 0 || size > kMaxSignal)
        throw Error(nodeSubject(n), "size " + std::to_string(size) + " is outside [0, 2^24]");
    const bool periodic = n.intAttribute("periodic", 1) != 0;
    const double period = static_cast<double>(periodic ? size : size - 1);
    Value out = zeros(outputType(n), {size});
    for (int64_t k = 0; k < size; ++k) {
        const double phase = period > 0 ? 2.0 * std::numbers::pi * static_cast<double>(k) / period : 0.0;
        double v = 0.0;
        switch (kind) {
        case Window::Hann:
            v = 0.5 - 0.5 * std::cos(phase);
            break;
        case Window::Hamming: // alpha = 25/46 as ONNX defines it
            v = 25.0 / 46.0 - 21.0 / 46.0 * std::cos(phase);
            break;
        case Window::Blackman:
            v = 0.42 - 0.5 * std::cos(phase) + 0.08 * std::cos(2.0 * phase);
            break;
        }
        storeNumber(out, k, v);
    }
    return single(std::move(out));
}

// One discrete Fourier transform of `length` complex points read at `at(i)` (i < available, zero
// past it), written to `bins` outputs through `store(k, re, im)`.
template <typename Read, typename Store>
void transform(int64_t length, int64_t available, int64_t bins, bool inverse, Read at, Store store) {
    const double sign = inverse ? 1.0 : -1.0;
    for (int64_t k = 0; k < bins; ++k) {
        double re = 0.0, im = 0.0;
        for (int64_t i = 0; i < std::min(length, available); ++i) {
            const auto [xr, xi] = at(i);
            // (k * i) mod length keeps the angle exact for long signals.
            const double angle = sign * 2.0 * std::numbers::pi * static_cast<double>((k * i) % length) /
                                 static_cast<double>(length);
            const double c = std::cos(angle), s = std::sin(angle);
            re += xr * c - xi * s;
            im += xr * s + xi * c;
        }
        if (inverse) {
            re /= static_cast<double>(length);
            im /= static_cast<double>(length);
        }
        store(k, re, im);
    }
}

std::vector<Value> dft(const Node& n, const Inputs& in, int64_t opset) {
    const Value& x = requireInput(n, in, 0);
    if (x.isInteger() || x.rank() < 2 || (x.shape.back() != 1 && x.shape.back() != 2))
        throw Error(nodeSubject(n),
                    "input must be a float tensor [..., signal, 1 or 2], found " + shapeToString(x.shape));
    const int64_t rank = x.rank();
    int64_t axis = n.intAttribute("axis", 1);
    if (opset >= 20) {
        axis = -2;
        if (const Value* a = optionalInput(in, 2))
            axis = scalarInteger(n, *a, "axis");
    }
    // The last dimension holds the (real, imaginary) pair, so it is never the transformed axis.
    axis = normalizeAxis(n, axis, rank);
    if (axis == rank - 1)
        throw Error(nodeSubject(n), "axis cannot be the last (complex) dimension");
    const int64_t available = x.shape[axis];
    int64_t length = available;
    if (const Value* given = optionalInput(in, 1))
        length = scalarInteger(n, *given, "dft_length");
    if (length < 1 || length > kMaxSignal)
        throw Error(nodeSubject(n), "dft_length " + std::to_string(length) + " is outside [1, 2^24]");
    const bool inverse = n.intAttribute("inverse", 0) != 0;
    const bool onesided = n.intAttribute("onesided", 0) != 0;
    if (inverse && onesided)
        throw Error(nodeSubject(n), "an inverse one-sided DFT is not defined");
    const int64_t bins = onesided ? length / 2 + 1 : length;
    const bool complexInput = x.shape.back() == 2;
    std::vector<int64_t> shape = x.shape;
    shape[axis] = bins;
    shape.back() = 2;
    Value y = zeros(x.dtype, shape);
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
        outer *= x.shape[d];
    for (int64_t d = axis + 1; d < rank - 1; ++d)
        inner *= x.shape[d];
    const int64_t pair = x.shape.back();
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
            transform(
                length, available, bins, inverse,
                [&](int64_t t) {
                    const int64_t at = ((o * available + t) * inner + i) * pair;
                    return std::pair<double, double>(x.data[at], complexInput ? x.data[at + 1] : 0.0);
                },
                [&](int64_t k, double re, double im) {
                    const int64_t at = ((o * bins + k) * inner + i) * 2;
                    y.data[at] = static_cast<float>(re);
                    y.data[at + 1] = static_cast<float>(im);
                });
        }
    }
    return single(std::move(y));
}

std::vector<Value> stft(const Node& n, const Inputs& in, int64_t) {
    const Value& signal = requireInput(n, in, 0);
    if (signal.isInteger() || signal.rank() != 3 || (signal.shape[2] != 1 && signal.shape[2] != 2))
        throw Error(nodeSubject(n), "signal must be a float tensor [batch, length, 1 or 2], found " +
                                        shapeToString(signal.shape));
    const int64_t step = scalarInteger(n, requireInput(n, in, 1), "frame_step");
    const Value* window = optionalInput(in, 2);
    int64_t frameLength = window != nullptr ? window->size() : 0;
    if (const Value* given = optionalInput(in, 3)) {
        frameLength = scalarInteger(n, *given, "frame_length");
        if (window != nullptr && window->size() != frameLength)
            throw Error(nodeSubject(n), "window has " + std::to_string(window->size()) +
                                            " values, frame_length is " + std::to_string(frameLength));
    }
    const int64_t length = signal.shape[1];
    if (step < 1 || frameLength < 1 || frameLength > length)
        throw Error(nodeSubject(n),
                    "frame_step must be positive and frame_length in [1, " + std::to_string(length) + "]");
    const bool onesided = n.intAttribute("onesided", 1) != 0;
    const int64_t frames = (length - frameLength) / step + 1;
    const int64_t bins = onesided ? frameLength / 2 + 1 : frameLength;
    const int64_t pair = signal.shape[2];
    Value y = zeros(signal.dtype, {signal.shape[0], frames, bins, 2});
    for (int64_t b = 0; b < signal.shape[0]; ++b) {
        for (int64_t f = 0; f < frames; ++f) {
            transform(
                frameLength, frameLength, bins, false,
                [&](int64_t t) {
                    const int64_t at = (b * length + f * step + t) * pair;
                    const double w = window != nullptr ? window->number(t) : 1.0;
                    return std::pair<double, double>(w * signal.data[at],
                                                     pair == 2 ? w * signal.data[at + 1] : 0.0);
                },
                [&](int64_t k, double re, double im) {
                    const int64_t at = ((b * frames + f) * bins + k) * 2;
                    y.data[at] = static_cast<float>(re);
                    y.data[at + 1] = static_cast<float>(im);
                });
        }
    }
    return single(std::move(y));
}

// The triangular mel filter bank as ONNX's reference builds it: bin edges evenly spaced in mel,
// converted back to Hz and then to (integer) spectrogram bins.
std::vector<Value> melWeightMatrix(const Node& n, const Inputs& in, int64_t) {
    const int64_t mels = scalarInteger(n, requireInput(n, in, 0), "num_mel_bins");
    const int64_t dftLength = scalarInteger(n, requireInput(n, in, 1), "dft_length");
    const int64_t sampleRate = scalarInteger(n, requireInput(n, in, 2), "sample_rate");
    const Value& lowerValue = requireInput(n, in, 3);
    const Value& upperValue = requireInput(n, in, 4);
    if (lowerValue.size() != 1 || upperValue.size() != 1)
        throw Error(nodeSubject(n), "lower_edge_hertz and upper_edge_hertz must hold one value");
    if (mels < 1 || mels > kMaxSignal || dftLength < 1 || dftLength > kMaxSignal || sampleRate < 1)
        throw Error(nodeSubject(n), "num_mel_bins and dft_length must be in [1, 2^24], sample_rate positive");
    const double lower = lowerValue.number(0), upper = upperValue.number(0);
    const int64_t spectrogramBins = dftLength / 2 + 1;
    const auto toMel = [](double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); };
    const double lowMel = toMel(lower);
    const double melStep = (toMel(upper) - lowMel) / static_cast<double>(mels + 2);
    std::vector<int64_t> edges(static_cast<std::size_t>(mels + 2));
    for (int64_t i = 0; i < mels + 2; ++i) {
        const double hz =
            700.0 * (std::pow(10.0, (static_cast<double>(i) * melStep + lowMel) / 2595.0) - 1.0);
        edges[i] = static_cast<int64_t>(
            std::floor(static_cast<double>(dftLength + 1) * hz / static_cast<double>(sampleRate)));
        if (edges[i] < 0 || edges[i] >= spectrogramBins)
            throw Error(nodeSubject(n), "the mel band edges fall outside the " +
                                            std::to_string(spectrogramBins) +
                                            " spectrogram bins (check the edge frequencies and sample_rate)");
    }
    Value out = zeros(outputType(n), {spectrogramBins, mels});
    for (int64_t m = 0; m < mels; ++m) {
        const int64_t left = edges[m], centre = edges[m + 1], right = edges[m + 2];
        if (centre == left) {
            storeNumber(out, centre * mels + m, 1.0);
        } else {
            for (int64_t j = left; j <= centre; ++j)
                storeNumber(out, j * mels + m,
                            static_cast<double>(j - left) / static_cast<double>(centre - left));
        }
        for (int64_t j = centre; j < right; ++j)
            storeNumber(out, j * mels + m,
                        static_cast<double>(right - j) / static_cast<double>(right - centre));
    }
    return single(std::move(out));
}

} // namespace

void addSignalOps(OpTable& t) {
    t.push_back({"HannWindow", 17, 21,
                 +[](const Node& n, const Inputs& in, int64_t) { return window(n, in, Window::Hann); }});
    t.push_back({"HammingWindow", 17, 21,
                 +[](const Node& n, const Inputs& in, int64_t) { return window(n, in, Window::Hamming); }});
    t.push_back({"BlackmanWindow", 17, 21,
                 +[](const Node& n, const Inputs& in, int64_t) { return window(n, in, Window::Blackman); }});
    t.push_back({"DFT", 17, 21, dft});
    t.push_back({"STFT", 17, 21, stft});
    t.push_back({"MelWeightMatrix", 17, 21, melWeightMatrix});
}

} // namespace quantscope::ops
