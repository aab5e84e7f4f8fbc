// Whole-file analysis at model scale: `quantscope-cli analyze` (int8 symmetric per output channel)
// over a generated 1 GB bf16 safetensors of Qwen2.5-0.5B shapes (24 layers, hidden 896, MLP 4864,
// two KV heads, tied 151936 x 896 embedding; a few outlier input channels per weight), on one
// thread and on two, in the same run. Prints each run's file bytes per second, the two-thread
// speed-up, the CPU time (user + system) of each run and the peak resident memory against the
// largest tensor's float32 size.
//   bench_analyze_file [--dir /tmp] [--layers 24] [--cli PATH] [--keep]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#ifndef QUANTSCOPE_CLI_PATH
#define QUANTSCOPE_CLI_PATH "quantscope-cli"
#endif

namespace {

struct Shape {
    std::string name;
    std::vector<int64_t> dims;
    int64_t elements() const {
        int64_t n = 1;
        for (int64_t d : dims)
            n *= d;
        return n;
    }
};

std::vector<Shape> qwenShapes(int layers) {
    const int64_t hidden = 896, mlp = 4864, kv = 128, vocab = 151936;
    std::vector<Shape> shapes{{"model.embed_tokens.weight", {vocab, hidden}}};
    for (int l = 0; l < layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        shapes.push_back({p + "input_layernorm.weight", {hidden}});
        shapes.push_back({p + "self_attn.q_proj.weight", {hidden, hidden}});
        shapes.push_back({p + "self_attn.q_proj.bias", {hidden}});
        shapes.push_back({p + "self_attn.k_proj.weight", {kv, hidden}});
        shapes.push_back({p + "self_attn.k_proj.bias", {kv}});
        shapes.push_back({p + "self_attn.v_proj.weight", {kv, hidden}});
        shapes.push_back({p + "self_attn.v_proj.bias", {kv}});
        shapes.push_back({p + "self_attn.o_proj.weight", {hidden, hidden}});
        shapes.push_back({p + "post_attention_layernorm.weight", {hidden}});
        shapes.push_back({p + "mlp.gate_proj.weight", {mlp, hidden}});
        shapes.push_back({p + "mlp.up_proj.weight", {mlp, hidden}});
        shapes.push_back({p + "mlp.down_proj.weight", {hidden, mlp}});
    }
    shapes.push_back({"model.norm.weight", {hidden}});
    return shapes;
}

// bfloat16 of a float32, round to nearest even (finite inputs).
uint16_t bf16(float value) {
    uint32_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return static_cast<uint16_t>(bits >> 16);
}

// Writes the safetensors file: Gaussian-ish values (a sum of four uniforms) scaled 0.02, every
// 97th input column of a weight 20 times larger (the outlier channels of real LLM weights).
bool writeModel(const std::string& path, const std::vector<Shape>& shapes) {
    std::string header = "{";
    uint64_t offset = 0;
    for (std::size_t i = 0; i < shapes.size(); ++i) {
        const uint64_t bytes = static_cast<uint64_t>(shapes[i].elements()) * 2;
        header += (i ? "," : "") + std::string("\"") + shapes[i].name + "\":{\"dtype\":\"BF16\",\"shape\":[";
        for (std::size_t d = 0; d < shapes[i].dims.size(); ++d)
            header += (d ? "," : "") + std::to_string(shapes[i].dims[d]);
        header +=
            "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + bytes) + "]}";
        offset += bytes;
    }
    header += "}";
    while (header.size() % 8 != 0)
        header += ' ';
    FILE* file = std::fopen(path.c_str(), "wb");
    if (!file)
        return false;
    const uint64_t headerSize = header.size();
    std::fwrite(&headerSize, sizeof headerSize, 1, file);
    std::fwrite(header.data(), 1, header.size(), file);
    uint64_t state = 0x9e3779b97f4a7c15ull;
    std::vector<uint16_t> row;
    for (const Shape& shape : shapes) {
        const int64_t cols = shape.dims.back();
        const int64_t rows = shape.elements() / cols;
        row.resize(static_cast<std::size_t>(cols));
        for (int64_t r = 0; r < rows; ++r) {
            for (int64_t c = 0; c < cols; ++c) {
                float sum = 0.0f;
                for (int k = 0; k < 4; ++k) {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    sum += static_cast<float>(state >> 40) * (1.0f / 16777216.0f);
                }
                float value = (sum - 2.0f) * 0.0346f; // about N(0, 0.02)
                if (shape.dims.size() == 2 && c % 97 == 3)
                    value *= 20.0f;
                if (shape.dims.size() == 1)
                    value += 1.0f; // norms around one
                row[static_cast<std::size_t>(c)] = bf16(value);
            }
            std::fwrite(row.data(), sizeof(uint16_t), row.size(), file);
        }
    }
    return std::fclose(file) == 0;
}

struct Run {
    double seconds = 0.0;
    double cpuSeconds = 0.0; // user + system: what the run costs when other work shares the cores
    double peakMegabytes = 0.0;
    int status = -1;
};

Run runAnalyze(const std::string& cli, const std::string& path, int threads) {
    const auto start = std::chrono::steady_clock::now();
    const pid_t child = fork();
    if (child == 0) {
        const int null = open("/dev/null", O_WRONLY);
        dup2(null, STDOUT_FILENO);
        const std::string threadText = std::to_string(threads);
        execl(cli.c_str(), cli.c_str(), "analyze", path.c_str(), "--scheme", "symmetric", "--granularity",
              "channel", "--threads", threadText.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    Run run;
    struct rusage usage {};
    wait4(child, &run.status, 0, &usage);
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    run.peakMegabytes = static_cast<double>(usage.ru_maxrss) / 1024.0; // kilobytes on Linux
    const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * t.tv_usec; };
    run.cpuSeconds = seconds(usage.ru_utime) + seconds(usage.ru_stime);
    return run;
}

} // namespace

int main(int argc, char** argv) {
    std::string dir = "/tmp";
    std::string cli = QUANTSCOPE_CLI_PATH;
    int layers = 24;
    bool keep = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--keep") == 0)
            keep = true;
        else if (i + 1 < argc && std::strcmp(argv[i], "--dir") == 0)
            dir = argv[++i];
        else if (i + 1 < argc && std::strcmp(argv[i], "--layers") == 0)
            layers = std::atoi(argv[++i]);
        else if (i + 1 < argc && std::strcmp(argv[i], "--cli") == 0)
            cli = argv[++i];
    }
    const auto shapes = qwenShapes(layers);
    const std::string path = dir + "/quantscope_bench_qwen_shapes.safetensors";
    const auto writeStart = std::chrono::steady_clock::now();
    if (!writeModel(path, shapes)) {
        std::fprintf(stderr, "bench_analyze_file: cannot write %s\n", path.c_str());
        return 1;
    }
    struct stat status {};
    stat(path.c_str(), &status);
    const double gigabytes = static_cast<double>(status.st_size) / 1e9;
    int64_t largest = 0;
    for (const Shape& shape : shapes)
        largest = std::max(largest, shape.elements());
    const double largestFp32 = static_cast<double>(largest) * 4.0 / 1e6;
    std::printf("file: %s, %.3f GB bf16, %zu tensors, written in %.1f s; largest tensor %.0f MB as float32\n",
                path.c_str(), gigabytes, shapes.size(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - writeStart).count(),
                largestFp32);

    // A first pass brings the file into the page cache, so that both timed runs read from memory.
    runAnalyze(cli, path, 2);
    const Run one = runAnalyze(cli, path, 1);
    const Run two = runAnalyze(cli, path, 2);
    if (!keep)
        std::remove(path.c_str());
    if (one.status != 0 || two.status != 0) {
        std::fprintf(stderr, "bench_analyze_file: quantscope-cli analyze failed (status %d, %d)\n",
                     one.status, two.status);
        return 1;
    }
    std::printf("analyze int8 symmetric per channel, all tensors\n");
    // CPU seconds alongside: on a shared machine the wall clock also counts waiting for a core.
    std::printf(
        "  1 thread : %6.2f s  %5.2f GB/s of file  CPU %5.2f s (%5.2f GB per CPU-s)  peak RSS %6.0f MB "
        "(%.2f x largest fp32)\n",
        one.seconds, gigabytes / one.seconds, one.cpuSeconds, gigabytes / one.cpuSeconds, one.peakMegabytes,
        one.peakMegabytes / largestFp32);
    std::printf(
        "  2 threads: %6.2f s  %5.2f GB/s of file  CPU %5.2f s (%5.2f GB per CPU-s)  peak RSS %6.0f MB "
        "(%.2f x largest fp32)\n",
        two.seconds, gigabytes / two.seconds, two.cpuSeconds, gigabytes / two.cpuSeconds, two.peakMegabytes,
        two.peakMegabytes / largestFp32);
    std::printf("  speed-up of 2 threads over 1: %.2f x\n", one.seconds / two.seconds);
    return 0;
}
