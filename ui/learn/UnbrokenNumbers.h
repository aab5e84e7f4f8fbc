#pragma once

#include <QRegularExpression>
#include <QString>

namespace quantscope::ui {

// Rich text of the lessons wraps to the width it gets, and Qt breaks a word anywhere when a column
// is narrower than it: "0.005607347" would become "0.↵005607347". Each number in `text` (plain
// text, not markup) is kept on one line.
inline QString unbrokenNumbers(const QString& text) {
    static const QRegularExpression number(
        QStringLiteral(R"((?<![\w#&])[-−+]?\d[\d.,]*(?:e[-+]?\d+)?(?: ?%)?)"));
    QString result;
    qsizetype from = 0;
    for (auto it = number.globalMatch(text); it.hasNext();) {
        const QRegularExpressionMatch match = it.next();
        result += text.mid(from, match.capturedStart() - from);
        result += QStringLiteral("<span style='white-space:nowrap'>") + match.captured() +
                  QStringLiteral("</span>");
        from = match.capturedEnd();
    }
    return result + text.mid(from);
}

} // namespace quantscope::ui
