#include "session/ExchangeReport.h"

#include <QFileInfo>
#include <QObject>

#include <map>

namespace quantscope::ui {
namespace {

constexpr int kNamesShown = 5;

QString someNames(const QStringList& names) {
    if (names.size() <= kNamesShown)
        return names.join(QStringLiteral(", "));
    return QObject::tr("%1 and %2 more")
        .arg(names.mid(0, kNamesShown).join(QStringLiteral(", ")))
        .arg(names.size() - kNamesShown);
}

} // namespace

QStringList describeNotes(const std::vector<ConversionNote>& notes) {
    // One line per message, in the order the messages first came, with the entries concerned.
    std::vector<QString> order;
    std::map<QString, QStringList> entries;
    for (const auto& note : notes) {
        const QString message =
            QString::fromStdString(note.message) + (note.dropped ? QObject::tr(" (left out)") : QString());
        if (!entries.count(message))
            order.push_back(message);
        QStringList& names = entries[message];
        if (!note.entry.empty())
            names.append(QString::fromStdString(note.entry));
    }
    QStringList lines;
    for (const QString& message : order) {
        const QStringList& names = entries[message];
        lines.append(names.isEmpty() ? message : someNames(names) + QStringLiteral(": ") + message);
    }
    return lines;
}

QString ExchangeReport::importText() const {
    QString text = QObject::tr("Imported the settings of %n tensor(s) from %1 (%2)", nullptr, applied)
                       .arg(QFileInfo(path).fileName(), format);
    if (applied > 0)
        text += QObject::tr(": %1 with the file's exact scales and zero points, %2 as settings and ranges "
                            "(Edit ▸ Undo takes them back)")
                    .arg(exact)
                    .arg(applied - exact);
    text += QLatin1Char('.');
    if (!unmatched.isEmpty())
        text +=
            QLatin1Char('\n') +
            QObject::tr("%n entry(ies) matched no tensor: ", nullptr, static_cast<int>(unmatched.size())) +
            someNames(unmatched);
    for (const QString& line : skipped)
        text += QLatin1Char('\n') + QObject::tr("Not applied: %1").arg(line);
    const QStringList lines = describeNotes(notes);
    if (!lines.isEmpty())
        text += QLatin1Char('\n') + QObject::tr("The format: %1").arg(lines.join(QStringLiteral("; ")));
    return text;
}

QString ExchangeReport::exportText() const {
    QString text = QObject::tr("Exported the parameters of %1 of %n tensor(s) to %2 (%3)", nullptr, total)
                       .arg(applied)
                       .arg(path, format);
    if (!sidecar.isEmpty())
        text += QObject::tr(", the long arrays to %1").arg(QFileInfo(sidecar).fileName());
    text += QLatin1Char('.');
    const QStringList lines = describeNotes(notes);
    if (!lines.isEmpty())
        text += QLatin1Char('\n') + QObject::tr("Not expressed: %1").arg(lines.join(QStringLiteral("; ")));
    return text;
}

} // namespace quantscope::ui
