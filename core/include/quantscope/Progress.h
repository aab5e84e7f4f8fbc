#pragma once

#include <functional>

namespace quantscope {

// Stages of long work, in the order they are reported.
enum class Stage { Opened, TensorsListed, Statistics, Results };

// Called from the working thread with the current stage and a fraction in [0, 1] of the whole
// job. Returning false asks the work to stop: it then throws quantscope::Cancelled.
using ProgressCallback = std::function<bool(Stage stage, double fraction)>;

// Calls `progress` when set and throws Cancelled when it returns false.
void reportProgress(const ProgressCallback& progress, Stage stage, double fraction);

} // namespace quantscope
