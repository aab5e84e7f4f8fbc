#pragma once

#include <string>
#include <vector>

namespace quantscope {

// What the sidecar `quantscope-images.json` of an image folder asks for.
struct ImageFolderFormat {
    static constexpr const char* kSidecarName = "quantscope-images.json";
    static constexpr int kMaxSide = 4096;

    int width = 0;
    int height = 0;
    int channels = 1;
    float scale = 1.0f / 255.0f;
    std::vector<float> mean;
    std::vector<float> std;

    // Reads the folder's sidecar. Throws Error naming the folder (no sidecar) or the sidecar (a value
    // missing or out of range, with the allowed range).
    static ImageFolderFormat read(const std::string& folder);
};

} // namespace quantscope
