#include "session/RecentFiles.h"

#include <QAction>
#include <QDir>
#include <QFileInfo>
#include <QMenu>
#include <QSettings>

namespace quantscope::ui {

RecentFiles::RecentFiles(QMenu* menu, bool stored, QObject* parent)
    : QObject(parent), m_menu(menu), m_stored(stored) {
    if (stored) {
        QSettings settings;
        m_files = settings.value(QStringLiteral("recentFiles")).toStringList();
        for (const QVariant& model : settings.value(QStringLiteral("recentModels")).toList())
            if (const QStringList parts = model.toStringList(); parts.size() == 4)
                m_models.append(parts);
    }
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

void RecentFiles::addModel(const QStringList& parts) {
    if (parts.size() != 4)
        return;
    QStringList absolute;
    for (const QString& part : parts)
        absolute.append(part.isEmpty() ? QString() : QFileInfo(part).absoluteFilePath());
    m_models.removeAll(absolute);
    m_models.prepend(absolute);
    while (m_models.size() > kMaximum)
        m_models.removeLast();
    save();
    rebuildMenu();
}

void RecentFiles::clear() {
    m_files.clear();
    m_models.clear();
    save();
    rebuildMenu();
}

void RecentFiles::save() const {
    if (!m_stored)
        return;
    QSettings settings;
    settings.setValue(QStringLiteral("recentFiles"), m_files);
    QVariantList models;
    for (const QStringList& parts : m_models)
        models.append(parts);
    settings.setValue(QStringLiteral("recentModels"), models);
}

void RecentFiles::rebuildMenu() {
    m_menu->clear();
    for (int i = 0; i < m_files.size(); ++i) {
        const QString path = m_files[i];
        auto* action =
            m_menu->addAction(QStringLiteral("&%1  %2").arg(i + 1).arg(QDir::toNativeSeparators(path)));
        connect(action, &QAction::triggered, this, [this, path] { emit openRequested(path); });
    }
    if (!m_files.isEmpty())
        m_menu->addSeparator();
    for (int i = 0; i < m_models.size(); ++i) {
        const QStringList parts = m_models[i];
        auto* action = m_menu->addAction(
            tr("Model %1 on %2").arg(QFileInfo(parts[0]).fileName(), QFileInfo(parts[1]).fileName()));
        action->setToolTip(QDir::toNativeSeparators(parts[0]) + QLatin1Char('\n') +
                           QDir::toNativeSeparators(parts[1]));
        connect(action, &QAction::triggered, this, [this, parts] { emit modelRequested(parts); });
    }
    if (!m_models.isEmpty())
        m_menu->addSeparator();
    auto* clearAction = m_menu->addAction(tr("Clear list"));
    clearAction->setEnabled(!m_files.isEmpty() || !m_models.isEmpty());
    connect(clearAction, &QAction::triggered, this, &RecentFiles::clear);
}

} // namespace quantscope::ui
