// The Learn lessons that run a model (the integer datapath and the ReLU-outputs lesson) feed it as
// evaluation does: a model whose batch is fixed at 4 (tools/make_fixed_batch_demo.py, the demo MLP
// exported without dynamic axes) gives exactly the numbers of the same model with a free batch,
// the padded rows never reaching the lesson (to float precision where sgemm sums runs of another
// size in another order).
#include "learn/LearnDatapath.h"
#include "learn/LessonActivations.h"

#include "quantscope/io/NpyReader.h"

#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>

using namespace quantscope;
using namespace quantscope::ui;

namespace {

const std::string kDemo = QUANTSCOPE_SOURCE_DIR "/resources/demo/";
const std::string kFixedBatch = QUANTSCOPE_TEST_DATA "/model/digits_mlp_batch4.onnx";

LearnDatapath::Request request(const std::string& model, int layer, int sample, int output) {
    LearnDatapath::Request r;
    r.modelPath = model;
    r.samplesPath = kDemo + "digits_test.npy";
    r.calibrationPath = kDemo + "digits_calib.npy";
    r.layer = layer;
    r.sample = sample;
    r.output = output;
    r.affineWeights = true;
    return r;
}

} // namespace

class TestLearnFixedBatch : public QObject {
    Q_OBJECT
private slots:
    void datapathOfAFixedBatchModel() {
        // Sample 538 is the last of the test set: with a batch of 4 it is padded by three copies.
        for (const int sample : {7, 538}) {
            const LearnDatapath free =
                LearnDatapath::compute(request(kDemo + "digits_mlp.onnx", 1, sample, 77));
            const LearnDatapath fixed = LearnDatapath::compute(request(kFixedBatch, 1, sample, 77));
            QCOMPARE(fixed.inputs, free.inputs);
            QCOMPARE(fixed.accumulator, free.accumulator);
            QCOMPARE(fixed.output, free.output);
            QCOMPARE(fixed.fp32Output, free.fp32Output);
            QVERIFY(fixed.matchesKernel());
        }
    }

    void reluLessonOfAFixedBatchModel() {
        // 539 test samples: 134 full runs of 4 and one of 3 padded to 4.
        QTemporaryDir dir;
        const std::string samples = kDemo + "digits_test.npy";
        const std::string freePath = dir.filePath(QStringLiteral("free.npy")).toStdString();
        const std::string fixedPath = dir.filePath(QStringLiteral("fixed.npy")).toStdString();
        LessonActivations::writeFirstReluOutput(kDemo + "digits_mlp.onnx", samples, freePath);
        LessonActivations::writeFirstReluOutput(kFixedBatch, samples, fixedPath);
        const NpyReader freeReader(freePath), fixedReader(fixedPath);
        const Tensor free = freeReader.load("free"), fixed = fixedReader.load("fixed");
        QCOMPARE(fixed.shape(), free.shape());
        QCOMPARE(fixed.shape().front(), int64_t{539});
        const auto a = fixed.values(), b = free.values();
        QCOMPARE(a.size(), b.size());
        // Runs of 4 rows instead of 256 may sum in another order inside sgemm: equal to float precision.
        for (std::size_t i = 0; i < a.size(); ++i)
            QVERIFY2(std::abs(a[i] - b[i]) <= 1e-5f * std::max(1.0f, std::abs(b[i])),
                     qPrintable(QStringLiteral("value %1: %2 vs %3").arg(i).arg(a[i]).arg(b[i])));
    }
};

QTEST_GUILESS_MAIN(TestLearnFixedBatch)
#include "tst_learnfixedbatch.moc"
