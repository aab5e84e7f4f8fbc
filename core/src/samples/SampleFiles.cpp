#include "quantscope/samples/SampleFiles.h"

#include "quantscope/samples/ImageFolderSamples.h"

namespace quantscope {

SampleSet loadSampleFile(const std::string& path) {
    if (ImageFolderSamples::isFolder(path))
        return ImageFolderSamples::load(path).samples();
    return SampleSet::load(path);
}

std::vector<int64_t> loadLabelFile(const std::string& path) {
    if (ImageFolderSamples::isFolder(path))
        return ImageFolderSamples::load(path).labels();
    return loadLabels(path);
}

} // namespace quantscope
