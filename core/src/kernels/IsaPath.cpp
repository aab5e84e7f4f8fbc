#include "quantscope/kernels/IsaPath.h"

#include "quantscope/Error.h"

namespace quantscope::kernels {

const char* isaName(IsaPath path) {
    switch (path) {
    case IsaPath::Scalar:
        return "scalar";
    case IsaPath::Avx2:
        return "avx2";
    case IsaPath::Avx512:
        return "avx512";
    }
    return "unknown";
}

IsaPath parseIsa(std::string_view name, const std::string& subject) {
    for (IsaPath path : {IsaPath::Scalar, IsaPath::Avx2, IsaPath::Avx512})
        if (name == isaName(path))
            return path;
    throw Error(subject,
                "unknown instruction set '" + std::string(name) + "' (allowed: scalar, avx2, avx512)");
}

} // namespace quantscope::kernels
