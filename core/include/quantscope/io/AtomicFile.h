#pragma once

#include <string>
#include <string_view>

namespace quantscope {

// Writes `contents` to a temporary file beside `path`, flushes it and renames it into place, so
// readers see either the old file or the whole new one (an AtomicFileSet of one file: symlinks
// are written through, devices written to directly). Throws Error naming `path`.
void writeFileAtomically(const std::string& path, std::string_view contents);

} // namespace quantscope
