// CPU feature detection, path choice (QUANTSCOPE_ISA), OpenBLAS's kernel set, the registry, the
// fixed-point multiplier and the thread pool.
#include "tst_kernels_paths.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/BlasCore.h"
#include "quantscope/kernels/CpuFeatures.h"
#include "quantscope/kernels/FixedPointMultiplier.h"
#include "quantscope/kernels/KernelRegistry.h"
#include "quantscope/kernels/ThreadPool.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <atomic>
#include <cmath>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>

using namespace quantscope;
using namespace quantscope::kernels;

class TestKernelsDispatch : public QObject {
    Q_OBJECT

private slots:
    // On Linux the kernel lists the CPU flags it saw (with OS support for the state already
    // taken into account); our cpuid/xgetbv reading must agree with it.
    void featuresAgreeWithProcCpuinfo() {
        std::ifstream cpuinfo("/proc/cpuinfo");
        if (!cpuinfo)
            QSKIP("/proc/cpuinfo is not available here");
        std::string line;
        std::set<std::string> flags;
        while (std::getline(cpuinfo, line))
            if (line.rfind("flags", 0) == 0) {
                std::istringstream words(line.substr(line.find(':') + 1));
                std::string word;
                while (words >> word)
                    flags.insert(word);
                break;
            }
        if (flags.empty())
            QSKIP("/proc/cpuinfo has no flags line");
        const CpuFeatures& f = CpuFeatures::host();
        qInfo("detected: %s", f.description().c_str());
        QCOMPARE(f.avx2, flags.count("avx2") > 0);
        QCOMPARE(f.fma, flags.count("fma") > 0);
        QCOMPARE(f.f16c, flags.count("f16c") > 0);
        QCOMPARE(f.avx512f, flags.count("avx512f") > 0);
        QCOMPARE(f.avx512bw, flags.count("avx512bw") > 0);
        QCOMPARE(f.avx512vl, flags.count("avx512vl") > 0);
        QCOMPARE(f.avx512vnni, flags.count("avx512_vnni") > 0);
        QCOMPARE(f.avx512bf16, flags.count("avx512_bf16") > 0);
    }

    void choosePath() {
        QCOMPARE(KernelRegistry::choose("scalar"), IsaPath::Scalar);
        QVERIFY(contains(CpuFeatures::host().supportedPaths(), IsaPath::Scalar));
        // Unset: the best usable path.
        const IsaPath best = KernelRegistry::choose(nullptr);
        QVERIFY(KernelRegistry::isUsable(best));
        if (KernelRegistry::isUsable(IsaPath::Avx512))
            QCOMPARE(best, IsaPath::Avx512);
        else if (KernelRegistry::isUsable(IsaPath::Avx2))
            QCOMPARE(best, IsaPath::Avx2);
        for (IsaPath path : {IsaPath::Avx2, IsaPath::Avx512}) {
            if (KernelRegistry::isUsable(path)) {
                QCOMPARE(KernelRegistry::choose(isaName(path)), path);
            } else {
                try {
                    KernelRegistry::choose(isaName(path));
                    QFAIL("an unusable path was accepted");
                } catch (const Error& error) {
                    QCOMPARE(error.subject(), std::string("QUANTSCOPE_ISA"));
                }
            }
        }
        try {
            KernelRegistry::choose("sse9");
            QFAIL("an unknown path was accepted");
        } catch (const Error& error) {
            QCOMPARE(error.subject(), std::string("QUANTSCOPE_ISA"));
            QVERIFY(error.detail().find("scalar, avx2, avx512") != std::string::npos);
        }
    }

    void registryListsEveryPath() {
        const auto& entries = KernelRegistry::entries();
        QCOMPARE(entries.size(), size_t{3});
        QVERIFY(entries[0].table != nullptr); // scalar is always built
        for (const auto& entry : entries) {
            if (!entry.table) {
                qInfo("%s: not built", isaName(entry.path));
                continue;
            }
            QCOMPARE(entry.table->path, entry.path);
            QVERIFY(entry.table->quantizeS8 && entry.table->quantizeU8 && entry.table->dequantizeS8 &&
                    entry.table->dequantizeU8 && entry.table->f32ToF16 && entry.table->f16ToF32 &&
                    entry.table->f32ToBf16 && entry.table->bf16ToF32 && entry.table->int8GemmPanels);
        }
        const KernelTable& scalar = KernelRegistry::scalarTable();
        QVERIFY(scalar.int4GemvF32 && scalar.int4GemvS8 && scalar.bf16GemmPanels); // the fallbacks exist
    }

    // gemmlowp's representation and rounding, checked against double precision: within
    // 1 + |x M| 2^-30 of x * M; ties follow gemmlowp (upward in the high multiply, away from zero in the
    // shift).
    void fixedPointMultiplier() {
        const FixedPointMultiplier half(0.5);
        QCOMPARE(half.multiplier(), 1 << 30);
        QCOMPARE(half.shift(), 0);
        QCOMPARE(half.apply(3), 2);   // 1.5 -> 2
        QCOMPARE(half.apply(-3), -1); // the high multiply rounds ties upward, as gemmlowp's does
        QCOMPARE(half.apply(4), 2);
        const FixedPointMultiplier quarter(0.25);
        QCOMPARE(quarter.multiplier(), 1 << 30);
        QCOMPARE(quarter.shift(), -1);
        QCOMPARE(quarter.apply(5),
                 2); // 1.25: high multiply 2.5 -> 3, shift 1.5 -> 2 (gemmlowp double rounding)
        QCOMPARE(quarter.apply(6), 2);   // 1.5 -> 2
        QCOMPARE(quarter.apply(-6), -2); // -1.5 -> -2
        QCOMPARE(FixedPointMultiplier(0.0).apply(123456), 0);
        QCOMPARE(FixedPointMultiplier(3.0).apply(1000), 3000);
        QCOMPARE(FixedPointMultiplier(4.0).apply(INT32_MAX / 2), INT32_MAX); // saturates
        QVERIFY_THROWS_EXCEPTION(Error, FixedPointMultiplier(-1.0));
        QVERIFY_THROWS_EXCEPTION(Error, FixedPointMultiplier(std::nan("")));
        QVERIFY_THROWS_EXCEPTION(Error, FixedPointMultiplier(1e9));

        std::mt19937 rng(kerneltest::seed("fixedPointMultiplier"));
        std::uniform_real_distribution<double> exponent(-30.0, 4.0);
        std::uniform_int_distribution<int32_t> value(-2000000000, 2000000000);
        for (int i = 0; i < 200000; ++i) {
            const double real = std::pow(2.0, exponent(rng));
            const FixedPointMultiplier m(real);
            QVERIFY(std::fabs(m.real() - real) <= real * 1e-9);
            int32_t x = value(rng);
            if (std::fabs(x * real) > 2e9)
                x = static_cast<int32_t>(x / (real * 2));
            const double exact = static_cast<double>(x) * real;
            const int32_t got = m.apply(x);
            // 1 for the two roundings, plus m0's own rounding (relative 2^-31, taken as 2^-30).
            if (std::fabs(got - exact) > 1.0 + std::ldexp(std::fabs(exact), -30))
                QFAIL(qPrintable(QStringLiteral("M=%1 x=%2: %3, double gives %4")
                                     .arg(real, 0, 'g', 17)
                                     .arg(x)
                                     .arg(got)
                                     .arg(exact, 0, 'g', 17)));
        }
    }

    // The CLI reports a bad QUANTSCOPE_ISA as an input error (exit 1) naming the variable, and a
    // tiny bench run writes the documented JSON.
    // OpenBLAS's generic kernel sets are replaced by the best one the CPU runs; a set chosen for
    // the CPU (or a CPU without AVX2) is left alone.
    void blasCoreChoice() {
        CpuFeatures avx512;
        avx512.avx2 = avx512.fma = avx512.osSavesYmm = true;
        avx512.avx512f = avx512.avx512bw = avx512.avx512dq = avx512.avx512vl = avx512.osSavesZmm = true;
        CpuFeatures avx2 = avx512;
        avx2.avx512f = avx2.avx512bw = avx2.avx512dq = avx2.avx512vl = avx2.osSavesZmm = false;
        CpuFeatures zmmNotSaved = avx512;
        zmmNotSaved.osSavesZmm = false;
        CpuFeatures noFma = avx2;
        noFma.fma = false;
        QCOMPARE(BlasCore::betterCoreType("Prescott", avx512), std::string("SkylakeX"));
        QCOMPARE(BlasCore::betterCoreType("Sandybridge", avx512), std::string("SkylakeX"));
        QCOMPARE(BlasCore::betterCoreType("Nehalem", zmmNotSaved), std::string("Haswell"));
        QCOMPARE(BlasCore::betterCoreType("Prescott", avx2), std::string("Haswell"));
        QCOMPARE(BlasCore::betterCoreType("Prescott", noFma), std::string());
        QCOMPARE(BlasCore::betterCoreType("Prescott", CpuFeatures()), std::string());
        for (const char* chosen : {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"})
            QCOMPARE(BlasCore::betterCoreType(chosen, avx512), std::string());
        QVERIFY(!BlasCore::name().empty());
    }

    // The CLI (like the app, and this test, through quantscope_blas_startup) starts again with
    // OPENBLAS_CORETYPE when OpenBLAS picked generic kernels on this CPU, and says which set it
    // runs. OPENBLAS_VERBOSE=2 makes OpenBLAS print "Core: NAME" each time it loads: first its
    // own choice, then, after a restart, the set named.
    void cliRunsTheBlasKernelsOfThisCpu() {
        const auto run = [](const QString& coreType, QString& out, QStringList& loads) {
            QProcess process;
            QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
            environment.remove(QStringLiteral("OPENBLAS_CORETYPE"));
            if (!coreType.isEmpty())
                environment.insert(QStringLiteral("OPENBLAS_CORETYPE"), coreType);
            environment.insert(QStringLiteral("OPENBLAS_VERBOSE"), QStringLiteral("2"));
            process.setProcessEnvironment(environment);
            process.start(QStringLiteral(QUANTSCOPE_CLI_PATH), {QStringLiteral("--version")});
            QVERIFY(process.waitForFinished(60000));
            QCOMPARE(process.exitCode(), 0);
            out = QString::fromUtf8(process.readAllStandardOutput());
            loads.clear();
            for (const QString& line : QString::fromUtf8(process.readAllStandardError()).split(u'\n'))
                if (line.startsWith(QStringLiteral("Core: ")))
                    loads.push_back(line.mid(6).trimmed());
        };
        QString out;
        QStringList loads;
        run(QString(), out, loads);
        QVERIFY2(!loads.isEmpty(), "OpenBLAS printed no core");
        const std::string better = BlasCore::betterCoreType(loads.front().toStdString(), CpuFeatures::host());
        if (better.empty()) {
            QCOMPARE(loads.size(), qsizetype(1)); // no restart
            QVERIFY2(out.contains(QStringLiteral("OpenBLAS kernels %1,").arg(loads.front())),
                     qPrintable(out));
        } else {
            QCOMPARE(loads.size(), qsizetype(2)); // one restart, with the better set
            QCOMPARE(loads.back(), QString::fromStdString(better));
            QVERIFY2(out.contains(QStringLiteral("OpenBLAS kernels %1,").arg(loads.back())), qPrintable(out));
        }
        // The user's choice is kept: no restart.
        run(QStringLiteral("Prescott"), out, loads);
        QCOMPARE(loads, QStringList{QStringLiteral("Prescott")});
        QVERIFY2(out.contains(QStringLiteral("OpenBLAS kernels Prescott,")), qPrintable(out));
    }

    void benchCommand() {
        const auto run = [](const QStringList& arguments, const QString& isa, QByteArray* out = nullptr,
                            QByteArray* err = nullptr) {
            QProcess process;
            QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
            if (isa.isEmpty())
                environment.remove(QStringLiteral("QUANTSCOPE_ISA"));
            else
                environment.insert(QStringLiteral("QUANTSCOPE_ISA"), isa);
            process.setProcessEnvironment(environment);
            process.start(QStringLiteral(QUANTSCOPE_CLI_PATH), arguments);
            if (!process.waitForFinished(600000))
                return -1;
            if (out)
                *out = process.readAllStandardOutput();
            if (err)
                *err = process.readAllStandardError();
            return process.exitCode();
        };
        const QStringList tiny = {QStringLiteral("bench"),   QStringLiteral("--shape"),
                                  QStringLiteral("2x17x64"), QStringLiteral("--shape"),
                                  QStringLiteral("1x16x32"), QStringLiteral("--min-time"),
                                  QStringLiteral("0.01")};
        QByteArray out, err;
        QCOMPARE(run(tiny, QStringLiteral("sse9"), nullptr, &err), 1);
        QVERIFY2(err.contains("quantscope-cli: error: QUANTSCOPE_ISA: unknown instruction set 'sse9' "
                              "(allowed: scalar, avx2, avx512)"),
                 err.constData());
        // Option values out of range are input errors (exit 1) naming the option; unknown options usage
        // errors.
        QCOMPARE(run({QStringLiteral("bench"), QStringLiteral("--shape"), QStringLiteral("0x4x4")}, QString(),
                     nullptr, &err),
                 1);
        QVERIFY2(err.contains("--shape"), err.constData());
        QCOMPARE(run({QStringLiteral("bench"), QStringLiteral("--threads"), QStringLiteral("0")}, QString(),
                     nullptr, &err),
                 1);
        QVERIFY2(err.contains("--threads"), err.constData());
        QCOMPARE(run({QStringLiteral("bench"), QStringLiteral("--bogus")}, QString()), 2);

        QCOMPARE(run(tiny + QStringList{QStringLiteral("--threads"), QStringLiteral("2"),
                                        QStringLiteral("--json"), QStringLiteral("-")},
                     QStringLiteral("scalar"), &out, &err),
                 0);
        const QJsonObject document = QJsonDocument::fromJson(out).object();
        QCOMPARE(document.value(QStringLiteral("isa")).toString(), QStringLiteral("scalar"));
        QCOMPARE(document.value(QStringLiteral("threads")).toInt(), 2);
        const QJsonArray results = document.value(QStringLiteral("results")).toArray();
        QSet<QString> kernels;
        for (const auto& value : results) {
            const QJsonObject r = value.toObject();
            kernels.insert(r.value(QStringLiteral("kernel")).toString());
            QVERIFY(r.value(QStringLiteral("gops")).toDouble() > 0.0);
            QVERIFY(r.value(QStringLiteral("ratio_to_baseline")).toDouble() > 0.0);
            const QString path = r.value(QStringLiteral("path")).toString();
            QVERIFY(path == QStringLiteral("scalar") || path == QStringLiteral("openblas") ||
                    path == QStringLiteral("eigen"));
            const bool gemv = r.value(QStringLiteral("m")).toInt() == 1;
            QCOMPARE(r.value(QStringLiteral("baseline")).toString(),
                     gemv ? QStringLiteral("openblas_sgemv") : QStringLiteral("openblas_sgemm"));
        }
        for (const char* name : {"openblas_sgemm", "openblas_sgemv", "eigen_sgemm", "int8_gemm", "int8_gemv",
                                 "int4_gemv", "int4_gemm_s8act", "bf16_gemm", "bf16_gemv"})
            QVERIFY2(kernels.contains(QString::fromLatin1(name)), name);
    }

    void threadPoolCoversEveryIndexOnce() {
        for (int threads : {1, 2, 3}) {
            ThreadPool pool(threads);
            QCOMPARE(pool.threadCount(), threads);
            for (int count : {0, 1, 2, 5, 97}) {
                std::vector<std::atomic<int>> hits(static_cast<size_t>(count));
                pool.parallelFor(count, [&](int begin, int end) {
                    for (int i = begin; i < end; ++i)
                        hits[static_cast<size_t>(i)]++;
                });
                for (auto& h : hits)
                    QCOMPARE(h.load(), 1);
            }
            // An exception in the first range or in the last one (a worker's when there are
            // several) reaches the caller, and the pool keeps working.
            QVERIFY_THROWS_EXCEPTION(Error, pool.parallelFor(8, [](int begin, int) {
                if (begin == 0)
                    throw Error("work", "failed");
            }));
            QVERIFY_THROWS_EXCEPTION(Error, pool.parallelFor(8, [](int, int end) {
                if (end == 8)
                    throw Error("work", "failed");
            }));
            std::atomic<int> sum{0};
            pool.parallelFor(10, [&](int begin, int end) { sum += end - begin; });
            QCOMPARE(sum.load(), 10);
        }
        QVERIFY_THROWS_EXCEPTION(Error, ThreadPool(0));
    }

    void threadPoolIsReentrant() {
        ThreadPool pool(3);
        // A parallelFor inside a range of the same pool runs inline and still covers every index.
        std::vector<std::atomic<int>> hits(40 * 7);
        pool.parallelFor(40, [&](int begin, int end) {
            for (int i = begin; i < end; ++i) {
                pool.parallelFor(7, [&](int b, int e) {
                    for (int j = b; j < e; ++j)
                        hits[static_cast<size_t>(i * 7 + j)]++;
                });
            }
        });
        for (auto& h : hits)
            QCOMPARE(h.load(), 1);
        // Two threads calling the same pool at once each get their whole result.
        std::atomic<long> sums[2] = {0, 0};
        auto caller = [&](int which) {
            for (int round = 0; round < 200; ++round)
                pool.parallelFor(1000, [&](int begin, int end) {
                    long local = 0;
                    for (int i = begin; i < end; ++i)
                        local += i;
                    sums[which] += local;
                });
        };
        std::thread first(caller, 0), second(caller, 1);
        first.join();
        second.join();
        QCOMPARE(sums[0].load(), 200L * 999 * 1000 / 2);
        QCOMPARE(sums[1].load(), 200L * 999 * 1000 / 2);
    }
};

QTEST_GUILESS_MAIN(TestKernelsDispatch)
#include "tst_kernels_dispatch.moc"
