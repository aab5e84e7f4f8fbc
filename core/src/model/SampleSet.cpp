#include "quantscope/model/SampleSet.h"

#include "model/CsvTable.h"
#include "quantscope/Error.h"
#include "quantscope/io/WeightFile.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

namespace quantscope {
namespace {

std::string lowercaseExtension(const std::string& path) {
    std::string extension = std::filesystem::path(path).extension().string();
    std::transform(extension.begin(), extension.end(), extension.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return extension;
}

// The name of the array of a .npy file, or of the entry of an .npz archive named by one of `names`.
std::string arrayName(const WeightFile& file, std::initializer_list<const char*> names) {
    const auto& tensors = file.tensors();
    if (tensors.empty())
        throw Error(file.path(), "holds no arrays");
    if (tensors.size() == 1)
        return tensors[0].name;
    std::string wanted;
    for (const char* name : names) {
        if (file.find(name))
            return name;
        wanted += (wanted.empty() ? "" : ", ") + std::string(name);
    }
    std::string present;
    for (const auto& info : tensors)
        present += (present.empty() ? "" : ", ") + info.name;
    throw Error(file.path(), "holds several arrays (" + present + ") and none is named " + wanted);
}

// Integers beyond 2^24 would not survive the float32 copy every array is read into.
constexpr double kLargestExactInteger = 16777216.0;

SampleSet::Array readArray(const WeightFile& file, const std::string& name, const std::string& arrayName) {
    const TensorInfo* info = file.find(name);
    const Tensor tensor = file.load(name);
    const std::string subject = file.path() + ": " + name;
    if (tensor.rank() == 0 || tensor.shape()[0] == 0)
        throw Error(subject, "holds zero samples (the leading axis of " + shapeToString(tensor.shape()) +
                                 " indexes them)");
    SampleSet::Array array;
    array.name = arrayName;
    array.sampleShape.assign(tensor.shape().begin() + 1, tensor.shape().end());
    array.values.assign(tensor.values().begin(), tensor.values().end());
    array.integer = info != nullptr && !dtypeIsFloat(info->dtype);
    if (array.integer) {
        for (float v : array.values) {
            if (std::fabs(v) > kLargestExactInteger)
                throw Error(subject, "holds the integer " + std::to_string(static_cast<int64_t>(v)) +
                                         "; integer samples must lie within +-2^24");
        }
    }
    return array;
}

// An integer graph input (token ids, masks) cannot take float samples: the values would be
// truncated silently. Float inputs take integer arrays (uint8 images) converted to float.
void checkDtype(const SampleSet::Array& array, const GraphValueInfo& input, const std::string& path) {
    if (!dtypeIsFloat(input.dtype) && !array.integer)
        throw Error(array.name.empty() ? path : path + ": " + array.name,
                    "holds float samples, but the model's input '" + input.name + "' is " +
                        std::string(dtypeName(input.dtype)) + "; save the array with an integer dtype");
}

std::string inputNames(const std::vector<GraphValueInfo>& inputs) {
    std::string names;
    for (const auto& input : inputs)
        names += (names.empty() ? "" : ", ") + input.name;
    return names;
}

} // namespace

SampleSet::SampleSet(std::string path, std::vector<int64_t> sampleShape, std::vector<float> values)
    : SampleSet(std::move(path),
                std::vector<Array>{Array{{}, std::move(sampleShape), std::move(values), false}}) {}

SampleSet::SampleSet(std::string path, std::vector<Array> arrays)
    : m_path(std::move(path)), m_arrays(std::move(arrays)) {
    if (m_arrays.empty())
        throw Error(m_path, "holds zero sample arrays");
    for (std::size_t i = 0; i < m_arrays.size(); ++i) {
        const Array& array = m_arrays[i];
        const std::string subject = array.name.empty() ? m_path : m_path + ": " + array.name;
        uint64_t size = 0;
        if (!checkedElementCount(array.sampleShape, size))
            throw Error(subject, "sample shape " + shapeToString(array.sampleShape) + " is invalid");
        if (size == 0 || array.values.empty())
            throw Error(subject, "holds zero samples");
        if (array.values.size() % size != 0)
            throw Error(subject, "holds " + std::to_string(array.values.size()) +
                                     " values, not a whole number of samples of shape " +
                                     shapeToString(array.sampleShape));
        const auto count = static_cast<int64_t>(array.values.size() / size);
        if (i == 0)
            m_count = count;
        else if (count != m_count)
            throw Error(subject, "holds " + std::to_string(count) + " samples, but '" + m_arrays[0].name +
                                     "' holds " + std::to_string(m_count) +
                                     "; every input needs the same sample count");
    }
}
SampleSet SampleSet::load(const std::string& path, const std::string& excludeColumn) {
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
    const auto file = openWeightFile(path);
    return SampleSet(path, {readArray(*file, arrayName(*file, {"x", "samples", "input", "inputs"}), {})});
}

SampleSet SampleSet::loadForInputs(const std::string& path, const std::vector<GraphValueInfo>& inputs,
                                   const std::string& excludeColumn) {
    const bool npz = lowercaseExtension(path) == ".npz";
    if (inputs.size() <= 1) {
        if (npz && !inputs.empty()) {
            const auto file = openWeightFile(path);
            if (file->tensors().size() > 1 && file->find(inputs[0].name)) {
                SampleSet set(path, {readArray(*file, inputs[0].name, inputs[0].name)});
                checkDtype(set.m_arrays[0], inputs[0], path);
                return set;
            }
        }
        SampleSet set = load(path, excludeColumn);
        if (!inputs.empty())
            checkDtype(set.m_arrays[0], inputs[0], path);
        return set;
    }
    if (!npz)
        throw Error(path, "the model has " + std::to_string(inputs.size()) + " inputs (" +
                              inputNames(inputs) + "); give an .npz whose keys are these input names");
    const auto file = openWeightFile(path);
    std::vector<Array> arrays;
    for (const auto& input : inputs) {
        if (!file->find(input.name)) {
            std::string present;
            for (const auto& info : file->tensors())
                present += (present.empty() ? "" : ", ") + info.name;
            throw Error(path, "has no entry '" + input.name +
                                  "' for the model input of that name (entries: " + present +
                                  "; the model's inputs: " + inputNames(inputs) + ")");
        }
        arrays.push_back(readArray(*file, input.name, input.name));
        checkDtype(arrays.back(), input, path);
    }
    return SampleSet(path, std::move(arrays));
}

const SampleSet::Array& SampleSet::arrayFor(const GraphValueInfo& input, std::size_t inputCount) const {
    for (const auto& array : m_arrays) {
        if (!array.name.empty() && array.name == input.name)
            return array;
    }
    if (inputCount == 1 && m_arrays.size() == 1)
        return m_arrays.front();
    std::string present;
    for (const auto& array : m_arrays)
        present += (present.empty() ? "" : ", ") +
                   (array.name.empty() ? std::string("(one unnamed array)") : array.name);
    throw Error("input '" + input.name + "'",
                m_path + " has no samples for it (arrays: " + present +
                    "); a model with several inputs takes an .npz keyed by the input names");
}

Value SampleSet::batch(int64_t first, int64_t n, const GraphValueInfo& input, int64_t rows) const {
    return batchOf(arrayFor(input, 1), first, n, input, rows);
}

Value SampleSet::batchOf(const Array& array, int64_t first, int64_t n, const GraphValueInfo& input,
                         int64_t rows) const {
    rows = std::max(rows, n);
    if (first < 0 || n < 1 || first + n > m_count)
        throw Error(m_path, "samples " + std::to_string(first) + ".." + std::to_string(first + n - 1) +
                                " out of " + std::to_string(m_count));
    const std::vector<int64_t>& sampleShape = array.sampleShape;
    const auto sampleSize = static_cast<int64_t>(array.values.size()) / m_count;
    Value value;
    value.shape = {rows};
    bool keepShape = !input.hasShape || input.shape.size() == sampleShape.size() + 1;
    for (std::size_t d = 0; keepShape && input.hasShape && d < sampleShape.size(); ++d)
        keepShape = input.shape[d + 1] < 0 || input.shape[d + 1] == sampleShape[d];
    if (keepShape) {
        value.shape.insert(value.shape.end(), sampleShape.begin(), sampleShape.end());
    } else {
        int64_t fixed = 1;
        bool allFixed = true;
        for (std::size_t d = 1; d < input.shape.size(); ++d) {
            allFixed = allFixed && input.shape[d] >= 0;
            fixed *= std::max<int64_t>(input.shape[d], 1);
        }
        if (input.shape.empty() || !allFixed || fixed != sampleSize) {
            std::vector<int64_t> expected(input.shape.begin() + (input.shape.empty() ? 0 : 1),
                                          input.shape.end());
            const std::string source = array.name.empty() ? m_path : m_path + ": " + array.name;
            throw Error("input '" + input.name + "'",
                        "samples of " + source + " have shape " + shapeToString(sampleShape) +
                            ", the model expects " + shapeToString(expected) + " per sample (-1 = any size)");
        }
        value.shape.insert(value.shape.end(), input.shape.begin() + 1, input.shape.end());
    }
    const auto begin = array.values.begin() + first * sampleSize;
    value.data.reserve(static_cast<std::size_t>(rows * sampleSize));
    value.data.assign(begin, begin + n * sampleSize);
    const auto last = begin + (n - 1) * sampleSize;
    for (int64_t pad = n; pad < rows; ++pad)
        value.data.insert(value.data.end(), last, last + sampleSize);
    // An integer array feeds an integer (or undeclared) input exactly; a float input gets floats.
    if (array.integer && !dtypeIsFloat(input.dtype)) {
        value.dtype = input.dtype;
        value.ints.reserve(value.data.size());
        for (float v : value.data)
            value.ints.push_back(static_cast<int64_t>(v));
        value.data.clear();
    }
    return value;
}

std::map<std::string, Value> SampleSet::feed(const std::vector<GraphValueInfo>& inputs, int64_t first,
                                             int64_t n, int64_t rows) const {
    std::map<std::string, Value> values;
    for (const auto& input : inputs) {
        const Array& array = arrayFor(input, inputs.size());
        checkDtype(array, input, m_path);
        values[input.name] = batchOf(array, first, n, input, rows);
    }
    return values;
}

std::vector<int64_t> loadLabels(const std::string& path, const std::string& column) {
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
                throw Error(path, "has " + std::to_string(columns) +
                                      " columns; choose the label column (--label-column)");
        }
        for (const auto& row : table.rows)
            raw.push_back(row[index]);
    } else {
        const auto file = openWeightFile(path);
        const Tensor array = file->load(arrayName(*file, {"y", "labels", "label", "target", "targets"}));
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
