#include "ImageFolderSamples.h"

#include "quantscope/Error.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>

namespace quantscope {
namespace {

constexpr const char* kSidecarName = "quantscope-images.json";
constexpr int kMaxSide = 4096;

struct ImageFormat {
    int width = 0;
    int height = 0;
    int channels = 1;
    float scale = 1.0f / 255.0f;
    std::vector<float> mean;
    std::vector<float> std;
};

std::vector<float> perChannel(const QJsonObject& object, const char* key, int channels, float fallback,
                              const std::string& sidecar) {
    const QJsonValue value = object.value(QLatin1String(key));
    if (value.isUndefined())
        return std::vector<float>(static_cast<std::size_t>(channels), fallback);
    std::vector<float> result;
    if (value.isDouble()) {
        result.assign(static_cast<std::size_t>(channels), static_cast<float>(value.toDouble()));
    } else if (value.isArray() && value.toArray().size() == channels) {
        for (const QJsonValue item : value.toArray()) {
            if (!item.isDouble())
                throw Error(sidecar, std::string("'") + key + "' must hold numbers");
            result.push_back(static_cast<float>(item.toDouble()));
        }
    } else {
        throw Error(sidecar, std::string("'") + key + "' must be a number or an array of " + std::to_string(channels) +
                                 " numbers");
    }
    return result;
}

ImageFormat readSidecar(const QString& folder) {
    const QString path = QDir(folder).filePath(QLatin1String(kSidecarName));
    const std::string sidecar = path.toStdString();
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        throw Error(folder.toStdString(), std::string("an image folder needs a sidecar ") + kSidecarName +
                                              " giving width, height, channels, scale, mean and std");
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &parseError);
    if (parseError.error != QJsonParseError::NoError || !document.isObject())
        throw Error(sidecar, "not a JSON object: " + parseError.errorString().toStdString());
    const QJsonObject object = document.object();
    ImageFormat format;
    auto side = [&](const char* key) {
        const int value = object.value(QLatin1String(key)).toInt(0);
        if (value < 1 || value > kMaxSide)
            throw Error(sidecar, std::string("'") + key + "' must be a whole number in 1.." + std::to_string(kMaxSide));
        return value;
    };
    format.width = side("width");
    format.height = side("height");
    format.channels = object.value(QLatin1String("channels")).toInt(1);
    if (format.channels != 1 && format.channels != 3)
        throw Error(sidecar, "'channels' must be 1 (grey) or 3 (RGB)");
    format.scale = static_cast<float>(object.value(QLatin1String("scale")).toDouble(1.0 / 255.0));
    format.mean = perChannel(object, "mean", format.channels, 0.0f, sidecar);
    format.std = perChannel(object, "std", format.channels, 1.0f, sidecar);
    for (float s : format.std)
        if (!(s > 0.0f))
            throw Error(sidecar, "'std' must be positive");
    return format;
}

int64_t labelOf(const QString& folder, const QString& imagePath) {
    const QString parent = QFileInfo(imagePath).dir().absolutePath();
    if (parent == QDir(folder).absolutePath())
        return -1;
    bool ok = false;
    const qlonglong label = QFileInfo(parent).fileName().toLongLong(&ok);
    return ok && label >= 0 ? label : -1;
}

} // namespace

ImageFolderSamples::ImageFolderSamples(SampleSet samples, std::vector<int64_t> labels, std::string folder)
    : m_samples(std::move(samples)), m_labels(std::move(labels)), m_folder(std::move(folder)) {}

bool ImageFolderSamples::isFolder(const std::string& path) { return QFileInfo(QString::fromStdString(path)).isDir(); }

ImageFolderSamples ImageFolderSamples::load(const std::string& folderPath) {
    const QString folder = QString::fromStdString(folderPath);
    const ImageFormat format = readSidecar(folder);

    QStringList images;
    QDirIterator it(folder, {QStringLiteral("*.png"), QStringLiteral("*.jpg"), QStringLiteral("*.jpeg")},
                    QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext())
        images.push_back(it.next());
    std::sort(images.begin(), images.end());
    if (images.isEmpty())
        throw Error(folderPath, "holds no .png, .jpg or .jpeg images");

    const auto sampleSize = static_cast<std::size_t>(format.channels) * format.width * format.height;
    std::vector<float> values;
    values.reserve(sampleSize * static_cast<std::size_t>(images.size()));
    std::vector<int64_t> labels;
    for (const QString& path : images) {
        QImage image(path);
        if (image.isNull())
            throw Error(path.toStdString(), "cannot be decoded as an image");
        if (image.width() != format.width || image.height() != format.height)
            image = image.scaled(format.width, format.height, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
        image = image.convertToFormat(format.channels == 1 ? QImage::Format_Grayscale8 : QImage::Format_RGB888);
        // Channel-major (C x H x W), as ONNX image models expect.
        for (int c = 0; c < format.channels; ++c) {
            const auto channel = static_cast<std::size_t>(c);
            for (int y = 0; y < format.height; ++y) {
                const uchar* row = image.constScanLine(y);
                for (int x = 0; x < format.width; ++x) {
                    const float pixel = row[x * format.channels + c];
                    values.push_back((pixel * format.scale - format.mean[channel]) / format.std[channel]);
                }
            }
        }
        labels.push_back(labelOf(folder, path));
    }
    std::vector<int64_t> shape{format.channels, format.height, format.width};
    return ImageFolderSamples(SampleSet(folderPath, std::move(shape), std::move(values)), std::move(labels), folderPath);
}

std::vector<int64_t> ImageFolderSamples::labels() const {
    for (std::size_t i = 0; i < m_labels.size(); ++i)
        if (m_labels[i] < 0)
            throw Error(m_folder, "image " + std::to_string(i) +
                                      " is not in a sub-folder named by its class number (0, 1, 2...), so it has no label");
    return m_labels;
}

} // namespace quantscope
