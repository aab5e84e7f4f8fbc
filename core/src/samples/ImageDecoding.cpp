#include "Image8.h"

#include "quantscope/Error.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>

// The one translation unit that holds stb_image's implementation (Debian's libstb-dev header).
// Only the two formats the sidecar folders use; functions static, so nothing clashes with another
// copy of stb linked into the same program.
#define STB_IMAGE_STATIC
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

namespace quantscope {
namespace {

// Sample images are small; a file larger than this is not one (and is not read into memory).
constexpr std::uintmax_t kMaxFileBytes = 256u << 20;
constexpr unsigned char kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

std::vector<unsigned char> readWholeFile(const std::string& path) {
    std::ifstream file(path, std::ios::binary | std::ios::ate);
    if (!file)
        throw Error(path, "cannot be opened for reading");
    const std::streamoff size = file.tellg();
    if (size < 0 || static_cast<std::uintmax_t>(size) > kMaxFileBytes)
        throw Error(path, "is larger than " + std::to_string(kMaxFileBytes >> 20) +
                              " MiB, too large for a sample image");
    std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
    file.seekg(0);
    if (size > 0 && !file.read(reinterpret_cast<char*>(bytes.data()), size))
        throw Error(path, "cannot be read");
    return bytes;
}

// stb_image 2.27 (Debian 12's libstb-dev) trusts the code counts of a JPEG Huffman table (DHT
// segment): counts adding up to more than 256 write past its 257-entry tables (upstream checks
// this since 2.28). Every DHT table is checked here first, walking the markers as stb does: a
// segment's tables are read while its remaining length is positive.
bool jpegHuffmanTablesFit(const std::vector<unsigned char>& bytes) {
    const std::size_t size = bytes.size();
    std::size_t i = 2;
    while (i + 4 <= size) {
        if (bytes[i] != 0xFF) { // entropy-coded data between markers
            ++i;
            continue;
        }
        const unsigned char marker = bytes[i + 1];
        if (marker == 0xFF) { // fill byte
            ++i;
            continue;
        }
        if (marker == 0x00 || marker == 0x01 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7)) {
            i += 2; // stuffed byte or a marker without a length
            continue;
        }
        if (marker == 0xD9) // end of image
            break;
        const std::size_t length = std::size_t{bytes[i + 2]} << 8 | bytes[i + 3];
        if (marker == 0xC4) {
            std::size_t table = i + 4;
            long remaining = static_cast<long>(length) - 2;
            while (remaining > 0 && table < size) {
                std::size_t codes = 0; // stb reads missing bytes at the end of the file as 0
                for (std::size_t k = 1; k <= 16 && table + k < size; ++k)
                    codes += bytes[table + k];
                if (codes > 256)
                    return false;
                table += 17 + codes;
                remaining -= static_cast<long>(17 + codes);
            }
        }
        i += 2 + length;
    }
    return true;
}

std::string failureReason() {
    const char* reason = stbi_failure_reason();
    return reason ? std::string(" (") + reason + ")" : std::string();
}

} // namespace

Image8 decodeImageFile(const std::string& path, int64_t maxPixels) {
    const std::vector<unsigned char> bytes = readWholeFile(path);
    if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        throw Error(path, "is too large to decode");
    const int length = static_cast<int>(bytes.size());

    if (bytes.size() >= 2 && bytes[0] == 0xFF && bytes[1] == 0xD8 && !jpegHuffmanTablesFit(bytes))
        throw Error(path, "cannot be decoded as an image: a JPEG Huffman table declares more than 256 codes");

    // The header is checked before anything is allocated for the pixels.
    int width = 0, height = 0, fileChannels = 0;
    if (!stbi_info_from_memory(bytes.data(), length, &width, &height, &fileChannels)) {
        const bool png = bytes.size() >= 8 && std::equal(kPngSignature, kPngSignature + 8, bytes.begin());
        const bool jpeg = bytes.size() >= 2 && bytes[0] == 0xFF && bytes[1] == 0xD8;
        if (!png && !jpeg)
            throw Error(path, "cannot be decoded as an image: not a PNG or JPEG file");
        throw Error(path, std::string("cannot be decoded as an image: its ") + (png ? "PNG" : "JPEG") +
                              " header is damaged or declares too many pixels" + failureReason());
    }
    if (width < 1 || height < 1 || static_cast<int64_t>(width) * height > maxPixels)
        throw Error(path, "declares " + std::to_string(width) + " x " + std::to_string(height) +
                              " pixels; sample images may have at most " + std::to_string(maxPixels) +
                              " pixels");

    Image8 image;
    image.channels = fileChannels <= 2 ? 1 : 3;
    int decodedWidth = 0, decodedHeight = 0, ignored = 0;
    const std::size_t count = static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                              static_cast<std::size_t>(image.channels);
    if (stbi_is_16_bit_from_memory(bytes.data(), length)) {
        stbi_us* data = stbi_load_16_from_memory(bytes.data(), length, &decodedWidth, &decodedHeight,
                                                 &ignored, image.channels);
        if (!data)
            throw Error(path, "cannot be decoded as an image" + failureReason());
        image.pixels.resize(count);
        for (std::size_t i = 0; i < count; ++i)
            image.pixels[i] = static_cast<uint8_t>((data[i] + 128u) / 257u);
        stbi_image_free(data);
    } else {
        stbi_uc* data = stbi_load_from_memory(bytes.data(), length, &decodedWidth, &decodedHeight, &ignored,
                                              image.channels);
        if (!data)
            throw Error(path, "cannot be decoded as an image" + failureReason());
        image.pixels.assign(data, data + count);
        stbi_image_free(data);
    }
    image.width = decodedWidth;
    image.height = decodedHeight;
    return image;
}

} // namespace quantscope
