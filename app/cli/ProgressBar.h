#pragma once

#include "quantscope/Progress.h"

#include <chrono>
#include <string>

namespace quantscope::cli {

// Draws a progress bar on stderr for work longer than a second, only when stderr is a terminal,
// and turns Ctrl-C into a cancellation of the work (the callback then returns false).
class ProgressBar {
public:
    explicit ProgressBar(std::string label);
    ~ProgressBar();
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;

    ProgressCallback callback();
    void setLabel(std::string label) { m_label = std::move(label); }

    // Installs the SIGINT handler; called once by main.
    static void installInterruptHandler();
    static bool interrupted();

private:
    bool update(double fraction);
    void clear();

    std::string m_label;
    bool m_enabled;
    bool m_drawn = false;
    std::chrono::steady_clock::time_point m_start;
    std::chrono::steady_clock::time_point m_lastDraw;
};

} // namespace quantscope::cli
