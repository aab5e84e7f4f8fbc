#pragma once

#include <QObject>
#include <QString>
#include <QVariant>

namespace quantscope::ui {

// One job's own signals (as hotspot's job tracker gives each job its own object). The runner
// creates the handle when the job starts and deletes it once the job has ended, so whatever a
// caller connected to it goes with it: a finished, failed, cancelled or superseded job leaves no
// connection behind, however many jobs a slider drag starts.
class JobHandle : public QObject {
    Q_OBJECT
public:
    int id() const { return m_id; }

signals:
    void progress(double fraction);
    void finished(const QVariant& result);
    void failed(const QString& message);
    void cancelled();
    // A newer job on the same channel started before this one ended: its result was thrown away.
    void dropped();
    // Emitted last, whatever the outcome; the handle is deleted right after.
    void ended();

private:
    friend class JobRunner;
    JobHandle(int id, QObject* parent) : QObject(parent), m_id(id) {}

    int m_id;
};

} // namespace quantscope::ui
