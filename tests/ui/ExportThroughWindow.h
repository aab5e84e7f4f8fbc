#pragma once

// Exports the window's parameters through File ▸ Export's code path and reads the file back.

#include "session/ParamsExchange.h"
#include "window/MainWindow.h"

#include "quantscope/export/QParamsDocument.h"

#include <QSignalSpy>
#include <QString>

#include <optional>

namespace quantscope::test {

inline std::optional<QParamsDocument> exportThroughWindow(ui::MainWindow& window, const QString& path) {
    QSignalSpy exported(window.params(), &ui::ParamsExchange::exported);
    window.params()->exportTo(path);
    if (!exported.wait(30000))
        return std::nullopt;
    return QParamsDocument::readFile(path.toStdString());
}

} // namespace quantscope::test
