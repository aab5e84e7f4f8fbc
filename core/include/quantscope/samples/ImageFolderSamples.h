#pragma once

#include "quantscope/model/SampleSet.h"

#include <cstdint>
#include <string>
#include <vector>

namespace quantscope {

// Calibration or evaluation samples from a folder of PNG / JPEG images (decoded with stb_image).
// The folder holds a sidecar `quantscope-images.json`:
//   {"width": 8, "height": 8, "channels": 1, "scale": 0.0039215686, "mean": [0], "std": [1]}
// Each image (found recursively, in sorted path order) is resized to width x height, converted to
// grey (channels 1) or RGB (3) and becomes a C x H x W sample of (pixel * scale - mean[c]) / std[c].
// Images inside sub-folders named by a whole number take that number as their label.
class ImageFolderSamples {
public:
    static bool isFolder(const std::string& path);
    // Throws Error naming the folder, the sidecar or the image that cannot be used.
    static ImageFolderSamples load(const std::string& folder);

    const SampleSet& samples() const { return m_samples; }
    // The labels from the sub-folder names; throws Error when some image has none.
    std::vector<int64_t> labels() const;

private:
    ImageFolderSamples(SampleSet samples, std::vector<int64_t> labels, std::string folder);

    SampleSet m_samples;
    std::vector<int64_t> m_labels; // -1 where an image's folder is not a number
    std::string m_folder;
};

} // namespace quantscope
