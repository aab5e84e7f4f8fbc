#include "interop/CompressedTensorsFormat.h"

#include "interop/InteropJson.h"
#include "quantscope/Error.h"

#include <cctype>
#include <map>

namespace quantscope::interop {
namespace {

const Json* configBlock(const Json& json) {
    if (!json.is_object())
        return nullptr;
    if (json.contains("quantization_config") && json["quantization_config"].is_object())
        return &json["quantization_config"];
    if (json.contains("config_groups"))
        return &json;
    return nullptr;
}

// A QuantizationArgs object for `spec`; empty when compressed-tensors has no such format.
Json quantArgs(const QuantSpec& spec, std::string& problem) {
    Json args;
    if (spec.format.isInteger()) {
        if (!spec.format.isSigned && spec.scheme == Scheme::Symmetric) {
            problem = "unsigned symmetric formats have no compressed-tensors form";
            return nullptr;
        }
        args["num_bits"] = spec.format.bits;
        args["type"] = "int";
    } else if (spec.format.kind == FormatKind::Fp8E4M3) {
        args["num_bits"] = 8;
        args["type"] = "float";
    } else {
        problem = spec.format.name() + " has no compressed-tensors form (int or fp8_e4m3 only)";
        return nullptr;
    }
    args["symmetric"] = spec.scheme == Scheme::Symmetric || !spec.format.isInteger();
    args["strategy"] = std::string(granularityName(spec.granularity));
    args["group_size"] = spec.granularity == Granularity::Group ? Json(spec.groupSize) : Json(nullptr);
    args["dynamic"] = false;
    args["observer"] = spec.calib == CalibMethod::Mse ? "mse" : "minmax";
    return args;
}

QuantSpec specOf(const EntryFields& fields) {
    const int64_t bits = fields.integer("num_bits");
    const std::string type = fields.has("type") ? fields.string("type") : "int";
    const bool symmetric = !fields.has("symmetric") || fields.boolean("symmetric");
    QuantSpec spec;
    if (type == "int") {
        spec = integerSpec(bits, true, symmetric ? Scheme::Symmetric : Scheme::Affine, fields.where());
    } else if (type == "float" && bits == 8) {
        spec.format = QuantFormat::parse("fp8_e4m3");
        spec.scheme = Scheme::Symmetric;
    } else {
        fields.fail("type", "'" + type + "' with num_bits " + std::to_string(bits) +
                                " is not supported (int 2..16 bits, float 8 bits)");
    }
    const std::string strategy = fields.has("strategy") ? fields.string("strategy") : "tensor";
    if (strategy == "tensor") {
        spec.granularity = Granularity::Tensor;
    } else if (strategy == "channel") {
        spec.granularity = Granularity::Channel;
        spec.axis = 0; // a Linear weight's output features
    } else if (strategy == "group") {
        spec.granularity = Granularity::Group;
        spec.axis = 1; // groups run along the input features
        spec.groupSize = fields.integer("group_size");
        if (spec.groupSize < 1)
            fields.fail("group_size", "must be at least 1");
    } else {
        fields.fail("strategy", "is '" + strategy + "' (supported: tensor, channel, group)");
    }
    return spec;
}

bool isPattern(const std::string& target) {
    return target.rfind("re:", 0) == 0 ||
           (!target.empty() && std::isupper(static_cast<unsigned char>(target[0])) &&
            target.find('.') == std::string::npos);
}

} // namespace

bool CompressedTensorsFormat::recognizes(std::string_view text) const {
    return configBlock(tryParseJson(text)) != nullptr;
}

QParamsDocument CompressedTensorsFormat::read(std::string_view text, const std::string& fileName,
                                              std::vector<ConversionNote>& notes) const {
    const Json json = parseJson(text, fileName);
    const Json* config = configBlock(json);
    if (!config)
        throw Error(fileName, "no 'quantization_config' (or 'config_groups') found");
    if (!config->contains("config_groups") || !(*config)["config_groups"].is_object())
        throw Error(fileName, "quantization_config: field 'config_groups' must be an object");
    notes.push_back(
        {"", "a quantization_config holds settings only: the scales live in the checkpoint", false});
    QParamsDocument document;
    for (const auto& [groupName, group] : (*config)["config_groups"].items()) {
        const EntryFields groupFields(group, fileName + ": config_groups." + groupName);
        const Json& targets = groupFields.get("targets");
        if (!targets.is_array() || targets.empty())
            groupFields.fail("targets", "must be a non-empty list of module names or patterns");
        for (const char* role : {"weights", "input_activations"}) {
            if (!groupFields.has(role))
                continue;
            const EntryFields args(groupFields.get(role), groupFields.where() + "." + role);
            const QuantSpec spec = specOf(args);
            for (const Json& target : targets) {
                if (!target.is_string())
                    groupFields.fail("targets", "must hold strings");
                const std::string name = target.get<std::string>();
                QParamsEntry entry;
                entry.kind = std::string(role) == "weights" ? TensorKind::Weight : TensorKind::Activation;
                entry.name =
                    isPattern(name) ? name : name + (entry.kind == TensorKind::Weight ? ".weight" : ".input");
                entry.spec = spec;
                if (isPattern(name))
                    notes.push_back({entry.name,
                                     "a class or regex target, kept under its own name (it matches "
                                     "modules of the model, not one tensor)",
                                     false});
                document.tensors.push_back(std::move(entry));
            }
        }
    }
    requireEntries(document, fileName);
    return document;
}

std::string CompressedTensorsFormat::write(const QParamsDocument& document,
                                           std::vector<ConversionNote>& notes) const {
    notes.push_back(
        {"", "a quantization_config holds settings only: scales and zero points are not written", false});
    // Weight entries with identical settings share one config group.
    std::map<std::string, std::pair<Json, std::vector<std::string>>> groups;
    std::vector<std::string> order;
    for (const auto& entry : document.tensors) {
        if (entry.kind != TensorKind::Weight) {
            dropEntry(notes, entry,
                      "activation settings are per module input in compressed-tensors; a graph value "
                      "has no module to target");
            continue;
        }
        std::string problem;
        const Json args = quantArgs(entry.spec, problem);
        if (args.is_null()) {
            dropEntry(notes, entry, problem);
            continue;
        }
        if ((entry.spec.granularity == Granularity::Channel && entry.spec.axis != 0) ||
            (entry.spec.granularity == Granularity::Group && entry.spec.axis != 1))
            noteEntry(notes, entry,
                      "axis " + std::to_string(entry.spec.axis) +
                          " is not recorded (compressed-tensors uses a Linear weight's layout)");
        std::string module = entry.name;
        const std::string suffix = ".weight";
        if (module.size() > suffix.size() &&
            module.compare(module.size() - suffix.size(), suffix.size(), suffix) == 0)
            module.resize(module.size() - suffix.size());
        const std::string key = args.dump();
        if (!groups.count(key))
            order.push_back(key);
        auto& group = groups[key];
        group.first = args;
        group.second.push_back(module);
    }
    // compressed-tensors' CompressionFormat: fp8 is float-quantized, widths below 8 bits are packed
    // into int32 words (pack-quantized), 8-bit integers are stored as they are (int-quantized).
    std::string compression = "int-quantized";
    for (const auto& key : order) {
        const Json& args = groups[key].first;
        if (args["type"] == "float")
            compression = "float-quantized";
        else if (args["num_bits"].get<int>() < 8 && compression != "float-quantized")
            compression = "pack-quantized";
    }
    Json configGroups = Json::object();
    for (std::size_t i = 0; i < order.size(); ++i) {
        const auto& [args, targets] = groups[order[i]];
        configGroups["group_" + std::to_string(i)] = Json{{"targets", targets},
                                                          {"weights", args},
                                                          {"input_activations", nullptr},
                                                          {"output_activations", nullptr}};
    }
    const Json json{{"quantization_config", Json{{"quant_method", "compressed-tensors"},
                                                 {"format", compression},
                                                 {"quantization_status", "compressed"},
                                                 {"config_groups", configGroups},
                                                 {"ignore", Json::array()},
                                                 {"kv_cache_scheme", nullptr}}}};
    return json.dump(4) + "\n";
}

} // namespace quantscope::interop
