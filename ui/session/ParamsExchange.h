#pragma once

#include <QObject>
#include <QString>

namespace quantscope::ui {

class JobRunner;
class Session;

// File ▸ Export / Import parameters: the quantscope-qparams v1 document of the core
// (QParamsDocument), so the GUI and the CLI read and write the same files. Both run on a worker:
// export quantizes every tensor with its settings; import recalibrates per-tensor entries to tell
// a calibrated range from a manual one, so the settings come back exactly as they were.
class ParamsExchange : public QObject {
    Q_OBJECT
public:
    ParamsExchange(Session* session, JobRunner* jobs, QObject* parent = nullptr);

    int exportTo(const QString& path);
    int importFrom(const QString& path);

signals:
    // `sidecar`: the .npz written beside the JSON for long arrays, or empty.
    void exported(const QString& path, int tensors, const QString& sidecar);
    void imported(const QString& path, int matched, int unknown);
    void failed(const QString& message);

private:
    void watch(int id, const std::function<void(const QVariant&)>& onFinished);

    Session* m_session;
    JobRunner* m_jobs;
};

} // namespace quantscope::ui
