#include "ProgressBar.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <unistd.h>

namespace quantscope::cli {
namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void onInterrupt(int) {
    g_interrupted.store(true);
}

} // namespace

ProgressBar::ProgressBar(std::string label)
    : m_label(std::move(label)), m_enabled(isatty(STDERR_FILENO) == 1),
      m_start(std::chrono::steady_clock::now()), m_lastDraw(m_start) {}

ProgressBar::~ProgressBar() {
    clear();
}

void ProgressBar::installInterruptHandler() {
    std::signal(SIGINT, onInterrupt);
}

bool ProgressBar::interrupted() {
    return g_interrupted.load();
}

ProgressCallback ProgressBar::callback() {
    return [this](Stage, double fraction) { return update(fraction); };
}

bool ProgressBar::update(double fraction) {
    if (g_interrupted.load())
        return false;
    if (!m_enabled)
        return true;
    const auto now = std::chrono::steady_clock::now();
    if (now - m_start < std::chrono::seconds(1) || now - m_lastDraw < std::chrono::milliseconds(100))
        return true;
    m_lastDraw = now;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(fraction * kWidth + 0.5);
    std::string bar(static_cast<std::size_t>(kWidth), ' ');
    for (int i = 0; i < filled && i < kWidth; ++i)
        bar[static_cast<std::size_t>(i)] = '#';
    std::fprintf(stderr, "\r%s [%s] %3d%%", m_label.c_str(), bar.c_str(),
                 static_cast<int>(fraction * 100.0 + 0.5));
    std::fflush(stderr);
    m_drawn = true;
    return true;
}

void ProgressBar::clear() {
    if (m_drawn) {
        std::fprintf(stderr, "\r\033[K");
        std::fflush(stderr);
        m_drawn = false;
    }
}

} // namespace quantscope::cli
