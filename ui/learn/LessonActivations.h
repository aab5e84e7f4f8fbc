#pragma once

#include "quantscope/Progress.h"

#include <string>

namespace quantscope::ui {

// The lesson on ReLU outputs needs a tensor of real activations: runs the calibration samples
// through the fp32 model and writes the output of its first Relu node (N × features) as a .npy
// file, whose tensor is named after the file. Returns the file's path; throws Error when the
// model has no Relu or the file cannot be written.
class LessonActivations {
public:
    static std::string writeFirstReluOutput(const std::string& modelPath, const std::string& samplesPath,
                                            const std::string& outputPath,
                                            const ProgressCallback& progress = {});
};

} // namespace quantscope::ui
