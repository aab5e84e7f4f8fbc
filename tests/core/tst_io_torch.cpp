// TorchReader: checkpoints written by torch.save (a torchvision-like state dict, a nested training
// checkpoint, strided views and every common dtype) read exactly as PyTorch sees them, and hostile
// checkpoints refused by name with an Error naming the file, without executing anything.

#include "tst_io_support.h"

#include "quantscope/io/NpzReader.h"
#include "quantscope/io/TorchReader.h"
#include "quantscope/io/WeightFile.h"

#include <QFile>

#include <filesystem>
#include <thread>

using namespace quantscope;

namespace {

std::string torchPath(const std::string& name) {
    return iotest::dataPath("pytorch/" + name);
}

// Every tensor of `checkpoint` equals, bit for bit, the values PyTorch wrote to `expected` (.npz
// of float32 arrays keyed by the dotted tensor name) and has the same shape.
bool matchesExpected(const WeightFile& checkpoint, const std::string& expected) {
    const NpzReader reference(torchPath(expected));
    if (checkpoint.tensors().size() != reference.tensors().size()) {
        qWarning("%zu tensors, expected %zu", checkpoint.tensors().size(), reference.tensors().size());
        return false;
    }
    for (const TensorInfo& info : reference.tensors()) {
        const TensorInfo* found = checkpoint.find(info.name);
        if (found == nullptr) {
            qWarning("tensor %s missing", info.name.c_str());
            return false;
        }
        const Tensor expectedValues = reference.load(info.name);
        const Tensor actual = checkpoint.load(info.name);
        if (actual.shape() != expectedValues.shape() || found->shape != expectedValues.shape()) {
            qWarning("%s: shape %s, expected %s", info.name.c_str(), shapeToString(actual.shape()).c_str(),
                     shapeToString(expectedValues.shape()).c_str());
            return false;
        }
        const auto values = expectedValues.values();
        if (!iotest::sameValues(actual, std::vector<float>(values.begin(), values.end())))
            return false;
    }
    return true;
}

} // namespace

class TestTorch : public QObject {
    Q_OBJECT

private:
    iotest::TempFiles m_files;

private slots:
    void initTestCase() { QVERIFY(m_files.isValid()); }

    void readsATorchvisionLikeStateDict() {
        const auto checkpoint = openWeightFile(torchPath("resnet_like.pt"));
        QCOMPARE(checkpoint->format(), std::string("pytorch"));
        const std::vector<std::string> names{"conv1.weight",
                                             "bn1.weight",
                                             "bn1.bias",
                                             "bn1.running_mean",
                                             "bn1.running_var",
                                             "bn1.num_batches_tracked",
                                             "layer1.0.conv1.weight",
                                             "layer1.0.bn1.weight",
                                             "layer1.0.bn1.bias",
                                             "layer1.0.bn1.running_mean",
                                             "layer1.0.bn1.running_var",
                                             "layer1.0.bn1.num_batches_tracked",
                                             "fc.weight",
                                             "fc.bias"};
        QCOMPARE(checkpoint->tensors().size(), names.size());
        for (std::size_t i = 0; i < names.size(); ++i)
            QCOMPARE(checkpoint->tensors()[i].name, names[i]); // the state dict's order
        const TensorInfo* conv = checkpoint->find("conv1.weight");
        QCOMPARE(conv->dtype, DType::F32);
        QCOMPARE(conv->shape, (std::vector<int64_t>{8, 3, 7, 7}));
        QCOMPARE(conv->bytes, uint64_t{8 * 3 * 7 * 7 * 4});
        QCOMPARE(checkpoint->find("bn1.num_batches_tracked")->dtype, DType::I64);
        QVERIFY(checkpoint->find("bn1.num_batches_tracked")->shape.empty());
        QVERIFY(iotest::sameValues(checkpoint->load("bn1.num_batches_tracked"), {123.0f}));
        QVERIFY(matchesExpected(*checkpoint, "resnet_like_expected.npz"));
    }

    void flattensANestedCheckpoint() {
        const auto checkpoint = openWeightFile(torchPath("nested.pth"));
        QVERIFY(matchesExpected(*checkpoint, "nested_expected.npz"));
        // Plain values beside the tensors are the file's metadata.
        const auto& metadata = checkpoint->metadata();
        QCOMPARE(metadata.at("epoch"), std::string("7"));
        QCOMPARE(std::stod(metadata.at("lr")), 0.01);
        QCOMPARE(metadata.at("arch"), std::string("resnet_like"));
        QCOMPARE(metadata.at("best"), std::string("True"));
        QCOMPARE(checkpoint->find("extras.1.1")->shape, (std::vector<int64_t>{3})); // an nn.Parameter
    }

    void honoursViewsAndDtypes() {
        const auto checkpoint = openWeightFile(torchPath("views.pt"));
        QVERIFY(matchesExpected(*checkpoint, "views_expected.npz"));
        // Values written out by hand for the views of base = arange(24).reshape(4, 6) / 8 - 1.
        const auto base = [](int i) { return static_cast<float>(i) / 8.0f - 1.0f; };
        QVERIFY(
            iotest::sameValues(checkpoint->load("sliced"), {base(6), base(8), base(10), base(12), base(14),
                                                            base(16), base(18), base(20), base(22)}));
        QVERIFY(iotest::sameValues(checkpoint->load("column"), {base(5), base(11), base(17), base(23)}));
        QVERIFY(iotest::sameValues(checkpoint->load("expanded"), {1.5f, 1.5f, 1.5f, -2.0f, -2.0f, -2.0f}));
        QVERIFY(iotest::sameValues(checkpoint->load("i8"), {-128.0f, -1.0f, 0.0f, 1.0f, 127.0f}));
        QVERIFY(iotest::sameValues(checkpoint->load("bool"), {1.0f, 0.0f, 1.0f}));
        QVERIFY(iotest::sameValues(checkpoint->load("scalar"), {3.25f}));
        QCOMPARE(checkpoint->find("bf16")->dtype, DType::BF16);
        QCOMPARE(checkpoint->find("fp16")->dtype, DType::F16);
        QCOMPARE(checkpoint->find("empty")->elements, uint64_t{0});
        QS_VERIFY_ERROR(checkpoint->load("nothing"), torchPath("views.pt"), "nothing", "no such tensor");
    }

    void readsAHandMadeCheckpoint() {
        // The control for the hostile files below: the same layout, valid.
        const TorchReader checkpoint(torchPath("handmade.pt"));
        QCOMPARE(checkpoint.tensors().size(), std::size_t{1});
        QVERIFY(iotest::sameValues(checkpoint.load("w"), {0, 1, 2, 3, 4, 5}));
    }

    void detectsByContent() {
        // A checkpoint renamed .bin (pytorch_model.bin) or with no extension is still one.
        for (const std::string name : {"pytorch_model.bin", "weights"}) {
            const std::string copy = m_files.path(name);
            QVERIFY(QFile::copy(QString::fromStdString(torchPath("resnet_like.pt")),
                                QString::fromStdString(copy)));
            QCOMPARE(openWeightFile(copy)->format(), std::string("pytorch"));
        }
    }

    void loadsFromSeveralThreads() {
        const TorchReader checkpoint(torchPath("views.pt"));
        const Tensor reference = checkpoint.load("sliced");
        const auto values = reference.values();
        std::vector<std::thread> threads;
        std::atomic<int> mismatches{0};
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&] {
                for (int i = 0; i < 50; ++i) {
                    const Tensor again = checkpoint.load("sliced");
                    if (!std::equal(values.begin(), values.end(), again.values().begin()))
                        ++mismatches;
                }
            });
        for (auto& thread : threads)
            thread.join();
        QCOMPARE(mismatches.load(), 0);
    }

    void refusesHostileCheckpoints_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("expected");
        QTest::newRow("os.system") << "hostile_system.pt"
                                   << "global 'posix.system', which is not allowed";
        QTest::newRow("pickled module") << "hostile_module.pt"
                                        << "global 'torch.nn.modules.linear.Linear', which is not allowed";
        QTest::newRow("missing storage") << "hostile_missing_storage.pt"
                                         << "storage \"0\" has no entry \"archive/data/0\"";
        QTest::newRow("past the storage")
            << "hostile_past_storage.pt"
            << "w: view (offset 0, size [10], stride [1]) reaches element 9 past "
               "the end of storage \"0\" (6 elements)";
        QTest::newRow("short storage") << "hostile_short_storage.pt"
                                       << "storage \"0\" holds 12 bytes, but the pickle says 6 F32 values";
        QTest::newRow("deep nesting") << "hostile_deep.pt"
                                      << "nests containers deeper than 64 levels";
        QTest::newRow("huge memo index") << "hostile_memo.pt"
                                         << "reads memo index 4294967295, which was never stored";
        QTest::newRow("truncated pickle") << "hostile_truncated_pickle.pt"
                                          << "data.pkl at byte";
        QTest::newRow("truncated zip") << "hostile_truncated_zip.pt"
                                       << "cannot read as a PyTorch (zip) checkpoint";
        QTest::newRow("legacy") << "legacy.pt"
                                << "legacy PyTorch checkpoint";
    }

    void refusesHostileCheckpoints() {
        QFETCH(QString, file);
        QFETCH(QString, expected);
        const std::string path = torchPath(file.toStdString());
        std::filesystem::remove("/tmp/quantscope_pwned");
        QS_VERIFY_ERROR(openWeightFile(path), path, expected.toStdString());
        QVERIFY(!std::filesystem::exists("/tmp/quantscope_pwned")); // nothing was executed
    }

    void refusesAStoredEntryWhoseSizesDiffer() {
        // Found by fuzz_torch: the directory says the storage entry is stored uncompressed in 0
        // bytes yet holds 8; seeking in it made libzip read out of bounds.
        const std::string path = QUANTSCOPE_TEST_DATA "/fuzz/fuzz_torch/stored-entry-sizes-differ.pt";
        QS_VERIFY_ERROR(openWeightFile(path), path,
                        "entry \"nested/data/0\" is stored uncompressed but declares 8 bytes and 0 stored "
                        "bytes (they must be equal)");
    }

    void survivesCorruptedCheckpoints() {
        const std::string original = iotest::readBytes(torchPath("views.pt"));
        const int refused = iotest::survivedCorruptions(original, m_files.path("corrupt.pt"), original.size(),
                                                        300, [](const std::string& path) {
                                                            const auto file = openWeightFile(path);
                                                            for (const TensorInfo& info : file->tensors())
                                                                file->load(info.name);
                                                        });
        QVERIFY(refused > 0);
    }
};

QTEST_GUILESS_MAIN(TestTorch)
#include "tst_io_torch.moc"
