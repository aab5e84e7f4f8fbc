// quantscope: the desktop app. Parses the command line and hands over to MainWindow.
#include "learn/LearnView.h"
#include "session/Session.h"
#include "window/MainWindow.h"
#include "window/ScreenshotRunner.h"

#include "quantscope/Error.h"
#include "quantscope/kernels/BlasCore.h"
#include "quantscope/quant/QuantSpec.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QMetaObject>
#include <QPalette>
#include <QTextStream>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>

using namespace quantscope;
using namespace quantscope::ui;

namespace {

int fail(const QString& message, int code = 1) {
    QTextStream(stderr) << "quantscope: error: " << message << '\n';
    return code;
}

// The command line of the app. Built twice: with a QCoreApplication when only --help or --version
// is asked (so they work without a display), and with the QApplication otherwise.
struct GuiOptions {
    GuiOptions();
    QCommandLineOption demo;
    QCommandLineOption screenshot;
    QCommandLineOption size;
    QCommandLineOption view;
    QCommandLineOption tensor;
    QCommandLineOption dtype;
    QCommandLineOption scheme;
    QCommandLineOption granularity;
    QCommandLineOption calib;
    QCommandLineOption presentation;
    QCommandLineOption learnPage;
    QCommandLineOption model;
    QCommandLineOption samples;
    QCommandLineOption labels;
    QCommandLineOption calibSamples;
    QCommandLineOption palette;
};

GuiOptions::GuiOptions()
    : demo(QStringLiteral("demo"), QStringLiteral("Open the bundled digits demo.")),
      screenshot(QStringLiteral("screenshot"), QStringLiteral("Render the window to FILE.png and exit."),
                 QStringLiteral("FILE.png")),
      size(QStringLiteral("size"), QStringLiteral("Window size for --screenshot (default 1600x1000)."),
           QStringLiteral("WxH"), QStringLiteral("1600x1000")),
      view(QStringLiteral("view"), QStringLiteral("distribution|error|compare|model|learn|conventions|map"),
           QStringLiteral("VIEW"), QStringLiteral("distribution")),
      tensor(QStringLiteral("tensor"),
             QStringLiteral("Select this tensor (a weight, or an activation of the demo model)."),
             QStringLiteral("NAME")),
      dtype(QStringLiteral("dtype"),
            QStringLiteral("Format for every tensor (int8, int4, fp8_e4m3, nf4...)."),
            QStringLiteral("NAME")),
      scheme(QStringLiteral("scheme"), QStringLiteral("affine|symmetric"), QStringLiteral("SCHEME")),
      granularity(QStringLiteral("granularity"), QStringLiteral("tensor|channel|group"), QStringLiteral("G")),
      calib(QStringLiteral("calib"), QStringLiteral("minmax|moving-average|percentile|mse|entropy|histogram"),
            QStringLiteral("METHOD")),
      presentation(
          QStringList{QStringLiteral("present"), QStringLiteral("presentation")},
          QStringLiteral("Start in presentation mode: full screen (with --screenshot: the --size), side "
                         "panels hidden, type sized for the screen.")),
      learnPage(
          QStringLiteral("learn-page"),
          QStringLiteral("Open Learn page N (1 mapping, 2 bits and granularity, 3 calibration, 4 static vs "
                         "dynamic, 5 integer datapath, 6 lessons); implies --view learn."),
          QStringLiteral("N")),
      model(QStringLiteral("model"), QStringLiteral("ONNX model to run on the samples."),
            QStringLiteral("FILE.onnx")),
      samples(QStringLiteral("samples"),
              QStringLiteral("Evaluation samples (.npy, .npz, .csv or a folder of images)."),
              QStringLiteral("FILE")),
      labels(QStringLiteral("labels"), QStringLiteral("Labels of the evaluation samples."),
             QStringLiteral("FILE")),
      calibSamples(QStringLiteral("calib-samples"),
                   QStringLiteral("Calibration samples (default: the evaluation samples)."),
                   QStringLiteral("FILE")),
      palette(QStringLiteral("palette"),
              QStringLiteral("dark|light: the colour scheme (View > Dark palette; default: as last chosen)."),
              QStringLiteral("SCHEME")) {}

void configure(QCommandLineParser& parser, const GuiOptions& o) {
    parser.setApplicationDescription(QStringLiteral("Explore how neural-network weights quantize."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(
        QStringLiteral("files"),
        QStringLiteral("Weights to open (.safetensors, .gguf, .pt, .onnx, .npy, .npz), a parameters .json to "
                       "import; an .onnx model with a samples file runs the model."),
        QStringLiteral("[files...]"));
    parser.addOptions({o.demo, o.screenshot, o.size, o.view, o.tensor, o.dtype, o.scheme, o.granularity,
                       o.calib, o.presentation, o.learnPage, o.model, o.samples, o.labels, o.calibSamples,
                       o.palette});
}

bool asksOnlyForHelpOrVersion(int argc, char* argv[]) {
    for (int i = 1; i < argc; ++i)
        for (const char* flag : {"--help", "-h", "-?", "--help-all", "--version", "-v"})
            if (qstrcmp(argv[i], flag) == 0)
                return true;
    return false;
}

void setApplicationNames() {
    QCoreApplication::setApplicationName(QStringLiteral("quantscope"));
    QCoreApplication::setOrganizationName(QStringLiteral("quantscope"));
    QCoreApplication::setApplicationVersion(QStringLiteral(QUANTSCOPE_VERSION));
}

} // namespace

int main(int argc, char* argv[]) {
    // Before anything else: the restart replaces the process.
    quantscope::kernels::BlasCore::restartWithBetterKernels(argv);
    // A screenshot needs no display: pick the offscreen platform unless the user chose one.
    for (int i = 1; i < argc; ++i)
        if (qstrcmp(argv[i], "--screenshot") == 0 && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
            qputenv("QT_QPA_PLATFORM", "offscreen");
    // --help and --version print and exit without a display (a QApplication needs one).
    if (asksOnlyForHelpOrVersion(argc, argv)) {
        QCoreApplication core(argc, argv);
        setApplicationNames();
        QCommandLineParser parser;
        configure(parser, GuiOptions());
        parser.process(core);
        return 0;
    }
    QApplication::setAttribute(Qt::AA_ShareOpenGLContexts);
    QApplication app(argc, argv);
    setApplicationNames();
    // Some dark themes keep a light AlternateBase: alternate table rows would put light text on a
    // light grey. Keep alternate rows a shade off the dark base instead.
    {
        QPalette palette = QApplication::palette();
        const QColor base = palette.color(QPalette::Base);
        const QColor alternate = palette.color(QPalette::AlternateBase);
        if (base.lightness() < 128 && std::abs(alternate.lightness() - base.lightness()) > 40) {
            palette.setColor(
                QPalette::AlternateBase,
                QColor::fromHsl(std::max(0, base.hslHue()), base.hslSaturation(), base.lightness() + 16));
            QApplication::setPalette(palette);
        }
    }

    QCommandLineParser parser;
    const GuiOptions options;
    configure(parser, options);
    const auto& [demo, screenshot, size, view, tensor, dtype, scheme, granularity, calib, presentation,
                 learnPage, model, samples, labels, calibSamples, palette] = options;
    parser.process(app);

    const QStringList views{QStringLiteral("distribution"), QStringLiteral("error"),
                            QStringLiteral("compare"),      QStringLiteral("model"),
                            QStringLiteral("learn"),        QStringLiteral("conventions"),
                            QStringLiteral("map")};
    int viewIndex = views.indexOf(parser.value(view));
    if (viewIndex < 0)
        return fail(QStringLiteral("--view: '%1' is not one of %2")
                        .arg(parser.value(view), views.join(QStringLiteral(", "))),
                    2);
    int learnPageIndex = -1;
    if (parser.isSet(learnPage)) {
        bool ok = false;
        const int page = parser.value(learnPage).toInt(&ok);
        if (!ok || page < 1 || page > LearnView::kPageCount)
            return fail(QStringLiteral("--learn-page: '%1' is not a page number 1..%2")
                            .arg(parser.value(learnPage))
                            .arg(LearnView::kPageCount),
                        2);
        if (parser.isSet(view) && viewIndex != MainWindow::Learn)
            return fail(QStringLiteral("--learn-page: the page of the Learn view, not of --view %1")
                            .arg(parser.value(view)),
                        2);
        viewIndex = MainWindow::Learn;
        learnPageIndex = page - 1;
    }
    QSize windowSize(1600, 1000);
    {
        const QStringList parts = parser.value(size).split(QLatin1Char('x'));
        bool okW = false;
        bool okH = false;
        if (parts.size() == 2)
            windowSize = QSize(parts[0].toInt(&okW), parts[1].toInt(&okH));
        if (!okW || !okH || windowSize.width() < 320 || windowSize.height() < 240 ||
            windowSize.width() > 8192 || windowSize.height() > 8192)
            return fail(
                QStringLiteral("--size: '%1' is not WxH with 320..8192 x 240..8192").arg(parser.value(size)),
                2);
    }
    // Settings from the command line apply to every tensor once the file is open.
    std::optional<QuantSpec> spec;
    try {
        if (parser.isSet(dtype) || parser.isSet(scheme) || parser.isSet(granularity) || parser.isSet(calib)) {
            spec = QuantSpec();
            if (parser.isSet(dtype))
                spec->format = QuantFormat::parse(parser.value(dtype).toStdString());
            if (parser.isSet(scheme))
                spec->scheme = parseScheme(parser.value(scheme).toStdString());
            if (parser.isSet(granularity))
                spec->granularity = parseGranularity(parser.value(granularity).toStdString());
            if (parser.isSet(calib))
                spec->calib = parseCalibMethod(parser.value(calib).toStdString());
            spec->fillImplied({.granularity = parser.isSet(granularity)});
            spec->validate();
        }
    } catch (const Error& e) {
        return fail(QString::fromStdString(e.what()), 2);
    }

    // A model runs on samples: the options come together.
    const QStringList positional = parser.positionalArguments();
    QString modelPath = parser.value(model);
    if (modelPath.isEmpty() && parser.isSet(samples))
        for (const QString& file : positional)
            if (file.endsWith(QStringLiteral(".onnx"), Qt::CaseInsensitive))
                modelPath = file;
    if (parser.isSet(samples) && modelPath.isEmpty())
        return fail(QStringLiteral("--samples: give the model too (--model FILE.onnx, or an .onnx file)"), 2);
    if (!modelPath.isEmpty() && !parser.isSet(samples))
        return fail(QStringLiteral("--model: give its samples too (--samples FILE)"), 2);
    if ((parser.isSet(labels) || parser.isSet(calibSamples)) && !parser.isSet(samples))
        return fail(QStringLiteral("--labels / --calib-samples: give the model and its --samples too"), 2);

    const QString paletteName = parser.value(palette);
    if (parser.isSet(palette) && paletteName != QStringLiteral("dark") &&
        paletteName != QStringLiteral("light"))
        return fail(QStringLiteral("--palette: '%1' is not dark or light").arg(paletteName), 2);

    MainWindow window(nullptr, !parser.isSet(screenshot));
    if (parser.isSet(palette))
        window.setDarkPalette(paletteName == QStringLiteral("dark"));
    QString path = positional.value(0, modelPath);
    const auto openRequested = [&] {
        if (parser.isSet(demo)) {
            window.openDemo();
            return;
        }
        QStringList rest = positional;
        rest.removeAll(modelPath);
        if (!rest.isEmpty())
            window.openPaths(rest);
        if (!modelPath.isEmpty())
            window.openModel(modelPath, parser.value(samples), parser.value(labels),
                             parser.value(calibSamples));
    };
    if (parser.isSet(demo)) {
        path = MainWindow::demoWeightsPath();
        if (path.isEmpty())
            return fail(QStringLiteral(
                "the demo (resources/demo/digits_mlp.safetensors) was not found; set QUANTSCOPE_DEMO_DIR"));
    }
    Session* session = window.session();
    QObject::connect(session, &Session::fileChanged, &window, [&] {
        if (spec) {
            QList<int> rows;
            for (int row = 0; row < session->tensorCount(); ++row)
                rows.append(row);
            session->setDefaultSettings({*spec, std::nullopt});
            session->changeSpec(rows, *spec, QStringLiteral("Command-line settings"));
            session->undoStack()->clear();
        }
    });
    // --tensor names a weight, or an activation of the demo model (listed once the model ran on
    // the samples); the weights and the activations may arrive in either order.
    const auto namedRow = [&] {
        const int row = session->rowOf(parser.value(tensor));
        return row >= 0 ? row : session->rowOf(parser.value(tensor), TensorKind::Activation);
    };
    const auto selectNamed = [&] {
        if (const int row = parser.isSet(tensor) ? namedRow() : -1; row >= 0)
            QMetaObject::invokeMethod(
                session, [session, row] { session->setCurrentRow(row); }, Qt::QueuedConnection);
    };
    QObject::connect(session, &Session::fileChanged, &window, selectNamed);
    QObject::connect(session, &Session::activationsChanged, &window, selectNamed);
    window.showView(static_cast<MainWindow::View>(viewIndex));
    if (learnPageIndex >= 0)
        window.learnView()->showPage(static_cast<LessonPreset::Page>(learnPageIndex));
    // A screenshot presents on a screen of the size asked for.
    if (parser.isSet(presentation) && parser.isSet(screenshot))
        window.setPresentationArea(QRect(QPoint(0, 0), windowSize));

    if (!parser.isSet(screenshot)) {
        window.show();
        if (parser.isSet(presentation))
            window.setPresentationMode(true);
        openRequested();
        return QApplication::exec();
    }
    if (path.isEmpty())
        return fail(QStringLiteral("--screenshot needs a file, a --model with --samples, or --demo"), 2);
    window.resize(windowSize);
    window.show();
    if (parser.isSet(presentation))
        window.setPresentationMode(true);
    if (window.size() != windowSize)
        std::fprintf(
            stderr,
            "quantscope: note: --size %dx%d is below what the window needs; the screenshot is %dx%d\n",
            windowSize.width(), windowSize.height(), window.width(), window.height());
    ScreenshotRunner runner(&window, parser.value(screenshot));
    int exitCode = 1;
    QObject::connect(&runner, &ScreenshotRunner::done, &app, [&](int code, const QString& message) {
        exitCode = code;
        if (code != 0)
            fail(message);
        QApplication::quit();
    });
    if (parser.isSet(tensor)) {
        const auto checkNamed = [&] {
            const bool runsModel = parser.isSet(demo) || !modelPath.isEmpty();
            const bool everythingListed = session->hasFile() && (!runsModel || session->activations());
            if (everythingListed && namedRow() < 0) {
                fail(QStringLiteral("--tensor: %1 has no tensor named '%2'").arg(path, parser.value(tensor)));
                QApplication::exit(1);
            }
        };
        QObject::connect(session, &Session::fileChanged, &window, checkNamed);
        QObject::connect(session, &Session::activationsChanged, &window, checkNamed);
    }
    openRequested();
    runner.start();
    const int loopCode = QApplication::exec();
    return loopCode != 0 ? loopCode : exitCode;
}
