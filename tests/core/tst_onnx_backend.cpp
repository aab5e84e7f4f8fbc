// Runs ONNX's own backend node tests (Debian's libonnx-testdata: one model per test with its
// input and expected output TensorProto files) through the core API: every test whose ops the
// executor supports must match its expected outputs (rtol 1e-3, atol 1e-7 as ONNX's runner;
// integer and bool outputs exactly), except those listed with a reason in
// tests/data/onnx_backend_exceptions.txt. A listed test that now passes is a failure too, so the
// list stays honest. With QUANTSCOPE_LIST_UNSUPPORTED=1 in the environment it also prints each
// test it skips as not supported, with the first reason, to see which ops would unlock the most.
#include "quantscope/Error.h"
#include "quantscope/model/Executor.h"
#include "quantscope/model/OnnxGraphLoader.h"
#include "quantscope/tensor/TensorInfo.h"

#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using namespace quantscope;
namespace fs = std::filesystem;

namespace {

const char* const kNodeTests = "/usr/share/libonnx-testdata/data/node";

// test name -> reason
std::map<std::string, std::string> readExceptions(const std::string& path) {
    std::map<std::string, std::string> exceptions;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        std::istringstream fields(line);
        std::string name, reason;
        fields >> name;
        std::getline(fields, reason);
        exceptions[name] = reason;
    }
    return exceptions;
}

// Empty when `actual` matches `expected`, otherwise what differs.
std::string compare(const Value& actual, const Value& expected) {
    if (actual.shape != expected.shape)
        return "shape " + shapeToString(actual.shape) + ", expected " + shapeToString(expected.shape);
    if (actual.dtype != expected.dtype)
        return "type " + std::string(dtypeName(actual.dtype)) + ", expected " +
               std::string(dtypeName(expected.dtype));
    for (int64_t i = 0; i < expected.size(); ++i) {
        if (expected.isInteger()) {
            if (actual.ints[i] != expected.ints[i])
                return "element " + std::to_string(i) + " is " + std::to_string(actual.ints[i]) +
                       ", expected " + std::to_string(expected.ints[i]);
            continue;
        }
        const double a = actual.data[i], e = expected.data[i];
        if (std::isnan(e) ? std::isnan(a) : (a == e || std::abs(a - e) <= 1e-7 + 1e-3 * std::abs(e)))
            continue;
        return "element " + std::to_string(i) + " is " + std::to_string(a) + ", expected " +
               std::to_string(e);
    }
    return {};
}

std::vector<fs::path> sortedEntries(const fs::path& dir, const std::string& prefix) {
    std::vector<fs::path> entries;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().filename().string().rfind(prefix, 0) == 0)
            entries.push_back(entry.path());
    }
    // input_10.pb sorts after input_9.pb: order by the number after the prefix.
    std::sort(entries.begin(), entries.end(), [&](const fs::path& a, const fs::path& b) {
        const auto number = [&](const fs::path& p) {
            return std::stoi(p.filename().string().substr(prefix.size()));
        };
        return number(a) < number(b);
    });
    return entries;
}

// Empty when the test passes, otherwise why it failed.
std::string runTest(const Graph& graph, const fs::path& dir) {
    const Executor executor(graph);
    for (const auto& dataSet : sortedEntries(dir, "test_data_set_")) {
        std::map<std::string, Value> inputs;
        const auto inputFiles = sortedEntries(dataSet, "input_");
        if (inputFiles.size() != graph.inputs.size())
            return dataSet.filename().string() + ": " + std::to_string(inputFiles.size()) +
                   " input files for " + std::to_string(graph.inputs.size()) + " inputs";
        for (std::size_t i = 0; i < inputFiles.size(); ++i)
            inputs[graph.inputs[i].name] = loadOnnxTensor(inputFiles[i].string());
        const auto outputs = executor.run(std::move(inputs));
        const auto outputFiles = sortedEntries(dataSet, "output_");
        for (std::size_t i = 0; i < outputFiles.size() && i < graph.outputs.size(); ++i) {
            const std::string difference =
                compare(outputs.at(graph.outputs[i].name), loadOnnxTensor(outputFiles[i].string()));
            if (!difference.empty())
                return dataSet.filename().string() + " output '" + graph.outputs[i].name + "': " + difference;
        }
    }
    return {};
}

} // namespace

class TestOnnxBackend : public QObject {
    Q_OBJECT

private slots:
    void nodeTests() {
        if (!fs::is_directory(kNodeTests))
            QSKIP("ONNX's backend node tests are not installed (apt-get install libonnx-testdata)");
        const auto exceptions = readExceptions(QUANTSCOPE_TEST_DATA "/onnx_backend_exceptions.txt");
        std::vector<fs::path> tests;
        for (const auto& entry : fs::directory_iterator(kNodeTests)) {
            if (entry.is_directory() && fs::exists(entry.path() / "model.onnx"))
                tests.push_back(entry.path());
        }
        std::sort(tests.begin(), tests.end());
        QVERIFY(tests.size() > 100);

        const bool listUnsupported = qEnvironmentVariableIntValue("QUANTSCOPE_LIST_UNSUPPORTED") != 0;
        int passed = 0, listedFailures = 0, unsupported = 0;
        std::vector<std::string> problems;
        for (const auto& dir : tests) {
            const std::string name = dir.filename().string();
            const bool listed = exceptions.count(name) > 0;
            std::string failure;
            try {
                const Graph graph = loadOnnxGraph((dir / "model.onnx").string());
                if (const auto parts = Executor::unsupportedParts(graph); !parts.empty()) {
                    ++unsupported;
                    if (listUnsupported)
                        qInfo("not supported: %s: %s", name.c_str(), parts.front().c_str());
                    if (listed)
                        problems.push_back(
                            name + ": listed as an exception but not supported (remove it from the list)");
                    continue;
                }
                failure = runTest(graph, dir);
            } catch (const std::exception& e) {
                failure = e.what();
            }
            if (failure.empty()) {
                ++passed;
                if (listed)
                    problems.push_back(name +
                                       ": listed as an exception but passes now (remove it from the list)");
            } else if (listed) {
                ++listedFailures;
            } else {
                problems.push_back(name + ": " + failure);
            }
        }
        const auto total = static_cast<int>(tests.size());
        qInfo("ONNX backend node tests: %d total; %d supported (%d passed, %d listed exceptions); %d not "
              "supported",
              total, total - unsupported, passed, listedFailures, unsupported);
        for (const auto& problem : problems)
            qWarning("%s", problem.c_str());
        QVERIFY2(problems.empty(),
                 qPrintable(QStringLiteral("%1 unexpected results (see above)").arg(problems.size())));
    }

    void tensorFileKeepsItsType() {
        // test_cast_FLOAT_to_INT64... is not in every release; Shape's output is int64 in every one.
        const fs::path shapeTest = fs::path(kNodeTests) / "test_shape";
        if (!fs::is_directory(shapeTest))
            QSKIP("ONNX's backend node tests are not installed");
        const Value expected = loadOnnxTensor((shapeTest / "test_data_set_0" / "output_0.pb").string());
        QCOMPARE(expected.dtype, DType::I64);
        QCOMPARE(expected.ints, (std::vector<int64_t>{3, 4, 5}));
        QVERIFY(expected.data.empty());
    }
};

QTEST_GUILESS_MAIN(TestOnnxBackend)
#include "tst_onnx_backend.moc"
