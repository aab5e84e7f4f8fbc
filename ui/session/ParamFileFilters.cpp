#include "session/ParamFileFilters.h"

#include "quantscope/interop/ParamFileFormat.h"

#include <QFileInfo>
#include <QObject>

#include <array>

namespace quantscope::ui {
namespace {

struct FormatFiles {
    const char* format;
    const char* label;
    const char* patterns; // the first one is the suffix a new file gets
};

// What each toolchain names its files: AIMET's `.encodings`, TensorRT's `calibration.cache`, ONNX
// Runtime's `calibration.json` / `.cache`, compressed-tensors' `config.json`.
constexpr std::array<FormatFiles, 8> kFormats{{
    {"qparams", "Quantscope parameters", "*.qparams.json *.json"},
    {"aimet", "AIMET encodings 0.6.1", "*.encodings *.json"},
    {"aimet-1", "AIMET encodings 1.0.0", "*.encodings *.json"},
    {"aimet-2", "AIMET encodings 2.0.0", "*.encodings *.json"},
    {"trt-cache", "TensorRT calibration cache", "*.cache *.txt"},
    {"ort-table", "ONNX Runtime calibration table", "*.calibration.json *.json *.cache"},
    {"ort-overrides", "ONNX Runtime TensorQuantOverrides", "*.overrides.json *.json"},
    {"compressed-tensors", "compressed-tensors quantization_config", "*.config.json *.json"},
}};

QString filterText(const FormatFiles& files) {
    return QObject::tr("%1 (%2)").arg(QObject::tr(files.label), QLatin1String(files.patterns));
}

const FormatFiles* filesOf(const QString& format) {
    for (const auto& files : kFormats)
        if (format == QLatin1String(files.format))
            return &files;
    return nullptr;
}

} // namespace

QStringList ParamFileFilters::nameFilters(bool forImport) {
    QStringList filters;
    if (forImport)
        filters << QObject::tr("All parameter files (*.json *.encodings *.cache *.txt)");
    // The core's list decides which formats exist; a format without an entry above still shows.
    for (const auto& format : paramFileFormats()) {
        const QString name = QString::fromStdString(std::string(format->name()));
        const FormatFiles* files = filesOf(name);
        filters << (files ? filterText(*files)
                          : QObject::tr("%1 (*)").arg(
                                QString::fromStdString(std::string(format->description()))));
    }
    if (forImport)
        filters << QObject::tr("All files (*)");
    return filters;
}

QString ParamFileFilters::formatOfFilter(const QString& filter) {
    for (const auto& format : paramFileFormats()) {
        const QString name = QString::fromStdString(std::string(format->name()));
        if (filterOfFormat(name) == filter)
            return name;
    }
    return {};
}

QString ParamFileFilters::filterOfFormat(const QString& format) {
    if (const FormatFiles* files = filesOf(format))
        return filterText(*files);
    for (const auto& known : paramFileFormats())
        if (known->name() == format.toStdString())
            return QObject::tr("%1 (*)").arg(QString::fromStdString(std::string(known->description())));
    return {};
}

QString ParamFileFilters::suggestedName(const QString& baseName, const QString& format) {
    const FormatFiles* files = filesOf(format);
    const QString pattern = files ? QString::fromLatin1(files->patterns).section(QLatin1Char(' '), 0, 0)
                                  : QStringLiteral("*.json");
    return baseName + pattern.mid(1);
}

QString ParamFileFilters::withSuffix(const QString& path, const QString& format) {
    if (path.isEmpty() || !QFileInfo(path).suffix().isEmpty())
        return path;
    return suggestedName(path, format);
}

} // namespace quantscope::ui
