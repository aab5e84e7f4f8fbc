#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace quantscope {

// An 8-bit image, rows top to bottom, `channels` interleaved values per pixel (1 grey, 3 RGB).
struct Image8 {
    int width = 0;
    int height = 0;
    int channels = 0;
    std::vector<uint8_t> pixels;

    uint8_t at(int x, int y, int c) const {
        return pixels[(static_cast<std::size_t>(y) * static_cast<std::size_t>(width) +
                       static_cast<std::size_t>(x)) *
                          static_cast<std::size_t>(channels) +
                      static_cast<std::size_t>(c)];
    }
};

// Decodes a PNG or JPEG file into grey (grey and grey + alpha files) or RGB (colour files; alpha
// is dropped, as QImage's conversion to RGB888 did). 16-bit PNG values become 8 bits by rounding
// v / 257 (Qt's rule). Throws Error naming the file when it cannot be read or decoded, or when its
// declared size is over `maxPixels`.
Image8 decodeImageFile(const std::string& path, int64_t maxPixels);

// Resamples to width x height (see ImageResize.cpp for the filter).
Image8 resizeImage(const Image8& image, int width, int height);

// Converts to 1 (grey) or 3 (RGB) channels the way QImage::convertToFormat did before the move to
// core: grey -> RGB repeats the value; RGB -> grey as Format_Grayscale8 (see ImageConversion.cpp).
Image8 convertChannels(const Image8& image, int channels);

// Qt 6.4's RGB -> Grayscale8 value of one pixel (exposed for tests).
uint8_t qtGreyOf(uint8_t r, uint8_t g, uint8_t b);

} // namespace quantscope
