#pragma once

#include <string>
#include <string_view>

namespace quantscope {

// Lowercase hex SHA-256 (FIPS 180-4) of a file's contents or of bytes, computed with OpenSSL's
// libcrypto (EVP), which uses the processor's SHA extensions where present. Throws Error naming
// the file.
std::string sha256OfFile(const std::string& path);
std::string sha256OfBytes(std::string_view bytes);

} // namespace quantscope
