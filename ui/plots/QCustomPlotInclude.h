#pragma once

// The one place qcustomplot.h is included. QCustomPlot's header uses `foreach`, which the rest of
// the UI forbids through QT_NO_FOREACH, so the macro is lifted for this include only.
// When a Qt header was already read with QT_NO_FOREACH in force (qforeach.h has an include guard,
// so lifting the macro then is too late), QCustomPlot's read-only loops get a range-for instead.
#ifdef QT_NO_FOREACH
#undef QT_NO_FOREACH
#define QUANTSCOPE_RESTORE_QT_NO_FOREACH
#ifdef QFOREACH_H
#define foreach(variable, container) for (variable : container)
#endif
#endif

#include <qcustomplot.h>

#ifdef QUANTSCOPE_RESTORE_QT_NO_FOREACH
#undef foreach // the project's own code keeps to range-for
#define QT_NO_FOREACH
#undef QUANTSCOPE_RESTORE_QT_NO_FOREACH
#endif
