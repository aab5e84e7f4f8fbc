// quantscope-cli ops: the ONNX ops the executor runs and the opsets of the default domain each
// one is supported at.
#include "CommandLine.h"
#include "Commands.h"
#include "OutputFiles.h"
#include "TextTable.h"

#include "quantscope/model/Executor.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace quantscope::cli {

int runOps(const std::vector<std::string>& arguments) {
    const std::vector<OptionSpec> options = withSharedOptions({
        {"--json", true, false, "write the list as JSON to FILE ('-' for stdout)"},
    });
    const CommandLine commandLine(arguments, options);
    if (commandLine.has("--help")) {
        std::printf("%s", helpText("quantscope-cli ops [--json OUT]\n"
                                   "Lists every supported op of the default ONNX domain with its opset range "
                                   "(models of opsets 7 to 21 run).",
                                   options)
                              .c_str());
        return 0;
    }
    if (!commandLine.positionals().empty())
        throw UsageError("ops takes no positional arguments");
    const auto ops = Executor::supportedOps();
    if (const auto jsonPath = commandLine.value("--json")) {
        nlohmann::ordered_json document;
        document["domain"] = "";
        document["ops"] = nlohmann::ordered_json::array();
        for (const auto& op : ops)
            document["ops"].push_back({{"op", op.op}, {"since", op.since}, {"until", op.until}});
        writeOutput(*jsonPath, document.dump(2) + "\n");
        if (*jsonPath == "-")
            return 0;
    }
    TextTable table({"op", "since", "until"});
    for (const auto& op : ops)
        table.addRow({op.op, std::to_string(op.since), std::to_string(op.until)});
    std::printf("%s", table.render({false, true, true}).c_str());
    std::printf("%zu ops; models of opsets %lld to %lld of the default domain run.\n", ops.size(),
                static_cast<long long>(Executor::kMinOpset), static_cast<long long>(Executor::kMaxOpset));
    return 0;
}

} // namespace quantscope::cli
