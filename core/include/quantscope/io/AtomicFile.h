#pragma once

#include <string>
#include <string_view>

namespace quantscope {

// Writes `contents` to a temporary file beside `path`, flushes it and renames it into place, so
// readers see either the old file or the whole new one. Throws Error naming `path`.
void writeFileAtomically(const std::string& path, std::string_view contents);

// Lowercase hex SHA-256 of a file's contents. Throws Error naming the file.
std::string sha256OfFile(const std::string& path);
std::string sha256OfBytes(std::string_view bytes);

} // namespace quantscope
