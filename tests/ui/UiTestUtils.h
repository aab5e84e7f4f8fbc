#pragma once

// Helpers shared by the UI tests: small real weight files written on the fly, and the demo path.

#include <QByteArray>
#include <QFile>
#include <QHash>
#include <QImage>
#include <QString>
#include <QStringList>
#include <QtGlobal>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace quantscope::test {

// Distinct colours of an image and the share of the most common one (a blank or one-colour
// picture has few colours and a share near 1).
inline std::pair<int, double> colourStats(const QImage& image) {
    QHash<QRgb, int> colours;
    for (int y = 0; y < image.height(); ++y)
        for (int x = 0; x < image.width(); ++x)
            ++colours[image.pixel(x, y)];
    int largest = 0;
    for (int count : std::as_const(colours))
        largest = std::max(largest, count);
    return {static_cast<int>(colours.size()),
            static_cast<double>(largest) / (image.width() * image.height())};
}

struct NamedTensor {
    std::string name;
    std::vector<int64_t> shape;
    std::vector<float> values;
};

// Writes a little-endian F32 safetensors file holding `tensors` in order.
inline bool writeSafetensors(const QString& path, const std::vector<NamedTensor>& tensors) {
    std::string header = "{";
    uint64_t offset = 0;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const auto& t = tensors[i];
        std::string shape;
        for (std::size_t d = 0; d < t.shape.size(); ++d)
            shape += (d ? "," : "") + std::to_string(t.shape[d]);
        const uint64_t bytes = t.values.size() * sizeof(float);
        header += (i ? "," : "") + std::string("\"") + t.name + "\":{\"dtype\":\"F32\",\"shape\":[" + shape +
                  "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + bytes) +
                  "]}";
        offset += bytes;
    }
    header += "}";
    while (header.size() % 8 != 0)
        header += ' ';
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return false;
    const uint64_t length = header.size();
    char lengthBytes[8];
    std::memcpy(lengthBytes, &length, 8);
    file.write(lengthBytes, 8);
    file.write(header.data(), static_cast<qint64>(header.size()));
    for (const auto& t : tensors)
        file.write(reinterpret_cast<const char*>(t.values.data()),
                   static_cast<qint64>(t.values.size() * sizeof(float)));
    return file.error() == QFile::NoError;
}

// Normally distributed values with a few large outliers (what real weights look like).
inline std::vector<float> gaussianWithOutliers(std::size_t count, float sigma, uint32_t seed,
                                               int outliers = 4) {
    std::mt19937 generator(seed);
    std::normal_distribution<float> normal(0.0f, sigma);
    std::vector<float> values(count);
    for (float& v : values)
        v = normal(generator);
    for (int i = 0; i < outliers && static_cast<std::size_t>(i) < count; ++i)
        values[(static_cast<std::size_t>(i) * 7919u) % count] = (i % 2 ? -1.0f : 1.0f) * sigma * 12.0f;
    return values;
}

inline QString demoWeights() {
    return QStringLiteral(QUANTSCOPE_SOURCE_DIR "/resources/demo/digits_mlp.safetensors");
}

} // namespace quantscope::test
