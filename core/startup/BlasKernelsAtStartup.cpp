// Linked into the test and benchmark programs: before main(), the program starts again with the
// OpenBLAS kernels the CPU has (kernels::BlasCore), as quantscope and quantscope-cli do from their
// main(). Tests then compute their in-process fp32 references with the same sgemm kernels as the
// programs they compare with, and benchmarks measure fp32 as users run it.
#include "quantscope/kernels/BlasCore.h"

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

// The program's own arguments, from /proc/self/cmdline (NUL-separated).
std::vector<std::string> ownArguments() {
    std::ifstream file("/proc/self/cmdline", std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    std::vector<std::string> arguments;
    std::string current;
    for (char c : text) {
        if (c == '\0') {
            arguments.push_back(current);
            current.clear();
        } else {
            current += c;
        }
    }
    return arguments;
}

[[maybe_unused]] const bool restarted = [] {
    std::vector<std::string> arguments = ownArguments();
    std::vector<char*> argv;
    for (std::string& argument : arguments)
        argv.push_back(argument.data());
    argv.push_back(nullptr);
    quantscope::kernels::BlasCore::restartWithBetterKernels(argv.data());
    return false;
}();

} // namespace
