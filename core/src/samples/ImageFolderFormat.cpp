#include "ImageFolderFormat.h"

#include "quantscope/Error.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace quantscope {
namespace {

using nlohmann::json;

// A sidecar is a few lines of JSON; anything far larger is not one.
constexpr std::uintmax_t kMaxSidecarBytes = 1u << 20;

bool isWholeNumber(const json& value) {
    return value.is_number_integer() || (value.is_number_float() && std::isfinite(value.get<double>()) &&
                                         value.get<double>() == std::floor(value.get<double>()));
}

std::vector<float> perChannel(const json& object, const char* key, int channels, float fallback,
                              const std::string& sidecar) {
    const auto it = object.find(key);
    if (it == object.end())
        return std::vector<float>(static_cast<std::size_t>(channels), fallback);
    std::vector<float> result;
    if (it->is_number()) {
        result.assign(static_cast<std::size_t>(channels), it->get<float>());
    } else if (it->is_array() && it->size() == static_cast<std::size_t>(channels)) {
        for (const json& item : *it) {
            if (!item.is_number())
                throw Error(sidecar, std::string("'") + key + "' must hold numbers");
            result.push_back(item.get<float>());
        }
    } else {
        throw Error(sidecar, std::string("'") + key + "' must be a number or an array of " +
                                 std::to_string(channels) + " numbers");
    }
    for (float value : result)
        if (!std::isfinite(value))
            throw Error(sidecar, std::string("'") + key + "' must hold finite numbers");
    return result;
}

} // namespace

ImageFolderFormat ImageFolderFormat::read(const std::string& folder) {
    const std::string sidecar = (std::filesystem::path(folder) / kSidecarName).string();
    std::error_code error;
    if (!std::filesystem::is_regular_file(sidecar, error))
        throw Error(folder, std::string("an image folder needs a sidecar ") + kSidecarName +
                                " giving width, height, channels, scale, mean and std");
    if (std::filesystem::file_size(sidecar, error) > kMaxSidecarBytes)
        throw Error(sidecar, "is larger than 1 MiB; a sidecar holds a few numbers");
    std::ifstream file(sidecar, std::ios::binary);
    if (!file)
        throw Error(sidecar, "cannot be opened for reading");
    std::stringstream text;
    text << file.rdbuf();

    json object;
    try {
        object = json::parse(text.str());
    } catch (const json::exception& parseError) { // parse_error, or out_of_range for 1e309
        throw Error(sidecar, std::string("not a JSON object: ") + parseError.what());
    }
    if (!object.is_object())
        throw Error(sidecar, "not a JSON object: the document is a " + std::string(object.type_name()));

    ImageFolderFormat format;
    auto side = [&](const char* key) {
        const auto it = object.find(key);
        if (it == object.end() || !isWholeNumber(*it) || it->get<double>() < 1 ||
            it->get<double>() > kMaxSide)
            throw Error(sidecar, std::string("'") + key + "' must be a whole number in 1.." +
                                     std::to_string(kMaxSide));
        return static_cast<int>(it->get<double>());
    };
    format.width = side("width");
    format.height = side("height");
    if (const auto it = object.find("channels"); it != object.end()) {
        if (!isWholeNumber(*it) || (it->get<double>() != 1 && it->get<double>() != 3))
            throw Error(sidecar, "'channels' must be 1 (grey) or 3 (RGB)");
        format.channels = static_cast<int>(it->get<double>());
    }
    if (const auto it = object.find("scale"); it != object.end()) {
        if (!it->is_number() || !std::isfinite(it->get<double>()))
            throw Error(sidecar, "'scale' must be a finite number");
        format.scale = it->get<float>();
    }
    format.mean = perChannel(object, "mean", format.channels, 0.0f, sidecar);
    format.std = perChannel(object, "std", format.channels, 1.0f, sidecar);
    for (float s : format.std)
        if (!(s > 0.0f))
            throw Error(sidecar, "'std' must be positive");
    return format;
}

} // namespace quantscope
