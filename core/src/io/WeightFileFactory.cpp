#include "quantscope/Error.h"
#include "quantscope/io/GgufReader.h"
#include "quantscope/io/NpyReader.h"
#include "quantscope/io/NpzReader.h"
#include "quantscope/io/OnnxReader.h"
#include "quantscope/io/PackedCheckpoint.h"
#include "quantscope/io/ReadOnlyFile.h"
#include "quantscope/io/SafetensorsReader.h"
#include "quantscope/io/TorchReader.h"
#include "quantscope/io/WeightFile.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <span>

namespace quantscope {
namespace {

enum class Format { Safetensors, Npy, Npz, Onnx, Gguf, Torch, Unknown };

std::string lowercaseExtension(const std::string& path) {
    std::string extension = std::filesystem::path(path).extension().string();
    std::transform(extension.begin(), extension.end(), extension.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return extension;
}

bool isTorchExtension(const std::string& extension) {
    return extension == ".pt" || extension == ".pth" || extension == ".bin" || extension == ".ckpt";
}

// A zip named .bin may be anything (a renamed .npz opens as one); .pt and .pth are PyTorch's.
bool isTorchZipExtension(const std::string& extension) {
    return extension == ".pt" || extension == ".pth";
}

// torch.save's zip starts with the entry "<name>/data.pkl" (the first local header's name field).
bool firstZipEntryIsPickle(const unsigned char* head, std::size_t headSize) {
    if (headSize < 30)
        return false;
    const std::size_t nameLength = head[26] | (static_cast<std::size_t>(head[27]) << 8);
    if (30 + nameLength > headSize)
        return false;
    const std::string_view name(reinterpret_cast<const char*>(head + 30), nameLength);
    return name.ends_with("/data.pkl");
}

// The content decides first (a renamed file still opens); the extension decides for files whose
// first bytes say nothing, so that the right reader reports what is wrong with them.
Format detectFormat(const std::string& path, const unsigned char* head, std::size_t headSize) {
    static const unsigned char kNpyMagic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    if (headSize >= 6 && std::memcmp(head, kNpyMagic, 6) == 0)
        return Format::Npy;
    // "PK\3\4" starts a zip's first entry; "PK\5\6" is the end record of an empty zip.
    if (headSize >= 4 && head[0] == 'P' && head[1] == 'K' &&
        ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6)))
        return firstZipEntryIsPickle(head, headSize) || isTorchZipExtension(lowercaseExtension(path))
                   ? Format::Torch
                   : Format::Npz;
    if (headSize >= 4 && std::memcmp(head, "GGUF", 4) == 0)
        return Format::Gguf;

    const std::string extension = lowercaseExtension(path);
    if (isTorchExtension(extension)) // a legacy (bare pickle) checkpoint, refused by name by the reader
        return Format::Torch;
    if (extension == ".safetensors")
        return Format::Safetensors;
    if (extension == ".npy")
        return Format::Npy;
    if (extension == ".npz")
        return Format::Npz;
    if (extension == ".gguf")
        return Format::Gguf;
    if (extension == ".onnx") // protobuf has no magic bytes: only the extension tells
        return Format::Onnx;
    // A safetensors header is JSON: a length, then '{'.
    if (headSize >= 9 && head[8] == '{')
        return Format::Safetensors;
    return Format::Unknown;
}

} // namespace

std::unique_ptr<WeightFile> openWeightFile(const std::string& path) {
    // Refuses a directory, a FIFO or a device before any reader opens it (which could block).
    const ReadOnlyFile file(path);
    unsigned char head[512] = {};
    const std::size_t headSize = static_cast<std::size_t>(std::min<uint64_t>(file.size(), sizeof head));
    file.read(0, std::as_writable_bytes(std::span<unsigned char>(head, headSize)));

    switch (detectFormat(path, head, headSize)) {
    case Format::Safetensors:
        return PackedCheckpoint::wrapIfPacked(std::make_unique<SafetensorsReader>(path));
    case Format::Npy:
        return std::make_unique<NpyReader>(path);
    case Format::Npz:
        return std::make_unique<NpzReader>(path);
    case Format::Onnx:
        return openOnnxFile(path);
    case Format::Gguf:
        return std::make_unique<GgufReader>(path);
    case Format::Torch:
        return std::make_unique<TorchReader>(path);
    case Format::Unknown:
        break;
    }
    throw Error(path,
                "unsupported format, expected .safetensors, .npy, .npz or .onnx, or a PyTorch checkpoint "
                "(.pt, .pth, .bin)");
}

} // namespace quantscope
