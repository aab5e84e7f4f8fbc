#include "OutputFile.h"

#include "quantscope/io/AtomicFile.h"

#include <cstdio>

namespace quantscope::cli {

void writeOutput(const std::string& path, std::string_view text) {
    if (path == "-") {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
        return;
    }
    writeFileAtomically(path, text);
}

} // namespace quantscope::cli
