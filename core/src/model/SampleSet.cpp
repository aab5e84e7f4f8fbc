#include "quantscope/model/SampleSet.h"

#include "model/CsvTable.h"
#include "quantscope/Error.h"
#include "quantscope/io/WeightFile.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace quantscope {
namespace {

std::string lowercaseExtension(const std::string& path)
{
    std::string extension = std::filesystem::path(path).extension().string();
    std::transform(extension.begin(), extension.end(), extension.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return extension;
}

// The array of a .npy file, or the entry of an .npz archive named by one of `names`.
Tensor loadArray(const std::string& path, std::initializer_list<const char*> names)
{
    const auto file = openWeightFile(path);
    const auto& tensors = file->tensors();
    if (tensors.empty())
        throw Error(path, "holds no arrays");
    if (tensors.size() == 1)
        return file->load(tensors[0].name);
    std::string wanted;
    for (const char* name : names) {
        if (file->find(name))
            return file->load(name);
        wanted += (wanted.empty() ? "" : ", ") + std::string(name);
    }
    std::string present;
    for (const auto& info : tensors)
        present += (present.empty() ? "" : ", ") + info.name;
    throw Error(path, "holds several arrays (" + present + ") and none is named " + wanted);
}

} // namespace

SampleSet::SampleSet(std::string path, std::vector<int64_t> sampleShape, std::vector<float> values)
    : m_path(std::move(path))
    , m_sampleShape(std::move(sampleShape))
    , m_values(std::move(values))
{
    uint64_t size = 0;
    if (!checkedElementCount(m_sampleShape, size))
        throw Error(m_path, "sample shape " + shapeToString(m_sampleShape) + " is invalid");
    m_sampleSize = static_cast<int64_t>(size);
    if (m_sampleSize == 0 || m_values.empty())
        throw Error(m_path, "holds zero samples");
    if (m_values.size() % size != 0)
        throw Error(m_path, "holds " + std::to_string(m_values.size()) + " values, not a whole number of samples of shape " +
                                shapeToString(m_sampleShape));
    m_count = static_cast<int64_t>(m_values.size() / size);
}

SampleSet SampleSet::load(const std::string& path, const std::string& excludeColumn)
{
    if (lowercaseExtension(path) == ".csv") {
        const CsvTable table = CsvTable::read(path);
        if (table.rows.empty())
            throw Error(path, "holds zero samples");
        std::optional<std::size_t> skip;
        if (!excludeColumn.empty())
            skip = table.columnIndex(excludeColumn, path);
        std::vector<float> values;
        const std::size_t columns = table.rows[0].size();
        for (const auto& row : table.rows) {
            for (std::size_t c = 0; c < columns; ++c) {
                if (!skip || c != *skip)
                    values.push_back(static_cast<float>(row[c]));
            }
        }
        const int64_t width = static_cast<int64_t>(columns) - (skip ? 1 : 0);
        if (width == 0)
            throw Error(path, "has no sample columns");
        return SampleSet(path, {width}, std::move(values));
    }
    Tensor array = loadArray(path, {"x", "samples", "input", "inputs"});
    if (array.rank() == 0 || array.shape()[0] == 0)
        throw Error(path, "holds zero samples (the leading axis of " + shapeToString(array.shape()) + " indexes them)");
    std::vector<int64_t> sampleShape(array.shape().begin() + 1, array.shape().end());
    std::vector<float> values(array.values().begin(), array.values().end());
    return SampleSet(path, std::move(sampleShape), std::move(values));
}

Value SampleSet::batch(int64_t first, int64_t n, const GraphValueInfo& input) const
{
    if (first < 0 || n < 1 || first + n > m_count)
        throw Error(m_path, "samples " + std::to_string(first) + ".." + std::to_string(first + n - 1) + " out of " +
                                std::to_string(m_count));
    Value value;
    value.shape = {n};
    bool keepShape = !input.hasShape || input.shape.size() == m_sampleShape.size() + 1;
    for (std::size_t d = 0; keepShape && input.hasShape && d < m_sampleShape.size(); ++d)
        keepShape = input.shape[d + 1] < 0 || input.shape[d + 1] == m_sampleShape[d];
    if (keepShape) {
        value.shape.insert(value.shape.end(), m_sampleShape.begin(), m_sampleShape.end());
    } else {
        int64_t fixed = 1;
        bool allFixed = true;
        for (std::size_t d = 1; d < input.shape.size(); ++d) {
            allFixed = allFixed && input.shape[d] >= 0;
            fixed *= std::max<int64_t>(input.shape[d], 1);
        }
        if (input.shape.empty() || !allFixed || fixed != m_sampleSize) {
            std::vector<int64_t> expected(input.shape.begin() + (input.shape.empty() ? 0 : 1), input.shape.end());
            throw Error("input '" + input.name + "'", "samples of " + m_path + " have shape " + shapeToString(m_sampleShape) +
                                                          ", the model expects " + shapeToString(expected) +
                                                          " per sample (-1 = any size)");
        }
        value.shape.insert(value.shape.end(), input.shape.begin() + 1, input.shape.end());
    }
    value.data.assign(m_values.begin() + first * m_sampleSize, m_values.begin() + (first + n) * m_sampleSize);
    return value;
}

std::vector<int64_t> loadLabels(const std::string& path, const std::string& column)
{
    std::vector<double> raw;
    if (lowercaseExtension(path) == ".csv") {
        const CsvTable table = CsvTable::read(path);
        const std::size_t columns = table.rows.empty() ? table.header.size() : table.rows[0].size();
        std::size_t index = 0;
        if (!column.empty()) {
            index = table.columnIndex(column, path);
        } else if (columns != 1) {
            bool found = false;
            for (const char* name : {"label", "labels", "target", "class", "y"}) {
                for (std::size_t i = 0; !found && i < table.header.size(); ++i) {
                    if (table.header[i] == name) {
                        index = i;
                        found = true;
                    }
                }
            }
            if (!found)
                throw Error(path, "has " + std::to_string(columns) + " columns; choose the label column (--label-column)");
        }
        for (const auto& row : table.rows)
            raw.push_back(row[index]);
    } else {
        const Tensor array = loadArray(path, {"y", "labels", "label", "target", "targets"});
        const auto& shape = array.shape();
        if (!(shape.size() == 1 || (shape.size() == 2 && shape[1] == 1)))
            throw Error(path, "labels must be N or N x 1, found " + shapeToString(shape));
        raw.assign(array.values().begin(), array.values().end());
    }
    if (raw.empty())
        throw Error(path, "holds zero labels");
    std::vector<int64_t> labels;
    labels.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (!(raw[i] >= 0.0) || raw[i] != std::floor(raw[i]) || raw[i] > 1e9)
            throw Error(path, "label " + std::to_string(i) + " is " + std::to_string(raw[i]) +
                                  "; labels must be class indices 0, 1, 2...");
        labels.push_back(static_cast<int64_t>(raw[i]));
    }
    return labels;
}

} // namespace quantscope
