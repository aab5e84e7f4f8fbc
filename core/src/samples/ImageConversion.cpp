#include "Image8.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace quantscope {
namespace {

// RGB -> grey as Qt 6.4's QImage::convertToFormat(Format_Grayscale8) computes it, which is what
// image folders gave before they were decoded in core: the sRGB values are linearised through a
// 4081-entry table, mixed into luminance Y with the D50-adapted sRGB weights, and Y is encoded back
// to sRGB through a second table. Table resolution (1/4080 in, 1/65280 out), the float arithmetic
// and the rounding below follow Qt's; the three weights are the ones that reproduce Qt 6.4.2 on all
// 2^24 colours (measured: no pixel differs). Grey pixels map to themselves.
constexpr int kTableSteps = 255 * 16;
constexpr float kTableScale = 255.0f * 256.0f;
constexpr float kWeightRed = 0.22247511f;
constexpr float kWeightGreen = 0.7169068f;
constexpr float kWeightBlue = 0.0606182f;

struct SrgbTables {
    std::array<uint16_t, kTableSteps + 1> toLinear{};
    std::array<uint16_t, kTableSteps + 1> fromLinear{};
};

// The sRGB transfer function in the parametric form y = (a x + b)^g for x >= d, else c x, and its
// inverse in the same form, all parameters in float.
const SrgbTables& srgbTables() {
    static const SrgbTables tables = [] {
        const float a = 1.0f / 1.055f, b = 0.055f / 1.055f, c = 1.0f / 12.92f, d = 0.04045f, g = 2.4f;
        const float inverseA = std::pow(1.0f / a, g), inverseE = -b / a, inverseG = 1.0f / g;
        const float inverseC = 1.0f / c, inverseD = c * d;
        SrgbTables result;
        for (int i = 0; i <= kTableSteps; ++i) {
            const auto x = static_cast<float>(i / double(kTableSteps));
            const float linear = x < d ? c * x : std::pow(a * x + b, g);
            const float encoded = x < inverseD ? inverseC * x : std::pow(inverseA * x, inverseG) + inverseE;
            result.toLinear[static_cast<std::size_t>(i)] =
                static_cast<uint16_t>(std::floor(double(linear) * kTableScale + 0.5));
            result.fromLinear[static_cast<std::size_t>(i)] =
                static_cast<uint16_t>(std::floor(double(encoded) * kTableScale + 0.5));
        }
        return result;
    }();
    return tables;
}

} // namespace

uint8_t qtGreyOf(uint8_t r, uint8_t g, uint8_t b) {
    const SrgbTables& tables = srgbTables();
    const auto linear = [&](uint8_t v) {
        return tables.toLinear[std::size_t{v} << 4] * (1.0f / kTableScale);
    };
    float y = linear(r) * kWeightRed + linear(g) * kWeightGreen;
    y = y + linear(b) * kWeightBlue;
    y = std::clamp(y, 0.0f, 1.0f);
    const auto index = static_cast<std::size_t>(static_cast<int>(y * float(kTableSteps) + 0.5f));
    return static_cast<uint8_t>((tables.fromLinear[index] + 0x80) >> 8);
}

Image8 convertChannels(const Image8& image, int channels) {
    if (image.channels == channels)
        return image;
    Image8 result{image.width, image.height, channels, {}};
    const std::size_t pixels = static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height);
    result.pixels.resize(pixels * static_cast<std::size_t>(channels));
    for (std::size_t i = 0; i < pixels; ++i) {
        if (channels == 3) {
            std::fill_n(result.pixels.begin() + static_cast<std::ptrdiff_t>(3 * i), 3, image.pixels[i]);
        } else {
            const uint8_t* rgb = &image.pixels[3 * i];
            result.pixels[i] = qtGreyOf(rgb[0], rgb[1], rgb[2]);
        }
    }
    return result;
}

} // namespace quantscope
