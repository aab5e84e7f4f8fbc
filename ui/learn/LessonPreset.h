#pragma once

#include "quantscope/quant/QuantSpec.h"

#include <QString>

#include <optional>
#include <vector>

namespace quantscope::ui {

// One saved teaching scenario: which tensor of the demo to select, the settings to give it, the
// lesson page to show and what to say about it. Applying one is a single undoable settings change.
struct LessonPreset {
    enum class Source { DemoWeights, DemoReluOutputs };
    // The pages of the Learn view, in order.
    enum Page { Mapping, BitWidth, Calibration, Modes, Datapath, Lessons };

    QString id; // stable name for tests and the command line
    QString title;
    QString explanation; // two or three sentences, said while it is on the screen
    Source source = Source::DemoWeights;
    QString tensor; // in the demo weights, or the activations file's tensor
    QuantSpec spec;
    Page page = Mapping;
    std::optional<double> value; // the value walked through the mapping
    int datapathLayer = 1;
    int datapathOutput = 0;

    static const std::vector<LessonPreset>& all();
    static const LessonPreset* find(const QString& id);
};

} // namespace quantscope::ui
