#include "quantscope/io/PackedCheckpoint.h"

#include "quantscope/Error.h"
#include "quantscope/io/ReadOnlyFile.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <filesystem>
#include <set>

namespace quantscope {

enum class Packing { Gptq, Awq, CompressedInt, Nvfp4, Fp8 };

struct PackedCheckpoint::PackedWeight {
    Packing packing = Packing::Gptq;
    std::string module;
    std::string codes, zeros, scales, groupIndex; // stored tensor names ("" when absent)
    std::string tensorScale;                      // nvfp4's weight_global_scale
    int bits = 4;
    int64_t outFeatures = 0;
    int64_t inFeatures = 0;
    int64_t groups = 1;
    int64_t groupSize = 0;
    bool zeroMinusOne = false; // GPTQ v1 stores zero − 1
    std::string format;
    std::string note;
};

namespace {

using Json = nlohmann::json;

constexpr uint64_t kMaxConfigBytes = 16u << 20;

// AutoAWQ packs output column kAwqOrder[j] of each group of eight into nibble j.
constexpr std::array<int, 8> kAwqOrder = {0, 2, 4, 6, 1, 3, 5, 7};

bool endsWith(const std::string& text, const std::string& suffix) {
    return text.size() > suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<uint32_t> wordsOf(const std::vector<std::byte>& bytes) {
    std::vector<uint32_t> words(bytes.size() / 4);
    for (std::size_t i = 0; i < words.size(); ++i)
        words[i] = static_cast<uint32_t>(bytes[4 * i]) | static_cast<uint32_t>(bytes[4 * i + 1]) << 8 |
                   static_cast<uint32_t>(bytes[4 * i + 2]) << 16 |
                   static_cast<uint32_t>(bytes[4 * i + 3]) << 24;
    return words;
}

std::string shapeText(const TensorInfo& info) {
    return std::string(dtypeName(info.dtype)) + " " + shapeToString(info.shape);
}

// The quantization_config of the config.json beside the checkpoint, or an empty object.
Json readQuantizationConfig(const std::string& configPath) {
    if (configPath.empty())
        return Json::object();
    Json config;
    try {
        config = Json::parse(ReadOnlyFile::readAll(configPath, kMaxConfigBytes));
    } catch (const nlohmann::json::exception& e) {
        throw Error(configPath, std::string("is not valid JSON (") + e.what() + ")");
    }
    if (!config.is_object() || !config.contains("quantization_config"))
        return Json::object();
    const Json& quantization = config["quantization_config"];
    if (!quantization.is_object())
        throw Error(configPath, "\"quantization_config\" is not an object");
    return quantization;
}

std::string configString(const Json& config, const char* key) {
    const auto found = config.find(key);
    return found != config.end() && found->is_string() ? found->get<std::string>() : std::string();
}

int64_t configInteger(const Json& config, const char* key, int64_t fallback) {
    const auto found = config.find(key);
    return found != config.end() && found->is_number_integer() ? found->get<int64_t>() : fallback;
}

// compressed-tensors keeps the weight settings in config_groups.<name>.weights; the first group with
// integer weights gives the bits and symmetry (files whose groups differ are read from the tensors).
Json compressedTensorsWeights(const Json& config) {
    const auto groups = config.find("config_groups");
    if (groups == config.end() || !groups->is_object())
        return Json::object();
    for (const auto& [name, group] : groups->items())
        if (group.is_object() && group.contains("weights") && group["weights"].is_object())
            return group["weights"];
    return Json::object();
}

} // namespace

std::unique_ptr<WeightFile> PackedCheckpoint::wrapIfPacked(std::unique_ptr<SafetensorsReader> file) {
    const std::filesystem::path config = std::filesystem::path(file->path()).parent_path() / "config.json";
    std::error_code error;
    const std::string configPath = std::filesystem::is_regular_file(config, error) ? config.string() : "";
    const bool packedNames =
        std::any_of(file->tensors().begin(), file->tensors().end(), [&](const TensorInfo& info) {
            return endsWith(info.name, ".qweight") || endsWith(info.name, ".weight_packed") ||
                   ((info.dtype == DType::F8E4M3 || info.dtype == DType::F8E5M2) &&
                    file->find(info.name + "_scale") != nullptr);
        });
    if (!packedNames)
        return file;
    return std::make_unique<PackedCheckpoint>(std::move(file), configPath);
}

PackedCheckpoint::PackedCheckpoint(std::unique_ptr<SafetensorsReader> file, const std::string& configPath)
    : m_file(std::move(file)), m_metadata(m_file->metadata()) {
    const std::string& path = m_file->path();
    const Json config = readQuantizationConfig(configPath);
    const std::string method = configString(config, "quant_method");
    const std::string checkpointFormat = configString(config, "checkpoint_format");
    const Json ctWeights = compressedTensorsWeights(config);
    if (!method.empty())
        m_metadata["quantization_config.quant_method"] = method;

    const auto info = [&](const std::string& name) { return m_file->find(name); };
    const auto require = [&](const std::string& module, const std::string& name) -> const TensorInfo& {
        const TensorInfo* found = info(name);
        if (found == nullptr)
            throw Error(path + ": " + module, "packed weight without its \"" + name + "\" tensor");
        return *found;
    };
    const auto fail = [&](const std::string& module, const std::string& what) {
        throw Error(path + ": " + module, what);
    };

    std::set<std::string> consumed;
    for (const TensorInfo& tensor : m_file->tensors()) {
        PackedWeight weight;
        if (endsWith(tensor.name, ".qweight")) {
            weight.module = tensor.name.substr(0, tensor.name.size() - 8);
            weight.codes = tensor.name;
            weight.zeros = weight.module + ".qzeros";
            weight.scales = weight.module + ".scales";
            const TensorInfo& zeros = require(weight.module, weight.zeros);
            const TensorInfo& scales = require(weight.module, weight.scales);
            weight.bits = static_cast<int>(configInteger(config, "bits", configInteger(config, "w_bit", 4)));
            if (weight.bits != 2 && weight.bits != 4 && weight.bits != 8)
                fail(weight.module,
                     "packs " + std::to_string(weight.bits) + "-bit values (2, 4 and 8 are read)");
            const int64_t perWord = 32 / weight.bits;
            if (tensor.dtype != DType::I32 || tensor.shape.size() != 2 || zeros.dtype != DType::I32 ||
                zeros.shape.size() != 2 || scales.shape.size() != 2 || !dtypeIsFloat(scales.dtype))
                fail(weight.module, "qweight " + shapeText(tensor) + ", qzeros " + shapeText(zeros) +
                                        ", scales " + shapeText(scales) +
                                        " are not int32, int32 and float matrices");
            // AWQ packs along the outputs (qweight has fewer columns than scales), GPTQ along the inputs.
            const bool awqShape =
                tensor.shape[1] * perWord == scales.shape[1] && tensor.shape[1] != scales.shape[1];
            weight.packing = method == "awq" || (method != "gptq" && awqShape) ? Packing::Awq : Packing::Gptq;
            weight.groups = scales.shape[0];
            if (weight.packing == Packing::Gptq) {
                weight.inFeatures = tensor.shape[0] * perWord;
                weight.outFeatures = tensor.shape[1];
            } else {
                if (weight.bits != 4)
                    fail(weight.module, "is an AWQ weight of " + std::to_string(weight.bits) +
                                            " bits (AWQ's nibble order is defined for 4)");
                const std::string version = configString(config, "version");
                if (!version.empty() && version != "gemm" && version != "GEMM")
                    fail(weight.module, "uses AWQ's \"" + version + "\" layout (only \"gemm\" is read)");
                weight.inFeatures = tensor.shape[0];
                weight.outFeatures = tensor.shape[1] * perWord;
            }
            if (scales.shape[1] != weight.outFeatures || zeros.shape[0] != weight.groups ||
                zeros.shape[1] * perWord != weight.outFeatures || weight.groups < 1 ||
                weight.groups > weight.inFeatures)
                fail(weight.module, "qweight " + shapeText(tensor) + ", qzeros " + shapeText(zeros) +
                                        " and scales " + shapeText(scales) + " do not describe one [" +
                                        std::to_string(weight.outFeatures) + ", " +
                                        std::to_string(weight.inFeatures) + "] weight in groups");
            weight.groupSize = (weight.inFeatures + weight.groups - 1) / weight.groups;
            if (const TensorInfo* groupIndex = info(weight.module + ".g_idx");
                groupIndex != nullptr && weight.packing == Packing::Gptq) {
                if (groupIndex->dtype != DType::I32 ||
                    groupIndex->shape != std::vector<int64_t>{weight.inFeatures})
                    fail(weight.module, "g_idx is " + shapeText(*groupIndex) + ", expected I32 [" +
                                            std::to_string(weight.inFeatures) + "]");
                weight.groupIndex = groupIndex->name;
            }
        } else if (endsWith(tensor.name, ".weight_packed") && tensor.dtype == DType::U8) {
            // compressed-tensors "nvfp4-pack-quantized": two E2M1 codes per byte (low nibble first),
            // one E4M3 scale per 16 inputs, one float32 global scale.
            weight.packing = Packing::Nvfp4;
            weight.module = tensor.name.substr(0, tensor.name.size() - 14);
            weight.codes = tensor.name;
            weight.scales = weight.module + ".weight_scale";
            weight.tensorScale = weight.module + ".weight_global_scale";
            const TensorInfo& scales = require(weight.module, weight.scales);
            const TensorInfo& global = require(weight.module, weight.tensorScale);
            if (tensor.shape.size() != 2 || scales.shape.size() != 2 || scales.shape[0] != tensor.shape[0] ||
                !dtypeIsFloat(scales.dtype) || !dtypeIsFloat(global.dtype) || global.elements != 1)
                fail(weight.module, "weight_packed " + shapeText(tensor) + ", weight_scale " +
                                        shapeText(scales) + " and weight_global_scale " + shapeText(global) +
                                        " are not an nvfp4 weight (U8 [out, in/2], [out, in/16], one float)");
            weight.bits = 4;
            weight.outFeatures = tensor.shape[0];
            weight.inFeatures = tensor.shape[1] * 2;
            weight.groups = scales.shape[1];
            weight.groupSize = 16;
            if ((weight.inFeatures + 15) / 16 != weight.groups)
                fail(weight.module, "weight_scale " + shapeText(scales) + " is not one scale per 16 of " +
                                        std::to_string(weight.inFeatures) + " inputs");
            consumed.insert(weight.tensorScale);
            m_parts.insert(weight.tensorScale);
        } else if (endsWith(tensor.name, ".weight") &&
                   (tensor.dtype == DType::F8E4M3 || tensor.dtype == DType::F8E5M2) &&
                   info(tensor.name + "_scale") != nullptr) {
            // fp8 weights with a float scale per tensor or per output channel (compressed-tensors
            // "float-quantized", FP8 checkpoints of vLLM / llm-compressor).
            weight.packing = Packing::Fp8;
            weight.module = tensor.name.substr(0, tensor.name.size() - 7);
            weight.codes = tensor.name;
            weight.scales = tensor.name + "_scale";
            const TensorInfo& scales = *info(weight.scales);
            if (tensor.shape.size() != 2 || !dtypeIsFloat(scales.dtype) ||
                (scales.elements != 1 && scales.elements != static_cast<uint64_t>(tensor.shape[0])))
                fail(weight.module, "fp8 weight " + shapeText(tensor) + " with weight_scale " +
                                        shapeText(scales) +
                                        " (one scale per tensor or per output row is read)");
            weight.bits = 8;
            weight.outFeatures = tensor.shape[0];
            weight.inFeatures = tensor.shape[1];
            weight.groups = 1;
            weight.groupSize = weight.inFeatures;
        } else if (endsWith(tensor.name, ".weight_packed")) {
            weight.packing = Packing::CompressedInt;
            weight.module = tensor.name.substr(0, tensor.name.size() - 14);
            weight.codes = tensor.name;
            weight.scales = weight.module + ".weight_scale";
            const TensorInfo& scales = require(weight.module, weight.scales);
            if (tensor.dtype != DType::I32 || tensor.shape.size() != 2)
                fail(weight.module,
                     "weight_packed is " + shapeText(tensor) + ", expected an int32 matrix (pack-quantized)");
            weight.outFeatures = tensor.shape[0];
            weight.bits = static_cast<int>(configInteger(ctWeights, "num_bits", 4));
            if (weight.bits != 2 && weight.bits != 4 && weight.bits != 8)
                fail(weight.module,
                     "packs " + std::to_string(weight.bits) + "-bit values (2, 4 and 8 are read)");
            weight.inFeatures = tensor.shape[1] * (32 / weight.bits);
            if (const TensorInfo* shape = info(weight.module + ".weight_shape"); shape != nullptr) {
                const auto bytes = m_file->loadBytes(shape->name);
                if (shape->dtype != DType::I64 || shape->elements != 2)
                    fail(weight.module, "weight_shape is " + shapeText(*shape) + ", expected I64 [2]");
                int64_t dims[2] = {};
                for (int d = 0; d < 2; ++d)
                    for (int b = 7; b >= 0; --b)
                        dims[d] =
                            (dims[d] << 8) | static_cast<int64_t>(bytes[static_cast<std::size_t>(8 * d + b)]);
                if (dims[0] != weight.outFeatures || dims[1] < 1 || dims[1] > weight.inFeatures ||
                    dims[1] <= weight.inFeatures - 32 / weight.bits)
                    fail(weight.module, "weight_shape [" + std::to_string(dims[0]) + ", " +
                                            std::to_string(dims[1]) + "] does not fit weight_packed " +
                                            shapeText(tensor));
                weight.inFeatures = dims[1];
                consumed.insert(shape->name);
            }
            const int64_t scaleColumns = scales.shape.size() == 2 ? scales.shape[1] : 1;
            if (!dtypeIsFloat(scales.dtype) ||
                scales.elements != static_cast<uint64_t>(weight.outFeatures * scaleColumns) ||
                scaleColumns < 1 || scaleColumns > weight.inFeatures)
                fail(weight.module,
                     "weight_scale " + shapeText(scales) + " is not one float per output row and group");
            weight.groups = scaleColumns;
            weight.groupSize = (weight.inFeatures + weight.groups - 1) / weight.groups;
            if (const TensorInfo* zeros = info(weight.module + ".weight_zero_point"); zeros != nullptr) {
                const int64_t perWord = 32 / weight.bits;
                if (zeros->dtype != DType::I32 ||
                    zeros->shape !=
                        std::vector<int64_t>{(weight.outFeatures + perWord - 1) / perWord, weight.groups})
                    fail(weight.module, "weight_zero_point is " + shapeText(*zeros) +
                                            ", expected int32 packed along the outputs");
                weight.zeros = zeros->name;
            }
        } else {
            continue;
        }

        // Group sizes: the config's when it has one, checked against the tensors.
        const bool fixedBlocks = weight.packing == Packing::Nvfp4 || weight.packing == Packing::Fp8;
        const int64_t configGroup =
            fixedBlocks ? 0
            : weight.packing == Packing::CompressedInt
                ? (weight.groups == 1 ? weight.inFeatures
                                      : configInteger(ctWeights, "group_size", weight.groupSize))
                : configInteger(config, weight.packing == Packing::Awq ? "q_group_size" : "group_size",
                                configInteger(config, "group_size", weight.groupSize));
        if (configGroup > 0 && weight.groupIndex.empty() &&
            (weight.inFeatures + configGroup - 1) / configGroup != weight.groups)
            fail(weight.module, "config.json's group size " + std::to_string(configGroup) + " gives " +
                                    std::to_string((weight.inFeatures + configGroup - 1) / configGroup) +
                                    " groups over " + std::to_string(weight.inFeatures) +
                                    " inputs, the scales have " + std::to_string(weight.groups));
        if (configGroup > 0)
            weight.groupSize = configGroup;
        consumed.insert(weight.codes);
        consumed.insert(weight.scales);
        m_parts.insert(weight.codes);
        m_parts.insert(weight.scales);
        m_parts.insert(weight.zeros);
        m_parts.insert(weight.groupIndex);
        if (!weight.zeros.empty())
            consumed.insert(weight.zeros);
        if (!weight.groupIndex.empty())
            consumed.insert(weight.groupIndex);
        m_packed.push_back(std::move(weight));
    }

    // GPTQ's zero convention, decided once for the file.
    bool gptqV1 = true;
    std::string gptqReason;
    const auto firstGptq = std::find_if(m_packed.begin(), m_packed.end(),
                                        [](const PackedWeight& w) { return w.packing == Packing::Gptq; });
    if (firstGptq != m_packed.end()) {
        if (checkpointFormat == "gptq" || checkpointFormat == "gptq_v2") {
            gptqV1 = checkpointFormat == "gptq";
            gptqReason = "config.json says checkpoint_format \"" + checkpointFormat + "\"";
        } else {
            const auto words = wordsOf(m_file->loadBytes(firstGptq->zeros));
            const uint32_t mask = (1u << firstGptq->bits) - 1;
            std::set<uint32_t> stored;
            for (const uint32_t word : words)
                for (int shift = 0; shift < 32 && stored.size() < 3; shift += firstGptq->bits)
                    stored.insert((word >> shift) & mask);
            const uint32_t half = 1u << (firstGptq->bits - 1);
            const std::string source = checkpointFormat.empty() ? "config.json has no checkpoint_format"
                                                                : "config.json's checkpoint_format \"" +
                                                                      checkpointFormat + "\" is unknown";
            if (stored == std::set<uint32_t>{half - 1}) {
                gptqReason = source + "; the stored zeros are " + std::to_string(half - 1) +
                             " everywhere, the symmetric zero " + std::to_string(half) + " minus 1";
            } else if (stored == std::set<uint32_t>{half}) {
                gptqV1 = false;
                gptqReason = source + "; the stored zeros are " + std::to_string(half) +
                             " everywhere, the symmetric zero itself";
            } else {
                gptqReason =
                    source + "; the stored zeros vary, so v1 (the format AutoGPTQ writes) is assumed";
            }
        }
        m_metadata["gptq.checkpoint_format"] =
            std::string(gptqV1 ? "v1 (zero - 1 stored)" : "v2 (zero stored)") + ": " + gptqReason;
    }

    for (PackedWeight& weight : m_packed) {
        const std::string group = weight.groups == 1 ? "per-channel" : "g" + std::to_string(weight.groupSize);
        const std::string width = " int" + std::to_string(weight.bits) + " " + group;
        switch (weight.packing) {
        case Packing::Gptq:
            weight.zeroMinusOne = gptqV1;
            weight.format = std::string(gptqV1 ? "gptq-v1" : "gptq-v2") + width +
                            (weight.groupIndex.empty() ? "" : " (g_idx)");
            weight.note = std::string(gptqV1 ? "GPTQ v1: stored zeros are zero - 1"
                                             : "GPTQ v2: stored zeros are the zeros") +
                          ", read so because " + gptqReason;
            break;
        case Packing::Awq:
            weight.format = "awq" + width;
            weight.note = "AWQ (GEMM layout): nibbles in the order 0 2 4 6 1 3 5 7, zeros stored as they are";
            break;
        case Packing::Nvfp4:
            weight.format = "nvfp4";
            weight.note =
                "compressed-tensors nvfp4-pack-quantized: E2M1 codes two per byte (low nibble first), "
                "value = code * weight_scale (E4M3, per 16) / weight_global_scale";
            break;
        case Packing::Fp8:
            weight.format =
                std::string(m_file->find(weight.codes)->dtype == DType::F8E4M3 ? "fp8_e4m3" : "fp8_e5m2") +
                (m_file->find(weight.scales)->elements == 1 ? " per-tensor" : " per-channel");
            weight.note = "fp8 weight times its weight_scale";
            break;
        case Packing::CompressedInt:
            weight.format = "pack-quantized" + width + (weight.zeros.empty() ? " symmetric" : " asymmetric");
            weight.note =
                "compressed-tensors pack-quantized: codes stored + " +
                std::to_string(1 << (weight.bits - 1)) +
                (weight.zeros.empty() ? ", no zero point" : ", zero points packed along the outputs");
            break;
        }
    }

    // The listing: every tensor in file order, each packed weight once in place of its first part.
    std::unordered_map<std::string, std::size_t> packedByCodes;
    for (std::size_t i = 0; i < m_packed.size(); ++i)
        packedByCodes.emplace(m_packed[i].codes, i);
    for (const TensorInfo& tensor : m_file->tensors()) {
        if (const auto found = packedByCodes.find(tensor.name); found != packedByCodes.end()) {
            const PackedWeight& weight = m_packed[found->second];
            TensorInfo listed;
            listed.name = weight.module + ".weight";
            listed.dtype = weight.packing == Packing::Fp8 ? tensor.dtype : DType::F32;
            listed.shape = {weight.outFeatures, weight.inFeatures};
            listed.elements = static_cast<uint64_t>(weight.outFeatures * weight.inFeatures);
            listed.bytes = 0; // the bytes the file spends on it
            for (const std::string* part :
                 {&weight.codes, &weight.zeros, &weight.scales, &weight.groupIndex, &weight.tensorScale})
                if (!part->empty())
                    listed.bytes += m_file->find(*part)->bytes;
            // An fp8 weight keeps its stored name; the packings must not shadow a stored tensor.
            if ((weight.packing != Packing::Fp8 && m_file->find(listed.name) != nullptr) ||
                !m_packedByName.emplace(listed.name, found->second).second)
                throw Error(path + ": " + listed.name, "is both stored and packed in the file");
            m_tensors.push_back(std::move(listed));
        } else if (!consumed.count(tensor.name)) {
            m_tensors.push_back(tensor);
        }
    }
}

PackedCheckpoint::~PackedCheckpoint() = default;

Tensor PackedCheckpoint::load(const std::string& name) const {
    const auto found = m_packedByName.find(name);
    if (found == m_packedByName.end()) {
        if (m_parts.count(name))
            throw Error(path() + ": " + name,
                        "is a stored part of a packed weight, read through that weight");
        return m_file->load(name);
    }
    const PackedWeight& weight = m_packed[found->second];
    const std::string subject = path() + ": " + name;
    const int64_t outFeatures = weight.outFeatures;
    const int64_t inFeatures = weight.inFeatures;
    const int bits = weight.bits;
    const int perWord = 32 / bits;
    const uint32_t mask = (1u << bits) - 1;

    if (weight.packing == Packing::Fp8 || weight.packing == Packing::Nvfp4)
        return loadFloatCodes(weight, name);

    const auto codes = wordsOf(m_file->loadBytes(weight.codes));
    const Tensor scales = m_file->load(weight.scales);
    const auto scaleValues = scales.values();
    std::vector<uint32_t> zeros;
    if (!weight.zeros.empty())
        zeros = wordsOf(m_file->loadBytes(weight.zeros));
    std::vector<int64_t> groupOf(static_cast<std::size_t>(inFeatures));
    if (!weight.groupIndex.empty()) {
        const auto indices = wordsOf(m_file->loadBytes(weight.groupIndex));
        for (int64_t i = 0; i < inFeatures; ++i) {
            const auto group = static_cast<int32_t>(indices[static_cast<std::size_t>(i)]);
            if (group < 0 || group >= weight.groups)
                throw Error(subject, "g_idx[" + std::to_string(i) + "] is " + std::to_string(group) +
                                         ", outside the " + std::to_string(weight.groups) + " groups");
            groupOf[static_cast<std::size_t>(i)] = group;
        }
    } else {
        for (int64_t i = 0; i < inFeatures; ++i)
            groupOf[static_cast<std::size_t>(i)] = std::min(i / weight.groupSize, weight.groups - 1);
    }

    std::vector<float> values(static_cast<std::size_t>(outFeatures * inFeatures));
    const auto at = [](const std::vector<uint32_t>& words, int64_t index, int shift, uint32_t bitsMask) {
        return static_cast<int64_t>((words[static_cast<std::size_t>(index)] >> shift) & bitsMask);
    };
    std::array<int, 8> awqNibble{}; // the nibble holding column k of a group of eight
    for (int j = 0; j < 8; ++j)
        awqNibble[static_cast<std::size_t>(kAwqOrder[static_cast<std::size_t>(j)])] = j;

    for (int64_t o = 0; o < outFeatures; ++o) {
        for (int64_t i = 0; i < inFeatures; ++i) {
            const int64_t g = groupOf[static_cast<std::size_t>(i)];
            int64_t q = 0;
            int64_t zero = 0;
            float scale = 0.0f;
            switch (weight.packing) {
            case Packing::Gptq:
                q = at(codes, (i / perWord) * outFeatures + o, bits * static_cast<int>(i % perWord), mask);
                zero = at(zeros, g * (outFeatures / perWord) + o / perWord,
                          bits * static_cast<int>(o % perWord), mask) +
                       (weight.zeroMinusOne ? 1 : 0);
                scale = scaleValues[static_cast<std::size_t>(g * outFeatures + o)];
                break;
            case Packing::Awq: {
                const int nibble = awqNibble[static_cast<std::size_t>(o % 8)];
                q = at(codes, i * (outFeatures / 8) + o / 8, 4 * nibble, mask);
                zero = at(zeros, g * (outFeatures / 8) + o / 8, 4 * nibble, mask);
                scale = scaleValues[static_cast<std::size_t>(g * outFeatures + o)];
                break;
            }
            case Packing::Nvfp4:
            case Packing::Fp8:
                break; // loadFloatCodes
            case Packing::CompressedInt: {
                const int64_t columns = (inFeatures + perWord - 1) / perWord;
                const int64_t offset = int64_t{1} << (bits - 1);
                q = at(codes, o * columns + i / perWord, bits * static_cast<int>(i % perWord), mask) - offset;
                if (!zeros.empty())
                    zero = at(zeros, (o / perWord) * weight.groups + g, bits * static_cast<int>(o % perWord),
                              mask) -
                           offset;
                scale = scaleValues[static_cast<std::size_t>(o * weight.groups + g)];
                break;
            }
            }
            values[static_cast<std::size_t>(o * inFeatures + i)] = static_cast<float>(q - zero) * scale;
        }
    }
    return Tensor(name, {outFeatures, inFeatures}, std::move(values));
}

std::optional<StoredQuantization> PackedCheckpoint::storedQuantization(const std::string& name) const {
    const auto found = m_packedByName.find(name);
    if (found == m_packedByName.end())
        return std::nullopt;
    const PackedWeight& weight = m_packed[found->second];
    StoredQuantization stored;
    stored.format = weight.format;
    stored.note = weight.note;
    stored.parameters.push_back(m_file->load(weight.scales));
    if (!weight.zeros.empty()) {
        // The zero points as the dequantization uses them: unpacked, v1's "+ 1" and
        // compressed-tensors' offset applied.
        const auto words = wordsOf(m_file->loadBytes(weight.zeros));
        const int perWord = 32 / weight.bits;
        const uint32_t mask = (1u << weight.bits) - 1;
        const int64_t rows = weight.packing == Packing::CompressedInt ? weight.outFeatures : weight.groups;
        const int64_t columns = weight.packing == Packing::CompressedInt ? weight.groups : weight.outFeatures;
        std::vector<float> zeros(static_cast<std::size_t>(rows * columns));
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t c = 0; c < columns; ++c) {
                int64_t word = 0;
                int shift = 0;
                int64_t adjust = 0;
                switch (weight.packing) {
                case Packing::Gptq:
                    word = r * (columns / perWord) + c / perWord;
                    shift = weight.bits * static_cast<int>(c % perWord);
                    adjust = weight.zeroMinusOne ? 1 : 0;
                    break;
                case Packing::Awq:
                    word = r * (columns / 8) + c / 8;
                    shift = 4 * static_cast<int>(std::find(kAwqOrder.begin(), kAwqOrder.end(), c % 8) -
                                                 kAwqOrder.begin());
                    break;
                case Packing::Nvfp4:
                case Packing::Fp8:
                    break; // no zero points
                case Packing::CompressedInt:
                    word = (r / perWord) * columns + c;
                    shift = weight.bits * static_cast<int>(r % perWord);
                    adjust = -(int64_t{1} << (weight.bits - 1));
                    break;
                }
                zeros[static_cast<std::size_t>(r * columns + c)] = static_cast<float>(
                    static_cast<int64_t>((words[static_cast<std::size_t>(word)] >> shift) & mask) + adjust);
            }
        stored.parameters.emplace_back(weight.zeros, std::vector<int64_t>{rows, columns}, std::move(zeros));
    }
    if (!weight.groupIndex.empty())
        stored.parameters.push_back(m_file->load(weight.groupIndex));
    if (!weight.tensorScale.empty())
        stored.parameters.push_back(m_file->load(weight.tensorScale));
    return stored;
}

Tensor PackedCheckpoint::loadFloatCodes(const PackedWeight& weight, const std::string& name) const {
    // E2M1 codes: sign bit, two exponent bits, one mantissa bit.
    static constexpr float kE2M1[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
    const int64_t outFeatures = weight.outFeatures;
    const int64_t inFeatures = weight.inFeatures;
    const Tensor scales = m_file->load(weight.scales);
    const auto scaleValues = scales.values();
    std::vector<float> values(static_cast<std::size_t>(outFeatures * inFeatures));
    if (weight.packing == Packing::Fp8) {
        const Tensor codes = m_file->load(weight.codes); // the fp8 values, exact in float32
        const auto codeValues = codes.values();
        const bool perTensor = scaleValues.size() == 1;
        for (int64_t o = 0; o < outFeatures; ++o) {
            const float scale = scaleValues[perTensor ? 0 : static_cast<std::size_t>(o)];
            for (int64_t i = 0; i < inFeatures; ++i) {
                const auto at = static_cast<std::size_t>(o * inFeatures + i);
                values[at] = codeValues[at] * scale;
            }
        }
        return Tensor(name, {outFeatures, inFeatures}, std::move(values));
    }
    const auto bytes = m_file->loadBytes(weight.codes);
    const float tensorScale = m_file->load(weight.tensorScale).values()[0];
    for (int64_t o = 0; o < outFeatures; ++o)
        for (int64_t i = 0; i < inFeatures; ++i) {
            const auto byte = static_cast<uint8_t>(bytes[static_cast<std::size_t>((o * inFeatures + i) / 2)]);
            const uint8_t code = (i % 2 == 0) ? (byte & 0xF) : (byte >> 4);
            const float value = (code & 0x8) != 0 ? -kE2M1[code & 0x7] : kE2M1[code & 0x7];
            const float scale =
                scaleValues[static_cast<std::size_t>(o * weight.groups + i / 16)] / tensorScale;
            values[static_cast<std::size_t>(o * inFeatures + i)] = value * scale;
        }
    return Tensor(name, {outFeatures, inFeatures}, std::move(values));
}

} // namespace quantscope
