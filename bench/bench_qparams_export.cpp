// Export and import of the parameters of a 1 GB (268M float32 weights) LLM-shaped model at int4,
// group 128 along the inputs: the JSON-only document against the JSON + .npz sidecar, written and
// read in the same run. The parameters come from analyzeTensor on generated weights (as File ▸
// Export computes them); the analysis time is reported on its own.
//   bench_qparams_export [--dir /tmp] [--layers 16] [--hidden 1024]   (16 × 1024: 271M weights, 147 tensors)
#include "quantscope/analysis/TensorAnalysis.h"
#include "quantscope/export/QParamsDocument.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <sys/stat.h>
#include <vector>

using namespace quantscope;

namespace {

double seconds(std::chrono::steady_clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

double megabytes(const std::string& path) {
    struct stat status {};
    return ::stat(path.c_str(), &status) == 0 ? static_cast<double>(status.st_size) / 1e6 : 0.0;
}

} // namespace

int main(int argc, char** argv) {
    std::string dir = "/tmp";
    int layers = 16;
    int64_t hidden = 1024;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--dir") == 0)
            dir = argv[i + 1];
        else if (std::strcmp(argv[i], "--layers") == 0)
            layers = std::atoi(argv[i + 1]);
        else if (std::strcmp(argv[i], "--hidden") == 0)
            hidden = std::atoll(argv[i + 1]);
    }
    // A Llama-style decoder: q, k, v, o (hidden²), gate, up (intermediate × hidden), down
    // (hidden × intermediate), two norms per layer, embedding and head (vocab × hidden).
    const int64_t intermediate = hidden * 11 / 4;
    const int64_t vocab = 32000;
    struct Shape {
        std::string name;
        int64_t rows;
        int64_t cols;
    };
    std::vector<Shape> shapes{{"model.embed_tokens.weight", vocab, hidden}};
    for (int l = 0; l < layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        for (const char* name :
             {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj"})
            shapes.push_back({p + name + ".weight", hidden, hidden});
        shapes.push_back({p + "mlp.gate_proj.weight", intermediate, hidden});
        shapes.push_back({p + "mlp.up_proj.weight", intermediate, hidden});
        shapes.push_back({p + "mlp.down_proj.weight", hidden, intermediate});
        shapes.push_back({p + "input_layernorm.weight", 1, hidden});
        shapes.push_back({p + "post_attention_layernorm.weight", 1, hidden});
    }
    shapes.push_back({"model.norm.weight", 1, hidden});
    shapes.push_back({"lm_head.weight", vocab, hidden});

    QuantSpec spec;
    spec.format = QuantFormat::parse("int4");
    spec.scheme = Scheme::Symmetric;
    spec.granularity = Granularity::Group;
    spec.axis = 1;
    spec.groupSize = 128;
    QParamsDocument document;
    std::mt19937 rng(20261130);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    std::vector<float> values;
    int64_t elements = 0;
    std::size_t groups = 0;
    double analysis = 0.0;
    for (const Shape& shape : shapes) {
        values.resize(static_cast<std::size_t>(shape.rows * shape.cols));
        for (float& v : values)
            v = normal(rng);
        const std::vector<int64_t> dims =
            shape.rows == 1 ? std::vector<int64_t>{shape.cols} : std::vector<int64_t>{shape.rows, shape.cols};
        QuantSpec tensorSpec = spec;
        if (dims.size() == 1)
            tensorSpec.axis = 0;
        const Tensor tensor(shape.name, dims, values);
        const auto start = std::chrono::steady_clock::now();
        const TensorAnalysis result = analyzeTensor(tensor, tensorSpec, {});
        analysis += seconds(std::chrono::steady_clock::now() - start);
        document.tensors.push_back(
            {shape.name, TensorKind::Weight, dims, tensorSpec, result.params, result.metrics});
        elements += shape.rows * shape.cols;
        groups += result.params.scale.size();
    }
    std::printf("model: %zu tensors, %.1f M weights (%.2f GB as float32), %zu groups of 128\n", shapes.size(),
                elements / 1e6, elements * 4 / 1e9, groups);
    std::printf("analysis (int4 symmetric, group 128, axis 1), one thread: %.2f s\n", analysis);

    const std::string inlineJson = dir + "/bench_inline.json";
    const std::string sidecarJson = dir + "/bench_sidecar.qparams.json";
    auto time = [](auto&& work) {
        const auto start = std::chrono::steady_clock::now();
        work();
        return seconds(std::chrono::steady_clock::now() - start);
    };
    const double writeInline = time([&] { document.writeFile(inlineJson, false); });
    const double readInline = time([&] { (void)QParamsDocument::readFile(inlineJson); });
    const double writeSidecar = time([&] { document.writeFile(sidecarJson, true); });
    QParamsDocument back;
    const double readSidecar = time([&] { back = QParamsDocument::readFile(sidecarJson); });
    const bool same = back.tensors.size() == document.tensors.size() &&
                      back.tensors.back().params->scale == document.tensors.back().params->scale;
    std::printf("JSON only:      write %.2f s, read %.2f s, %.1f MB\n", writeInline, readInline,
                megabytes(inlineJson));
    std::printf("JSON + sidecar: write %.2f s, read %.2f s, %.2f MB + %.1f MB sidecar%s\n", writeSidecar,
                readSidecar, megabytes(sidecarJson), megabytes(QParamsDocument::sidecarPath(sidecarJson)),
                same ? "" : "  (READ BACK DIFFERS)");
    std::printf("sidecar / JSON only: write %.3f×, read %.3f×\n", writeSidecar / writeInline,
                readSidecar / readInline);
    std::remove(inlineJson.c_str());
    std::remove(sidecarJson.c_str());
    std::remove(QParamsDocument::sidecarPath(sidecarJson).c_str());
    return same ? 0 : 1;
}
