// GridSample over N x C x H x W (opset 16's bilinear / nearest / bicubic, opset 20's names linear /
// nearest / cubic): each output pixel reads the input at a normalized [-1, 1] grid location, with
// zeros, border or reflection padding, following ONNX Runtime's reference arithmetic.
#include "model/Ops.h"

#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <cmath>

namespace quantscope::ops {
namespace {

enum class Padding { Zeros, Border, Reflection };

// Folds x into [low, high] by reflecting at the bounds as often as needed.
double reflect(double x, double low, double high) {
    const double range = high - low;
    if (range <= 0)
        return low;
    if (x < low) {
        const double distance = low - x;
        const auto flips = static_cast<int64_t>(distance / range);
        const double rest = distance - static_cast<double>(flips) * range;
        return flips % 2 == 0 ? low + rest : high - rest;
    }
    if (x > high) {
        const double distance = x - high;
        const auto flips = static_cast<int64_t>(distance / range);
        const double rest = distance - static_cast<double>(flips) * range;
        return flips % 2 == 0 ? high - rest : low + rest;
    }
    return x;
}

struct Plane {
    const float* data;
    int64_t height, width;
    Padding padding;
    double xMin, yMin, xMax, yMax; // the reflection bounds

    double at(int64_t row, int64_t column) const {
        switch (padding) {
        case Padding::Zeros:
            return row >= 0 && row < height && column >= 0 && column < width ? data[row * width + column]
                                                                             : 0.0;
        case Padding::Border:
            row = std::clamp<int64_t>(row, 0, height - 1);
            column = std::clamp<int64_t>(column, 0, width - 1);
            break;
        case Padding::Reflection:
            row = static_cast<int64_t>(reflect(static_cast<double>(row), yMin, yMax));
            column = static_cast<int64_t>(reflect(static_cast<double>(column), xMin, xMax));
            row = std::clamp<int64_t>(row, 0, height - 1);
            column = std::clamp<int64_t>(column, 0, width - 1);
            break;
        }
        return data[row * width + column];
    }
};

// Cubic convolution weights (A = -0.75) of the four taps around a fraction t.
void cubicWeights(double t, double weights[4]) {
    constexpr double a = -0.75;
    const auto near = [](double x) { return ((a + 2) * x - (a + 3)) * x * x + 1; };
    const auto far = [](double x) { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; };
    weights[0] = far(t + 1);
    weights[1] = near(t);
    weights[2] = near(1 - t);
    weights[3] = far(2 - t);
}

std::vector<Value> gridSample(const Node& n, const Inputs& in, int64_t opset) {
    const Value& x = requireInput(n, in, 0);
    const Value& grid = requireInput(n, in, 1);
    if (x.isInteger() || grid.isInteger() || x.rank() != 4 || grid.rank() != 4 ||
        grid.shape[0] != x.shape[0] || grid.shape[3] != 2)
        throw Error(nodeSubject(n),
                    "needs a float input N x C x H x W and grid N x H_out x W_out x 2, found " +
                        shapeToString(x.shape) + " and " + shapeToString(grid.shape));
    std::string mode = n.stringAttribute("mode", opset >= 20 ? "linear" : "bilinear");
    mode = mode == "linear" ? "bilinear" : mode == "cubic" ? "bicubic" : mode;
    if (mode != "bilinear" && mode != "nearest" && mode != "bicubic")
        throw Error(nodeSubject(n),
                    "mode '" + mode + "' is not supported (bilinear/linear, nearest, bicubic/cubic)");
    const std::string paddingName = n.stringAttribute("padding_mode", "zeros");
    Padding padding = Padding::Zeros;
    if (paddingName == "border")
        padding = Padding::Border;
    else if (paddingName == "reflection")
        padding = Padding::Reflection;
    else if (paddingName != "zeros")
        throw Error(nodeSubject(n), "padding_mode '" + paddingName + "' is not zeros, border or reflection");
    const bool alignCorners = n.intAttribute("align_corners", 0) != 0;
    const int64_t batch = x.shape[0], channels = x.shape[1], height = x.shape[2], width = x.shape[3];
    const int64_t outH = grid.shape[1], outW = grid.shape[2];
    checkedProduct(n, {batch, channels, outH, outW});
    Value y = zeros(x.dtype, {batch, channels, outH, outW});
    const double xMin = alignCorners ? 0.0 : -0.5, yMin = xMin;
    const double xMax = alignCorners ? static_cast<double>(width - 1) : static_cast<double>(width) - 0.5;
    const double yMax = alignCorners ? static_cast<double>(height - 1) : static_cast<double>(height) - 0.5;
    const auto denormalize = [alignCorners](double v, int64_t size) {
        return alignCorners ? (v + 1) / 2 * static_cast<double>(size - 1)
                            : ((v + 1) * static_cast<double>(size) - 1) / 2;
    };
    for (int64_t b = 0; b < batch; ++b) {
        for (int64_t oy = 0; oy < outH; ++oy) {
            for (int64_t ox = 0; ox < outW; ++ox) {
                const float* g = grid.data.data() + ((b * outH + oy) * outW + ox) * 2;
                double sx = denormalize(g[0], width), sy = denormalize(g[1], height);
                if (mode != "bicubic") { // bicubic pads each tap instead
                    if (padding == Padding::Border) {
                        sx = std::clamp(sx, 0.0, static_cast<double>(width - 1));
                        sy = std::clamp(sy, 0.0, static_cast<double>(height - 1));
                    } else if (padding == Padding::Reflection) {
                        sx = reflect(sx, xMin, xMax);
                        sy = reflect(sy, yMin, yMax);
                    }
                }
                for (int64_t c = 0; c < channels; ++c) {
                    const Plane plane{x.data.data() + (b * channels + c) * height * width,
                                      height,
                                      width,
                                      padding,
                                      xMin,
                                      yMin,
                                      xMax,
                                      yMax};
                    double v = 0.0;
                    if (mode == "nearest") {
                        v = plane.at(static_cast<int64_t>(std::nearbyint(sy)),
                                     static_cast<int64_t>(std::nearbyint(sx)));
                    } else if (mode == "bilinear") {
                        const double fx = std::floor(sx), fy = std::floor(sy);
                        const double lx = sx - fx, ly = sy - fy;
                        const auto x0 = static_cast<int64_t>(fx), y0 = static_cast<int64_t>(fy);
                        v = (1 - ly) * ((1 - lx) * plane.at(y0, x0) + lx * plane.at(y0, x0 + 1)) +
                            ly * ((1 - lx) * plane.at(y0 + 1, x0) + lx * plane.at(y0 + 1, x0 + 1));
                    } else {
                        const double fx = std::floor(sx), fy = std::floor(sy);
                        double wx[4], wy[4];
                        cubicWeights(sx - fx, wx);
                        cubicWeights(sy - fy, wy);
                        const auto x0 = static_cast<int64_t>(fx) - 1, y0 = static_cast<int64_t>(fy) - 1;
                        for (int i = 0; i < 4; ++i) {
                            double row = 0.0;
                            for (int j = 0; j < 4; ++j)
                                row += wx[j] * plane.at(y0 + i, x0 + j);
                            v += wy[i] * row;
                        }
                    }
                    y.data[((b * channels + c) * outH + oy) * outW + ox] = static_cast<float>(v);
                }
            }
        }
    }
    return single(std::move(y));
}

} // namespace

void addGridSampleOps(OpTable& t) {
    t.push_back({"GridSample", 16, 21, gridSample});
}

} // namespace quantscope::ops
