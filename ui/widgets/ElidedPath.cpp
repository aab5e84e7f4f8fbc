#include "widgets/ElidedPath.h"

namespace quantscope::ui {

QString elidePath(const QString& path, const QFontMetrics& metrics, int width) {
    if (metrics.horizontalAdvance(path) <= width)
        return path;
    // Where the last two components start: after the second-to-last '/' of the trimmed name.
    const qsizetype last = path.lastIndexOf(QLatin1Char('/'), path.size() - 2);
    const qsizetype cut = last > 0 ? path.lastIndexOf(QLatin1Char('/'), last - 1) : -1;
    if (last < 0)
        return metrics.elidedText(path, Qt::ElideMiddle, width);
    const qsizetype start = cut >= 0 ? cut : last;
    const QString tail = path.mid(start);
    const QString head = path.left(start);
    const int room = width - metrics.horizontalAdvance(tail);
    const QString ellipsis(QChar(0x2026));
    if (room >= metrics.horizontalAdvance(ellipsis) * 4) {
        const QString shortHead = metrics.elidedText(head, Qt::ElideMiddle, room);
        if (shortHead != ellipsis)
            return shortHead + tail;
    }
    return metrics.elidedText(path, Qt::ElideLeft, width);
}

} // namespace quantscope::ui
