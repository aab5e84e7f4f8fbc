#include "quantscope/samples/ImageFolderSamples.h"

#include "Image8.h"
#include "ImageFolderFormat.h"

#include "quantscope/Cancellation.h"
#include "quantscope/Error.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>

namespace quantscope {
namespace {

namespace fs = std::filesystem;

// An image may be larger than the sidecar size (it is resized), but not absurdly so: this bounds
// the memory one hostile header can make the decoder ask for.
constexpr int64_t kMaxImagePixels = int64_t{1} << 26;

bool isHidden(const fs::path& path) {
    const std::string name = path.filename().string();
    return !name.empty() && name.front() == '.';
}

bool hasImageExtension(const fs::path& path) {
    std::string extension = path.extension().string();
    std::transform(extension.begin(), extension.end(), extension.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return extension == ".png" || extension == ".jpg" || extension == ".jpeg";
}

// The images under `folder` (recursively, hidden files and folders skipped) in sorted path order.
std::vector<std::string> imagesIn(const std::string& folder) {
    std::vector<std::string> images;
    std::error_code error;
    fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied, error), end;
    if (error)
        throw Error(folder, "cannot be listed: " + error.message());
    for (; it != end; it.increment(error)) {
        if (error)
            throw Error(folder, "cannot be listed: " + error.message());
        if (isHidden(it->path())) {
            if (it->is_directory(error))
                it.disable_recursion_pending();
            continue;
        }
        if (it->is_regular_file(error) && hasImageExtension(it->path()))
            images.push_back(it->path().string());
    }
    std::sort(images.begin(), images.end());
    return images;
}

// The class number of an image in a sub-folder named by a whole number, else -1.
int64_t labelOf(const std::string& folder, const std::string& imagePath) {
    std::error_code error;
    const fs::path parent = fs::path(imagePath).parent_path();
    if (fs::equivalent(parent, folder, error))
        return -1;
    const std::string name = parent.filename().string();
    int64_t label = -1;
    const auto [end, status] = std::from_chars(name.data(), name.data() + name.size(), label);
    return status == std::errc() && end == name.data() + name.size() && label >= 0 ? label : -1;
}

} // namespace

ImageFolderSamples::ImageFolderSamples(SampleSet samples, std::vector<int64_t> labels, std::string folder)
    : m_samples(std::move(samples)), m_labels(std::move(labels)), m_folder(std::move(folder)) {}

bool ImageFolderSamples::isFolder(const std::string& path) {
    std::error_code error;
    return fs::is_directory(path, error);
}

ImageFolderSamples ImageFolderSamples::load(const std::string& folder) {
    const ImageFolderFormat format = ImageFolderFormat::read(folder);
    const std::vector<std::string> images = imagesIn(folder);
    if (images.empty())
        throw Error(folder, "holds no .png, .jpg or .jpeg images");

    const auto sampleSize = static_cast<std::size_t>(format.channels) *
                            static_cast<std::size_t>(format.width) * static_cast<std::size_t>(format.height);
    std::vector<float> values;
    values.reserve(sampleSize * images.size());
    std::vector<int64_t> labels;
    for (const std::string& path : images) {
        throwIfCancelled();
        // Resized before the channel conversion, as QImage::scaled then convertToFormat did.
        const Image8 image =
            convertChannels(resizeImage(decodeImageFile(path, kMaxImagePixels), format.width, format.height),
                            format.channels);
        // Channel-major (C x H x W), as ONNX image models expect.
        for (int c = 0; c < format.channels; ++c) {
            const auto channel = static_cast<std::size_t>(c);
            for (int y = 0; y < format.height; ++y)
                for (int x = 0; x < format.width; ++x) {
                    const float pixel = image.at(x, y, c);
                    values.push_back((pixel * format.scale - format.mean[channel]) / format.std[channel]);
                }
        }
        labels.push_back(labelOf(folder, path));
    }
    std::vector<int64_t> shape{format.channels, format.height, format.width};
    return ImageFolderSamples(SampleSet(folder, std::move(shape), std::move(values)), std::move(labels),
                              folder);
}

std::vector<int64_t> ImageFolderSamples::labels() const {
    for (std::size_t i = 0; i < m_labels.size(); ++i)
        if (m_labels[i] < 0)
            throw Error(
                m_folder,
                "image " + std::to_string(i) +
                    " is not in a sub-folder named by its class number (0, 1, 2...), so it has no label");
    return m_labels;
}

} // namespace quantscope
