#include "RecentFiles.h"

#include <QAction>
#include <QDir>
#include <QFileInfo>
#include <QMenu>
#include <QSettings>

namespace quantscope::ui {

RecentFiles::RecentFiles(QMenu* menu, bool stored, QObject* parent) : QObject(parent), m_menu(menu), m_stored(stored) {
    if (stored)
        m_files = QSettings().value(QStringLiteral("recentFiles")).toStringList();
    rebuildMenu();
}

void RecentFiles::add(const QString& path) {
    const QString absolute = QFileInfo(path).absoluteFilePath();
    m_files.removeAll(absolute);
    m_files.prepend(absolute);
    while (m_files.size() > kMaximum)
        m_files.removeLast();
    save();
    rebuildMenu();
}

void RecentFiles::clear() {
    m_files.clear();
    save();
    rebuildMenu();
}

void RecentFiles::save() const {
    if (m_stored)
        QSettings().setValue(QStringLiteral("recentFiles"), m_files);
}

void RecentFiles::rebuildMenu() {
    m_menu->clear();
    for (int i = 0; i < m_files.size(); ++i) {
        const QString path = m_files[i];
        auto* action = m_menu->addAction(QStringLiteral("&%1  %2").arg(i + 1).arg(QDir::toNativeSeparators(path)));
        connect(action, &QAction::triggered, this, [this, path] { emit openRequested(path); });
    }
    if (!m_files.isEmpty())
        m_menu->addSeparator();
    auto* clearAction = m_menu->addAction(tr("Clear list"));
    clearAction->setEnabled(!m_files.isEmpty());
    connect(clearAction, &QAction::triggered, this, &RecentFiles::clear);
}

} // namespace quantscope::ui
