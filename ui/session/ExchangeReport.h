#pragma once

#include "quantscope/interop/ParamFileFormat.h"

#include <QString>
#include <QStringList>

#include <vector>

namespace quantscope::ui {

// What an import or export of parameters did, said to the user in its confirmation: how many
// tensors were applied or written, which entries matched no tensor, and what the format could
// not express (never dropped silently).
struct ExchangeReport {
    QString path;
    QString format;                    // the format's name ("trt-cache")
    int total = 0;                     // entries in the file (import) or tensors exported
    int applied = 0;                   // import: tensors given the file's settings; export: entries written
    int exact = 0;                     // import: of those, with the file's scales / zero points as written
    QStringList unmatched;             // import: entries naming no open tensor
    QStringList skipped;               // import: "name: why" for entries that name a tensor but do not fit it
    std::vector<ConversionNote> notes; // what the format holds or cannot express
    QString sidecar;                   // export: the .npz written beside the JSON, or empty

    // The confirmation shown after an import / export.
    QString importText() const;
    QString exportText() const;
};

// The notes grouped by message, each followed by the entries it concerns ("…: a, b and 3 more").
QStringList describeNotes(const std::vector<ConversionNote>& notes);

} // namespace quantscope::ui
