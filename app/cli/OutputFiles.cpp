#include "OutputFiles.h"

#include "ProgressBar.h"
#include "quantscope/Error.h"

#include <cstdio>

namespace quantscope::cli {

void OutputFiles::add(const std::string& path, std::string_view text) {
    if (path == "-")
        m_stdout += text;
    else
        m_files.stage(path, text);
}

void OutputFiles::commit() {
    // Ctrl-C while the temporaries were written: stop before anything is put in place.
    if (ProgressBar::interrupted())
        throw Cancelled();
    m_files.commit();
    if (!m_stdout.empty()) {
        std::fwrite(m_stdout.data(), 1, m_stdout.size(), stdout);
        std::fflush(stdout);
        m_stdout.clear();
    }
}

void writeOutput(const std::string& path, std::string_view text) {
    OutputFiles files;
    files.add(path, text);
    files.commit();
}

} // namespace quantscope::cli
