#include "quantscope/model/QuantMode.h"

#include "quantscope/Error.h"

#include <string>

namespace quantscope {

std::string_view quantModeName(QuantMode mode) {
    switch (mode) {
    case QuantMode::Fp32:
        return "fp32";
    case QuantMode::Static:
        return "static";
    case QuantMode::Dynamic:
        return "dynamic";
    case QuantMode::WeightOnly:
        return "weight-only";
    }
    return "fp32";
}

QuantMode parseQuantMode(std::string_view text, std::string_view option) {
    for (QuantMode mode : {QuantMode::Fp32, QuantMode::Static, QuantMode::Dynamic, QuantMode::WeightOnly}) {
        if (text == quantModeName(mode))
            return mode;
    }
    throw Error(std::string(option),
                "'" + std::string(text) + "' is not one of fp32, static, dynamic, weight-only");
}

} // namespace quantscope
