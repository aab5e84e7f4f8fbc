#pragma once

#include <string>
#include <utility>
#include <vector>

namespace quantscope {

// Builds a NumPy .npz archive (what np.savez writes: a zip of .npy files, stored uncompressed) in
// memory, so callers can write it atomically with other outputs. np.load and NpzReader read it.
class NpzWriter {
public:
    // `arrays` are (key, complete .npy file contents) pairs; each becomes the entry "key.npy".
    // Throws Error naming `subject` when a key is empty or repeated, or the archive would need
    // zip64 (4 GiB or more, or 65535 entries).
    static std::string encode(const std::vector<std::pair<std::string, std::string>>& arrays,
                              const std::string& subject);
};

} // namespace quantscope
