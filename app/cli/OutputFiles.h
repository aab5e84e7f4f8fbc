#pragma once

#include "quantscope/io/AtomicFileSet.h"

#include <string>
#include <string_view>

namespace quantscope::cli {

// The files a command writes (--json, --out-q, --out-dq, --out-logits...), committed together:
// add() writes each one's temporary, commit() puts them all in place, so a command that fails
// leaves none of them behind. "-" names stdout, written at commit().
class OutputFiles {
public:
    void add(const std::string& path, std::string_view text);
    void commit();

private:
    AtomicFileSet m_files;
    std::string m_stdout;
};

// A command's only output: OutputFiles of one.
void writeOutput(const std::string& path, std::string_view text);

} // namespace quantscope::cli
