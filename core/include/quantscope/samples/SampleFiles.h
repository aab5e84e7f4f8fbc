#pragma once

#include "quantscope/model/SampleSet.h"

#include <cstdint>
#include <string>
#include <vector>

namespace quantscope {

// Samples from a file SampleSet reads (.npy, .npz, .csv) or from a folder of images
// (ImageFolderSamples). Throws Error naming the file or folder.
SampleSet loadSampleFile(const std::string& path);

// Labels from a file (loadLabels) or from the numbered sub-folders of a folder of images.
std::vector<int64_t> loadLabelFile(const std::string& path);

} // namespace quantscope
