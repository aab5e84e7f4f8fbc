#pragma once

#include <QStringList>
#include <QWidget>

class QListWidget;

namespace quantscope::ui {

class RecentFiles;

// What the window shows while nothing is open: the three ways in (the demo, a weights file, a
// model with samples) and the recent files, each one click away.
class WelcomePage : public QWidget {
    Q_OBJECT
public:
    explicit WelcomePage(RecentFiles* recent, QWidget* parent = nullptr);

    QListWidget* recentList() const { return m_recentList; }
    // Lists the recent files again (they change while the app runs).
    void refresh();

signals:
    void demoRequested();
    void openRequested();
    void modelRequested();
    void recentFileRequested(const QString& path);
    void recentModelRequested(const QStringList& parts);

protected:
    void showEvent(QShowEvent* event) override;

private:
    RecentFiles* m_recent;
    QListWidget* m_recentList;
};

} // namespace quantscope::ui
