#pragma once

#include <QObject>
#include <QStringList>

class QMenu;

namespace quantscope::ui {

// The most recently opened files, kept in QSettings and shown as a menu.
class RecentFiles : public QObject {
    Q_OBJECT
public:
    static constexpr int kMaximum = 10;

    // With `stored` false the list starts empty and is never written.
    RecentFiles(QMenu* menu, bool stored, QObject* parent = nullptr);

    QStringList files() const { return m_files; }
    void add(const QString& path);
    void clear();

signals:
    void openRequested(const QString& path);

private:
    void save() const;
    void rebuildMenu();

    QMenu* m_menu;
    QStringList m_files;
    bool m_stored = true;
};

} // namespace quantscope::ui
