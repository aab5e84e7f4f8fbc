#pragma once

#include <string>
#include <string_view>

namespace quantscope::cli {

// Writes `text` to stdout when path is "-", otherwise atomically to the file.
void writeOutput(const std::string& path, std::string_view text);

} // namespace quantscope::cli
