#include "widgets/MetricText.h"

#include <algorithm>
#include <cmath>

namespace quantscope::ui {

QString MetricText::sqnr(const ErrorMetrics& metrics) {
    if (!metrics.sqnrNote.empty())
        return QString::fromStdString(metrics.sqnrNote);
    if (!std::isfinite(metrics.sqnrDb))
        return QStringLiteral("—");
    return QString::number(metrics.sqnrDb, 'f', 2) + QStringLiteral(" dB");
}

QString MetricText::percent(double fraction) {
    const double p = fraction * 100.0;
    if (p == 0.0)
        return QStringLiteral("0 %");
    if (p < 0.01)
        return QString::number(p, 'g', 2) + QStringLiteral(" %");
    return QString::number(p, 'f', 2) + QStringLiteral(" %");
}

QString MetricText::number(double value) {
    if (value == 0.0)
        return QStringLiteral("0");
    const double magnitude = std::abs(value);
    if (magnitude < 1e-3 || magnitude >= 1e5)
        return QString::number(value, 'e', 3);
    return QString::number(value, 'g', 4);
}

QString MetricText::measured(double value) {
    const double magnitude = std::abs(value);
    if (!std::isfinite(value) || magnitude >= 100.0)
        return QString::number(value, 'f', 0);
    if (magnitude == 0.0)
        return QStringLiteral("0");
    const int decimals = std::clamp(2 - static_cast<int>(std::floor(std::log10(magnitude))), 0, 4);
    return QString::number(value, 'f', decimals);
}

QString MetricText::bytes(double bytes) {
    if (bytes < 1024.0)
        return QString::number(bytes, 'f', 0) + QStringLiteral(" B");
    if (bytes < 1024.0 * 1024.0)
        return QString::number(bytes / 1024.0, 'f', 1) + QStringLiteral(" KiB");
    if (bytes < 1024.0 * 1024.0 * 1024.0)
        return QString::number(bytes / (1024.0 * 1024.0), 'f', 1) + QStringLiteral(" MiB");
    return QString::number(bytes / (1024.0 * 1024.0 * 1024.0), 'f', 2) + QStringLiteral(" GiB");
}

QColor MetricText::sqnrColour(const ErrorMetrics& metrics) {
    if (metrics.sqnrNote == "exact")
        return QColor(0x3c, 0xa0, 0x5a);
    if (!std::isfinite(metrics.sqnrDb))
        return QColor();
    const double db = metrics.sqnrDb;
    if (db < 20.0)
        return QColor(0xd6, 0x45, 0x45);
    if (db < 30.0)
        return QColor(0xe0, 0x8e, 0x2b);
    if (db < 40.0)
        return QColor(0xc9, 0xb8, 0x3a);
    return QColor(0x3c, 0xa0, 0x5a);
}

} // namespace quantscope::ui
