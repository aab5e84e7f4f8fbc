#pragma once

#include <QObject>
#include <QStringList>

class QMenu;

namespace quantscope::ui {

// The most recently opened weight files and models (a model with its samples, labels and
// calibration samples), kept in QSettings and shown as a menu.
class RecentFiles : public QObject {
    Q_OBJECT
public:
    static constexpr int kMaximum = 10;

    // With `stored` false the list starts empty and is never written.
    RecentFiles(QMenu* menu, bool stored, QObject* parent = nullptr);

    QStringList files() const { return m_files; }
    void add(const QString& path);
    // parts: model, samples, labels, calibration samples (the last two may be empty).
    void addModel(const QStringList& parts);
    QList<QStringList> models() const { return m_models; }
    void clear();

signals:
    void openRequested(const QString& path);
    void modelRequested(const QStringList& parts);

private:
    void save() const;
    void rebuildMenu();

    QMenu* m_menu;
    QStringList m_files;
    QList<QStringList> m_models;
    bool m_stored = true;
};

} // namespace quantscope::ui
