#pragma once

#include "quantscope/metrics/ErrorMetrics.h"

#include <QColor>
#include <QString>

namespace quantscope::ui {

// How metrics are written and coloured everywhere in the app, so the table, the headline panel
// and copied text agree.
class MetricText {
public:
    // "38.12 dB", or the words "exact" / "zero signal" when SQNR is not a number.
    static QString sqnr(const ErrorMetrics& metrics);
    static QString percent(double fraction);
    static QString number(double value); // compact: 3 significant digits, scientific when tiny
    static QString bytes(double bytes);
    // A measured time or rate in fixed notation with 3 significant digits ("303", "2.57",
    // "0.155"), whole numbers from 100 up, at most 4 decimals.
    static QString measured(double value);
    // A background colour for an SQNR: red below 20 dB, amber below 30 dB, green from 40 dB up.
    static QColor sqnrColour(const ErrorMetrics& metrics);
};

} // namespace quantscope::ui
