#pragma once

#include <QString>
#include <QStringList>

namespace quantscope::ui {

// The file dialogs of File ▸ Import / Export parameters: one name filter per format of the core's
// paramFileFormats() (qparams, AIMET encodings, TensorRT cache, ONNX Runtime table or overrides,
// compressed-tensors), so the chosen filter names the format. Kept apart from the dialogs so tests
// can drive the same choices without a modal dialog.
class ParamFileFilters {
public:
    // Export: one filter per format. Import: "All parameter files" first (the format is detected
    // from the content), then one per format, then "All files".
    static QStringList nameFilters(bool forImport);
    // The format a filter stands for ("aimet-1"), or empty for the "All …" filters.
    static QString formatOfFilter(const QString& filter);
    static QString filterOfFormat(const QString& format);
    // "digits_mlp" and "trt-cache" -> "digits_mlp.cache": the suffix the format's files have.
    static QString suggestedName(const QString& baseName, const QString& format);
    // `path` with the format's suffix when the user typed none.
    static QString withSuffix(const QString& path, const QString& format);
};

} // namespace quantscope::ui
