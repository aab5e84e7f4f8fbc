#pragma once

#include <string>
#include <vector>

namespace quantscope::cli {

// Each subcommand takes the arguments after its name and returns the exit code (0 success,
// 1 failed input or work). Usage mistakes throw UsageError, input problems quantscope::Error.
int runInfo(const std::vector<std::string>& arguments);
int runAnalyze(const std::vector<std::string>& arguments);
int runQuantize(const std::vector<std::string>& arguments);
int runCalibrate(const std::vector<std::string>& arguments);
int runEval(const std::vector<std::string>& arguments);
int runBench(const std::vector<std::string>& arguments);
int runBenchModel(const std::vector<std::string>& arguments);
int runOps(const std::vector<std::string>& arguments);
int runDump(const std::vector<std::string>& arguments);
int runConvert(const std::vector<std::string>& arguments);
int runConventions(const std::vector<std::string>& arguments);
int runExportQdq(const std::vector<std::string>& arguments);
int runPlan(const std::vector<std::string>& arguments);

} // namespace quantscope::cli
