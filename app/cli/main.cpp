// quantscope-cli: the headless front end. Parses the subcommand and hands over to core.
#include "CommandLine.h"
#include "Commands.h"
#include "ProgressBar.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/BlasCore.h"
#include "quantscope/kernels/KernelRegistry.h"

#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace {

using quantscope::cli::UsageError;

struct Subcommand {
    const char* name;
    const char* summary;
    std::function<int(const std::vector<std::string>&)> run;
};

const std::vector<Subcommand>& subcommands() {
    using namespace quantscope::cli;
    static const std::vector<Subcommand> table{
        {"info", "list the tensors of a file: name, dtype, shape, elements, bytes", runInfo},
        {"analyze", "quantization parameters and error metrics per tensor", runAnalyze},
        {"quantize", "quantize one tensor, optionally writing its integers and dequantized values",
         runQuantize},
        {"calibrate", "activation ranges of an ONNX model from samples (static quantization)", runCalibrate},
        {"eval", "accuracy, SQNR, latency, throughput and size of a model, fp32 vs quantized", runEval},
        {"bench", "int8 / int4 / bf16 kernel throughput against the fp32 OpenBLAS and Eigen baselines",
         runBench},
        {"bench-model",
         "whole-model throughput: fp32, static int8 (integer pipeline and simulation), dynamic int8",
         runBenchModel},
        {"ops", "the ONNX ops the executor runs, with their opset ranges", runOps},
        {"dump", "write one tensor's values as float32 .npy (dequantized when stored quantized)", runDump},
        {"convert",
         "convert parameter files: qparams, AIMET, TensorRT cache, ONNX Runtime, compressed-tensors",
         runConvert},
        {"conventions", "the scale and zero point each toolchain would compute for one tensor",
         runConventions},
        {"export-qdq",
         "write an ONNX model with QuantizeLinear / DequantizeLinear pairs from a parameter file",
         runExportQdq},
        {"plan", "mixed precision under a bits-per-value budget: a format per tensor, best SQNR", runPlan},
    };
    return table;
}

void printUsage(std::FILE* stream) {
    std::fprintf(stream, "usage: quantscope-cli COMMAND [ARGS...]\n\ncommands:\n");
    for (const auto& command : subcommands())
        std::fprintf(stream, "  %-12s %s\n", command.name, command.summary);
    std::fprintf(stream, "\nRun 'quantscope-cli COMMAND --help' for the options of a command.\n");
}

} // namespace

int main(int argc, char** argv) {
    quantscope::kernels::BlasCore::restartWithBetterKernels(argv);
    std::vector<std::string> arguments(argv + 1, argv + argc);
    if (arguments.empty()) {
        printUsage(stderr);
        return 2;
    }
    if (arguments[0] == "--help" || arguments[0] == "-h" || arguments[0] == "help") {
        printUsage(stdout);
        return 0;
    }
    if (arguments[0] == "--version") {
        std::printf("quantscope-cli %s\nOpenBLAS kernels %s, int8 path %s\n", QUANTSCOPE_VERSION,
                    quantscope::kernels::BlasCore::name().c_str(),
                    quantscope::kernels::isaName(quantscope::kernels::KernelRegistry::active().path));
        return 0;
    }
    quantscope::cli::ProgressBar::installInterruptHandler();
    for (const auto& command : subcommands()) {
        if (arguments[0] != command.name)
            continue;
        const std::vector<std::string> rest(arguments.begin() + 1, arguments.end());
        try {
            return command.run(rest);
        } catch (const UsageError& error) {
            std::fprintf(stderr, "quantscope-cli %s: usage error: %s\n(see 'quantscope-cli %s --help')\n",
                         command.name, error.what(), command.name);
            return 2;
        } catch (const quantscope::Cancelled&) {
            std::fprintf(stderr, "quantscope-cli: error: interrupted, no output written\n");
            return 1;
        } catch (const quantscope::Error& error) {
            std::fprintf(stderr, "quantscope-cli: error: %s\n", error.what());
            return 1;
        } catch (const std::bad_alloc&) {
            std::fprintf(stderr, "quantscope-cli: error: out of memory\n");
            return 1;
        } catch (const std::exception& error) {
            std::fprintf(stderr, "quantscope-cli: error: %s\n", error.what());
            return 1;
        }
    }
    std::fprintf(stderr, "quantscope-cli: usage error: unknown command '%s'\n\n", arguments[0].c_str());
    printUsage(stderr);
    return 2;
}
