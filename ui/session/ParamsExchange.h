#pragma once

#include "session/ExchangeReport.h"

#include <QObject>
#include <QString>

#include <functional>

namespace quantscope::ui {

class JobRunner;
class Session;

// File ▸ Export / Import parameters, in every format of the core's paramFileFormats()
// (quantscope-qparams, AIMET, TensorRT cache, ONNX Runtime, compressed-tensors), and File ▸
// Export ▸ Quantized ONNX model (the core's QdqExporter, as `quantscope-cli export-qdq`), so the
// GUI and the CLI read and write the same files. All run on a worker. Export quantizes every
// tensor with its settings. Import applies an entry as settings when they reproduce the file's
// scales and zero points bit for bit (a qparams file of ours, an ONNX Runtime range), else as the
// file's exact parameters; what matched no tensor or the format could not hold is reported.
class ParamsExchange : public QObject {
    Q_OBJECT
public:
    ParamsExchange(Session* session, JobRunner* jobs, QObject* parent = nullptr);

    // `format`: a name of paramFileFormats() (default: quantscope-qparams).
    int exportTo(const QString& path, const QString& format = QStringLiteral("qparams"));
    // The format is detected from the content; `preferredFormat` (the dialog's filter) decides
    // between formats that would both read the file.
    int importFrom(const QString& path, const QString& preferredFormat = {});
    // The model with QuantizeLinear / DequantizeLinear pairs carrying the session's parameters,
    // activations calibrated on `calibrationSamples` as the Compare view calibrates them.
    int exportQdq(const QString& path, const QString& model, const QString& calibrationSamples);

    // What the last finished import or export did (its confirmation text and numbers).
    const ExchangeReport& lastReport() const { return m_lastReport; }

signals:
    // `sidecar`: the .npz written beside the JSON for long arrays, or empty. `summary`: the
    // confirmation to show (ExchangeReport::exportText / importText).
    void exported(const QString& path, int tensors, const QString& sidecar, const QString& summary);
    void imported(const QString& path, int matched, int unknown, const QString& summary);
    void qdqExported(const QString& path, const QString& summary);
    void failed(const QString& message);

private:
    void watch(int id, const std::function<void(const QVariant&)>& onFinished);

    Session* m_session;
    JobRunner* m_jobs;
    ExchangeReport m_lastReport;
};

} // namespace quantscope::ui
