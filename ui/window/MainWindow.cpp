#include "window/MainWindow.h"

#include "window/DarkPalette.h"
#include "window/WelcomePage.h"

#include "learn/LearnView.h"
#include "plots/ErrorHistogramPlot.h"
#include "plots/PlotBase.h"
#include "session/AnalysisController.h"
#include "session/JobRunner.h"
#include "session/ModelComparison.h"
#include "session/ParamFileFilters.h"
#include "session/ParamsExchange.h"
#include "session/RecentFiles.h"
#include "session/Session.h"
#include "views/CompareView.h"
#include "views/ConventionsPanel.h"
#include "views/DistributionPlot.h"
#include "views/ErrorView.h"
#include "views/ModelMapView.h"
#include "views/ModelView.h"
#include "widgets/JobProgressWidget.h"
#include "widgets/MetricText.h"
#include "widgets/MetricsPanel.h"
#include "widgets/SettingsPanel.h"
#include "widgets/TensorBrowser.h"

#include "quantscope/Error.h"
#include "widgets/FitScrollArea.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QCloseEvent>
#include <QDebug>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QKeySequence>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QScreen>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace quantscope::ui {
namespace {

const QString kWeightFilter =
    QStringLiteral("Weights (*.safetensors *.gguf *.pt *.pth *.bin *.npy *.npz);;All files (*)");

QuantSpec specFromSettings(const QSettings& settings) {
    QuantSpec spec;
    try {
        spec.format = QuantFormat::parse(
            settings.value(QStringLiteral("dtype"), QStringLiteral("int8")).toString().toStdString());
        spec.scheme = parseScheme(
            settings.value(QStringLiteral("scheme"), QStringLiteral("affine")).toString().toStdString());
        spec.granularity = parseGranularity(
            settings.value(QStringLiteral("granularity"), QStringLiteral("tensor")).toString().toStdString());
        spec.axis = settings.value(QStringLiteral("axis"), 0).toInt();
        spec.groupSize = settings.value(QStringLiteral("groupSize"), 128).toLongLong();
        spec.calib = parseCalibMethod(
            settings.value(QStringLiteral("calib"), QStringLiteral("minmax")).toString().toStdString());
        spec.percentile = settings.value(QStringLiteral("percentile"), 99.99).toDouble();
        spec.narrowRange = settings.value(QStringLiteral("narrowRange"), false).toBool();
        spec.reduceRange = settings.value(QStringLiteral("reduceRange"), false).toBool();
        spec.validate();
    } catch (const Error&) {
        spec = QuantSpec(); // stored settings from another version: start from the defaults
    }
    return spec;
}

} // namespace

MainWindow::MainWindow(QWidget* parent, bool storedSettings)
    : QMainWindow(parent), m_session(new Session(this)), m_jobs(new JobRunner(this)),
      m_controller(new AnalysisController(m_session, m_jobs, this)),
      m_params(new ParamsExchange(m_session, m_jobs, this)),
      m_comparison(new ModelComparison(m_session, m_jobs, this)),
      m_browser(new TensorBrowser(m_session, this)), m_settings(nullptr), m_metrics(nullptr),
      m_views(new QTabWidget(this)), m_distribution(nullptr), m_logCounts(nullptr), m_errorView(nullptr),
      m_learn(nullptr) {
    setWindowTitle(QStringLiteral("Quantscope"));
    setAcceptDrops(true);
    m_storedSettings = storedSettings;
    if (storedSettings) {
        QSettings stored;
        stored.beginGroup(QStringLiteral("defaults"));
        m_session->setDefaultSettings({specFromSettings(stored), std::nullopt});
    }
    m_settings = new SettingsPanel(m_session, this);
    m_metrics = new MetricsPanel(m_session, m_controller, this);

    // Distribution tab: the plot and its one switch.
    auto* distributionTab = new QWidget(this);
    m_distribution = new DistributionPlot(m_session, m_controller, distributionTab);
    m_logCounts = new QCheckBox(tr("Logarithmic counts"), distributionTab);
    m_logCounts->setToolTip(tr("Show the tails: counts on a log scale (L)"));
    auto* hint = new QLabel(tr("Drag the red lines to clip by hand · wheel zooms · right-click: walk a value "
                               "through quantization, save, copy"),
                            distributionTab);
    hint->setEnabled(false);
    // A hint, not a minimum width: on a small screen it is cut, not the tensor browser.
    hint->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    hint->setToolTip(hint->text());
    auto* bar = new QHBoxLayout;
    bar->addWidget(m_logCounts);
    bar->addStretch(1);
    bar->addWidget(hint);
    auto* distributionLayout = new QVBoxLayout(distributionTab);
    distributionLayout->setContentsMargins(4, 4, 4, 4);
    distributionLayout->addLayout(bar);
    distributionLayout->addWidget(m_distribution, 1);
    connect(m_logCounts, &QCheckBox::toggled, m_distribution, &DistributionPlot::setLogScale);
    connect(m_distribution, &DistributionPlot::valueWalkRequested, this, [this](double x) {
        m_learn->showPage(LessonPreset::Mapping);
        m_learn->setValue(x);
        showView(Learn);
    });

    m_errorView = new ErrorView(m_session, this);
    m_learn = new LearnView(m_session, m_controller, m_jobs, m_comparison, this);
    connect(m_learn, &LearnView::presentationRequested, this, &MainWindow::setPresentationMode);
    m_views->addTab(distributionTab, tr("&Distribution"));
    m_views->addTab(m_errorView, tr("&Error"));
    m_views->addTab(new CompareView(m_comparison, this), tr("&Compare"));
    auto* modelView = new ModelView(m_comparison, this);
    connect(modelView, &ModelView::tensorRequested, this, [this](const QString& name, bool activation) {
        const int row = m_session->rowOf(name, activation ? TensorKind::Activation : TensorKind::Weight);
        if (row < 0)
            return showError(tr("Model"), tr("%1 is not among the open tensors").arg(name));
        m_session->setCurrentRow(row);
        showView(Distribution);
    });
    m_views->addTab(modelView, tr("&Model"));
    // The Learn pages need ~800 px; on a small screen they scroll rather than squeeze the docks.
    auto* learnScroll = new FitScrollArea(this);
    learnScroll->setWidget(m_learn);
    m_views->addTab(learnScroll, tr("&Learn"));
    m_conventions = new ConventionsPanel(m_session, m_jobs, this);
    m_views->addTab(m_conventions, tr("Co&nventions"));
    // The whole-model map: every weight by block and role; a click selects it.
    m_modelMap = new ModelMapView(m_session, m_jobs, this);
    m_views->addTab(m_modelMap, tr("M&ap"));
    m_views->setDocumentMode(true);
    // Until something is open, a welcome page stands in for the views (created with the menus,
    // which own the recent files).
    m_central = new QStackedWidget(this);
    m_central->addWidget(m_views);
    setCentralWidget(m_central);

    auto* browserDock = m_browserDock = new QDockWidget(tr("Tensors"), this);
    browserDock->setObjectName(QStringLiteral("tensors"));
    browserDock->setWidget(m_browser);
    addDockWidget(Qt::LeftDockWidgetArea, browserDock);
    auto* side = new QWidget(this);
    auto* sideLayout = new QVBoxLayout(side);
    sideLayout->setContentsMargins(0, 0, 0, 0);
    sideLayout->addWidget(m_settings);
    sideLayout->addWidget(m_metrics, 1);
    auto* settingsDock = m_settingsDock = new QDockWidget(tr("Quantization"), this);
    settingsDock->setObjectName(QStringLiteral("settings"));
    settingsDock->setWidget(side);
    addDockWidget(Qt::RightDockWidgetArea, settingsDock);

    statusBar()->addPermanentWidget(new JobProgressWidget(m_jobs, this));
    createMenus();
    m_welcome = new WelcomePage(m_recent, this);
    connect(m_welcome, &WelcomePage::demoRequested, this, &MainWindow::openDemo);
    connect(m_welcome, &WelcomePage::openRequested, this, &MainWindow::chooseAndOpen);
    connect(m_welcome, &WelcomePage::modelRequested, this, &MainWindow::chooseModel);
    connect(m_welcome, &WelcomePage::recentFileRequested, this, &MainWindow::openFile);
    connect(m_welcome, &WelcomePage::recentModelRequested, this,
            [this](const QStringList& parts) { openModel(parts[0], parts[1], parts[2], parts[3]); });
    m_central->addWidget(m_welcome);
    m_central->setCurrentWidget(m_welcome);
    for (auto signal : {&Session::fileChanged, &Session::activationsChanged})
        connect(m_session, signal, this, [this] { m_central->setCurrentWidget(m_views); });

    connect(m_controller, &AnalysisController::openFailed, this,
            [this](const QString& path, const QString& message) {
                m_weightsRequested = m_session->hasFile();
                if (!m_session->hasTensors() && !m_comparison->setup())
                    m_central->setCurrentWidget(m_welcome);
                showError(tr("Cannot open %1").arg(QFileInfo(path).fileName()), message);
            });
    connect(m_controller, &AnalysisController::fileOpened, this, [this](const QString& path) {
        if (m_storedSettings)
            m_recent->add(path);
        statusBar()->showMessage(tr("Opened %1: %n tensor(s)", nullptr, m_session->tensorCount()).arg(path),
                                 8000);
        updateTitle();
        if (m_shownOnce)
            fitBrowserDock(false);
    });
    connect(m_controller, &AnalysisController::analysisFailed, this,
            [this](const QString& message) { showError(tr("Analysis failed"), message); });
    connect(m_params, &ParamsExchange::failed, this,
            [this](const QString& message) { showError(tr("Parameters"), message); });
    connect(m_comparison, &ModelComparison::failed, this,
            [this](const QString& message) { showError(tr("Cannot run the model"), message); });
    // Export and import say what they did, in the status bar and in a note that stays until read.
    connect(m_params, &ParamsExchange::exported, this,
            [this](const QString&, int, const QString&, const QString& summary) {
                showNotice(tr("Parameters exported"), summary);
            });
    connect(m_params, &ParamsExchange::imported, this,
            [this](const QString&, int, int, const QString& summary) {
                showNotice(tr("Parameters imported"), summary);
            });
    connect(m_params, &ParamsExchange::qdqExported, this, [this](const QString&, const QString& summary) {
        showNotice(tr("Quantized model exported"), summary);
    });
    connect(m_session, &Session::activationsChanged, this, [this] {
        if (m_session->activationCount() > 0)
            statusBar()->showMessage(tr("%n activation(s) captured on %1 calibration sample(s)", nullptr,
                                        m_session->activationCount())
                                         .arg(m_comparison->samplesCaptured()),
                                     8000);
    });
    connect(m_session->undoStack(), &QUndoStack::cleanChanged, this, &MainWindow::updateTitle);
    if (m_storedSettings)
        restoreSettings();
}

MainWindow::~MainWindow() {
    // Workers hold the file and post to the session: stop them before anything else goes.
    m_jobs->cancelAll();
    m_jobs->waitForDone();
    // The undo stack signals while the session (a child) is destroyed after this destructor.
    disconnect(m_session->undoStack(), nullptr, this, nullptr);
}

void MainWindow::createMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Open weights…"), QKeySequence::Open, this, &MainWindow::chooseAndOpen);
    file->addAction(tr("Open &model and samples…"), QKeySequence(Qt::CTRL | Qt::Key_M), this,
                    &MainWindow::chooseModel);
    file->addAction(tr("Open &demo"), QKeySequence(Qt::CTRL | Qt::Key_D), this, &MainWindow::openDemo);
    m_recent = new RecentFiles(file->addMenu(tr("Open &recent")), m_storedSettings, this);
    connect(m_recent, &RecentFiles::openRequested, this, &MainWindow::openFile);
    connect(m_recent, &RecentFiles::modelRequested, this,
            [this](const QStringList& parts) { openModel(parts[0], parts[1], parts[2], parts[3]); });
    file->addSeparator();
    file->addAction(tr("&Export parameters…"), QKeySequence(Qt::CTRL | Qt::Key_E), this,
                    &MainWindow::exportParameters);
    file->addAction(tr("&Import parameters…"), QKeySequence(Qt::CTRL | Qt::Key_I), this,
                    &MainWindow::importParameters);
    QMenu* exportMenu = file->addMenu(tr("E&xport"));
    QAction* exportQdq =
        exportMenu->addAction(tr("&Quantized ONNX model…"), this, &MainWindow::exportQdqModel);
    exportQdq->setEnabled(false);
    connect(m_comparison, &ModelComparison::changed, exportQdq,
            [this, exportQdq] { exportQdq->setEnabled(m_comparison->setup().has_value()); });
    file->addSeparator();
    file->addAction(tr("&Save plot as…"), QKeySequence::Save, this, &MainWindow::savePlot);
    file->addAction(tr("&Copy plot data"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C), this, [this] {
        if (PlotBase* plot = currentPlot())
            plot->copyDataToClipboard();
    });
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    QAction* undo = m_session->undoStack()->createUndoAction(this, tr("&Undo"));
    undo->setShortcut(QKeySequence::Undo);
    QAction* redo = m_session->undoStack()->createRedoAction(this, tr("&Redo"));
    redo->setShortcuts({QKeySequence::Redo, QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z)});
    edit->addAction(undo);
    edit->addAction(redo);
    edit->addSeparator();
    edit->addAction(tr("Apply settings to &all weights"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A),
                    m_settings, &SettingsPanel::applyToAllWeights);
    edit->addAction(tr("Apply settings to all a&ctivations"), QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_A),
                    m_settings, &SettingsPanel::applyToAllActivations);
    edit->addAction(tr("&Back to calibration"), QKeySequence(Qt::CTRL | Qt::Key_B), m_settings,
                    &SettingsPanel::resetManualRange);
    edit->addAction(tr("Analyse all &tensors"), QKeySequence(Qt::CTRL | Qt::Key_R), m_controller,
                    &AnalysisController::analyzeAll);
    edit->addAction(tr("&Cancel running work"), QKeySequence(Qt::Key_Escape), m_jobs, &JobRunner::cancelAll);
    edit->addAction(tr("&Find tensor"), QKeySequence::Find, this,
                    [this] { m_browser->filterEdit()->setFocus(); });

    QMenu* view = menuBar()->addMenu(tr("&View"));
    const QStringList names{tr("Distribution"),          tr("Error"), tr("Compare"), tr("Model"), tr("Learn"),
                            tr("Toolchain conventions"), tr("Map")};
    for (int i = 0; i < names.size(); ++i)
        view->addAction(names[i], QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + i)), this,
                        [this, i] { showView(static_cast<View>(i)); });
    view->addSeparator();
    // A closed panel comes back from here.
    QAction* tensors = m_browserDock->toggleViewAction();
    tensors->setText(tr("&Tensors panel"));
    tensors->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_T));
    view->addAction(tensors);
    QAction* settings = m_settingsDock->toggleViewAction();
    settings->setText(tr("&Quantization panel"));
    settings->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Q));
    view->addAction(settings);
    view->addSeparator();
    QAction* log = view->addAction(tr("&Logarithmic counts"));
    log->setCheckable(true);
    log->setShortcut(QKeySequence(Qt::Key_L));
    connect(log, &QAction::toggled, m_logCounts, &QCheckBox::setChecked);
    connect(m_logCounts, &QCheckBox::toggled, log, &QAction::setChecked);
    m_presentation = view->addAction(tr("&Presentation mode"));
    m_presentation->setCheckable(true);
    m_presentation->setShortcut(QKeySequence(Qt::Key_F5));
    connect(m_presentation, &QAction::toggled, this, &MainWindow::setPresentationMode);
    m_darkPalette = view->addAction(tr("&Dark palette"));
    m_darkPalette->setCheckable(true);
    m_darkPalette->setToolTip(tr("Light text on dark greys, for dim rooms (kept for the next start)"));
    connect(m_darkPalette, &QAction::toggled, this, &MainWindow::setDarkPalette);
    view->addAction(tr("&Full screen"), QKeySequence::FullScreen, this,
                    [this] { setWindowState(windowState() ^ Qt::WindowFullScreen); });
    // Page keys turn the Learn pages (a presenter's remote sends them) while Learn is shown.
    QAction* nextPage = view->addAction(tr("Next Learn page"), QKeySequence(Qt::Key_PageDown), this,
                                        [this] { m_learn->stepPage(+1); });
    QAction* previousPage = view->addAction(tr("Previous Learn page"), QKeySequence(Qt::Key_PageUp), this,
                                            [this] { m_learn->stepPage(-1); });
    const auto enablePageKeys = [this, nextPage, previousPage] {
        const bool learn = m_views->currentIndex() == Learn;
        nextPage->setEnabled(learn);
        previousPage->setEnabled(learn);
    };
    connect(m_views, &QTabWidget::currentChanged, this, enablePageKeys);
    enablePageKeys();

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Quantscope"), this, [this] {
        QMessageBox::about(this, tr("About Quantscope"),
                           tr("<p><b>Quantscope %1</b></p><p>Explore how neural-network weights quantize: "
                              "histograms, clipping, error, exported parameters.</p>")
                               .arg(QStringLiteral(QUANTSCOPE_VERSION)));
    });
}

void MainWindow::openFile(const QString& path) {
    m_weightsRequested = true;
    m_central->setCurrentWidget(m_views);
    statusBar()->showMessage(tr("Opening %1…").arg(path));
    m_controller->openFile(path);
}

QString MainWindow::demoWeightsPath() {
    const QString name = QStringLiteral("digits_mlp.safetensors");
    QStringList dirs;
    if (const QString env = qEnvironmentVariable("QUANTSCOPE_DEMO_DIR"); !env.isEmpty())
        dirs << env;
    // Installed beside the program, or a build tree inside the source tree.
    QDir dir(QCoreApplication::applicationDirPath());
    dirs << dir.filePath(QStringLiteral("../share/quantscope/demo"));
    for (int up = 0; up < 5; ++up) {
        dirs << dir.filePath(QStringLiteral("resources/demo"));
        if (!dir.cdUp())
            break;
    }
    for (const QString& candidate : std::as_const(dirs))
        if (QFileInfo::exists(QDir(candidate).filePath(name)))
            return QDir::cleanPath(QDir(candidate).filePath(name));
    return {};
}

void MainWindow::openDemo() {
    const QString path = demoWeightsPath();
    if (path.isEmpty()) {
        showError(tr("Demo not found"),
                  tr("The demo model (resources/demo/digits_mlp.safetensors) is not installed; set "
                     "QUANTSCOPE_DEMO_DIR to its folder."));
        return;
    }
    openFile(path);
    const QDir dir = QFileInfo(path).dir();
    m_comparison->setSetup({dir.filePath(QStringLiteral("digits_mlp.onnx")),
                            dir.filePath(QStringLiteral("digits_test.npy")),
                            dir.filePath(QStringLiteral("digits_test_labels.npy")),
                            dir.filePath(QStringLiteral("digits_calib.npy"))});
}

void MainWindow::chooseModel() {
    ModelSetup setup;
    setup.model = QFileDialog::getOpenFileName(this, tr("Open model"), QString(), tr("ONNX model (*.onnx)"));
    if (setup.model.isEmpty())
        return;
    const QString sampleFilter = tr("Samples (*.npy *.npz *.csv);;All files (*)");
    setup.samples = QFileDialog::getOpenFileName(this, tr("Evaluation samples"),
                                                 QFileInfo(setup.model).path(), sampleFilter);
    if (setup.samples.isEmpty())
        return;
    setup.labels = QFileDialog::getOpenFileName(this, tr("Labels (cancel for none)"),
                                                QFileInfo(setup.samples).path(), sampleFilter);
    setup.calibration =
        QFileDialog::getOpenFileName(this, tr("Calibration samples (cancel to use the evaluation samples)"),
                                     QFileInfo(setup.samples).path(), sampleFilter);
    openModel(setup.model, setup.samples, setup.labels, setup.calibration);
}

void MainWindow::openModel(const QString& model, const QString& samples, const QString& labels,
                           const QString& calibration) {
    // With no weights open (or opening), the model's own initializers are the weights to browse.
    if (!m_session->hasFile() && !m_weightsRequested)
        openFile(model);
    m_pendingModel.clear();
    if (m_storedSettings)
        m_recent->addModel({model, samples, labels, calibration});
    m_central->setCurrentWidget(m_views);
    statusBar()->showMessage(
        tr("Running %1 on %2…").arg(QFileInfo(model).fileName(), QFileInfo(samples).fileName()));
    m_comparison->setSetup({model, samples, labels, calibration});
}

void MainWindow::openPaths(const QStringList& paths) {
    QString model;
    QString samples;
    QString labels;
    QStringList weights;
    QStringList parameters;
    const auto isSampleFile = [](const QFileInfo& info) {
        const QString suffix = info.suffix().toLower();
        return info.isDir() || suffix == QStringLiteral("npy") || suffix == QStringLiteral("npz") ||
               suffix == QStringLiteral("csv");
    };
    for (const QString& path : paths) {
        const QFileInfo info(path);
        const QString suffix = info.suffix().toLower();
        if (suffix == QStringLiteral("json"))
            parameters.append(path);
        else if (suffix == QStringLiteral("onnx"))
            model = path;
        else if (isSampleFile(info) &&
                 info.completeBaseName().contains(QStringLiteral("label"), Qt::CaseInsensitive))
            labels = path;
        else
            weights.append(path);
    }
    // With a model (dropped now or opened before without samples), sample files run it.
    if (!model.isEmpty() || !m_pendingModel.isEmpty()) {
        for (auto it = weights.begin(); it != weights.end();)
            if (samples.isEmpty() && isSampleFile(QFileInfo(*it))) {
                samples = *it;
                it = weights.erase(it);
            } else {
                ++it;
            }
    }
    if (!weights.isEmpty())
        openFile(weights.front());
    if (model.isEmpty())
        model = m_pendingModel;
    if (!model.isEmpty() && !samples.isEmpty()) {
        openModel(model, samples, labels);
    } else if (!model.isEmpty()) {
        if (weights.isEmpty())
            openFile(model);
        m_pendingModel = model;
        statusBar()->showMessage(
            tr("%1 opened: drop its samples (.npy, .npz, .csv or a folder of images) to run it")
                .arg(QFileInfo(model).fileName()),
            15000);
    }
    if (!parameters.isEmpty() && (m_session->hasTensors() || !weights.isEmpty()))
        m_params->importFrom(parameters.front());
}

void MainWindow::showView(View view) {
    m_central->setCurrentWidget(m_views);
    m_views->setCurrentIndex(static_cast<int>(view));
}

QRect MainWindow::presentationArea() const {
    if (m_presentationArea.isValid())
        return m_presentationArea;
    const QScreen* on = screen() ? screen() : QGuiApplication::primaryScreen();
    return on ? on->geometry() : QRect();
}

void MainWindow::setPresentationMode(bool on) {
    if (m_presentation && m_presentation->isChecked() != on)
        m_presentation->setChecked(on); // comes back here through the action's toggled signal
    m_learn->setPresenting(on);
    if (on == m_presenting)
        return;
    m_presenting = on;
    QDockWidget* docks[2] = {m_browserDock, m_settingsDock};
    if (on) {
        m_normalFont = QApplication::font();
        m_stateBeforePresenting = windowState();
        m_geometryBeforePresenting = saveGeometry();
        // The side panels make room for the lesson; they come back as they were.
        for (int i = 0; i < 2; ++i) {
            m_docksShown[i] = docks[i]->isVisible() || !isVisible();
            docks[i]->hide();
        }
    }
    const QRect area = presentationArea();
    const double scale = on ? PlotBase::scaleForScreen(area.size()) : 1.0;
    // The plots' line widths first: the font change below redraws the plots and the lessons.
    PlotBase::setPresentationMode(on, scale);
    QFont font = m_normalFont;
    font.setPointSizeF(m_normalFont.pointSizeF() * scale);
    QApplication::setFont(font);
    if (on) {
        if (m_presentationArea.isValid())
            setGeometry(m_presentationArea);
        else
            setWindowState(windowState() | Qt::WindowFullScreen);
    } else {
        setWindowState(m_stateBeforePresenting);
        restoreGeometry(m_geometryBeforePresenting);
        for (int i = 0; i < 2; ++i)
            docks[i]->setVisible(m_docksShown[i]);
    }
}

void MainWindow::setDarkPalette(bool on) {
    if (m_darkPalette->isChecked() != on)
        m_darkPalette->setChecked(on); // comes back here through the action's toggled signal
    if (on == m_dark)
        return;
    m_dark = on;
    DarkPalette::apply(on);
}

void MainWindow::showError(const QString& title, const QString& message) {
    m_lastError = message;
    statusBar()->showMessage(title + QStringLiteral(": ") + message, 15000);
    emit errorShown(message);
    // Window-modal but not blocking: the event loop (and the open session) carry on.
    auto* box = new QMessageBox(QMessageBox::Warning, title, message, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

bool MainWindow::showsWelcome() const {
    return m_central->currentWidget() == m_welcome;
}

void MainWindow::showNotice(const QString& title, const QString& message) {
    statusBar()->showMessage(message, 15000);
    m_lastNotice = message;
    // Not modal and never in the way of the work: a small box that stays until closed.
    if (!m_storedSettings)
        return; // headless runs (screenshots, tests) get the status bar only
    auto* box = new QMessageBox(QMessageBox::Information, title, message, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setWindowModality(Qt::NonModal);
    box->show();
}

void MainWindow::chooseAndOpen() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open weights"), QString(), kWeightFilter);
    if (!path.isEmpty())
        openFile(path);
}

QString MainWindow::exportBaseName() const {
    const QString base = m_session->hasFile()
                             ? m_session->filePath()
                             : QString::fromStdString(m_session->activations()->metadata().at("model"));
    return QFileInfo(base).completeBaseName();
}

void MainWindow::exportParameters() {
    if (!m_session->hasTensors())
        return showError(tr("Export parameters"), tr("Open a weights file first."));
    // One filter per format: the one chosen names the format written.
    const QStringList filters = ParamFileFilters::nameFilters(false);
    QString filter = filters.front();
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export parameters"),
        ParamFileFilters::suggestedName(exportBaseName(), QStringLiteral("qparams")),
        filters.join(QStringLiteral(";;")), &filter);
    if (path.isEmpty())
        return;
    const QString format = ParamFileFilters::formatOfFilter(filter);
    m_params->exportTo(ParamFileFilters::withSuffix(path, format), format);
}

void MainWindow::importParameters() {
    // The format is read from the content; a format's filter decides between formats that would
    // both read the file.
    QString filter;
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Import parameters"), QString(),
                                     ParamFileFilters::nameFilters(true).join(QStringLiteral(";;")), &filter);
    if (!path.isEmpty())
        m_params->importFrom(path, ParamFileFilters::formatOfFilter(filter));
}

void MainWindow::exportQdqModel() {
    const auto& setup = m_comparison->setup();
    if (!setup)
        return showError(tr("Export quantized model"),
                         tr("Open a model and its samples first (File ▸ Open model)."));
    const QString suggestion = QFileInfo(setup->model).completeBaseName() + QStringLiteral(".qdq.onnx");
    const QString path = QFileDialog::getSaveFileName(this, tr("Export quantized ONNX model"), suggestion,
                                                      tr("ONNX model (*.onnx)"));
    if (path.isEmpty())
        return;
    m_params->exportQdq(path, setup->model,
                        setup->calibration.isEmpty() ? setup->samples : setup->calibration);
}

PlotBase* MainWindow::currentPlot() const {
    switch (static_cast<View>(m_views->currentIndex())) {
    case Distribution:
        return m_distribution;
    case Error:
        return m_errorView->errorHistogram();
    default:
        return m_views->currentWidget()->findChild<PlotBase*>();
    }
}

void MainWindow::savePlot() {
    PlotBase* plot = currentPlot();
    if (!plot)
        return;
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Save plot"), QString(), tr("PNG image (*.png);;SVG drawing (*.svg);;PDF (*.pdf)"));
    if (path.isEmpty())
        return;
    if (const QString error = plot->saveTo(path); !error.isEmpty())
        showError(tr("Save plot"), error);
}

void MainWindow::updateTitle() {
    const QString name = m_session->hasFile() ? QFileInfo(m_session->filePath()).fileName() : QString();
    setWindowTitle(name.isEmpty() ? QStringLiteral("Quantscope") : name + QStringLiteral(" — Quantscope"));
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    const auto urls = event->mimeData()->urls();
    if (!urls.isEmpty() && urls.front().isLocalFile())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    const auto urls = event->mimeData()->urls();
    if (urls.isEmpty() || !urls.front().isLocalFile())
        return;
    QStringList paths;
    for (const QUrl& url : urls)
        if (url.isLocalFile())
            paths.append(url.toLocalFile());
    event->acceptProposedAction();
    openPaths(paths);
}

void MainWindow::restoreSettings() {
    QSettings stored;
    restoreGeometry(stored.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(stored.value(QStringLiteral("window/state")).toByteArray());
    m_browser->restoreColumns(stored.value(QStringLiteral("browser/columns")).toByteArray());
    m_logCounts->setChecked(stored.value(QStringLiteral("view/logCounts"), false).toBool());
    setDarkPalette(stored.value(QStringLiteral("view/darkPalette"), false).toBool());
}

void MainWindow::saveSettings() const {
    QSettings stored;
    stored.setValue(QStringLiteral("window/geometry"), saveGeometry());
    stored.setValue(QStringLiteral("window/state"), saveState());
    stored.setValue(QStringLiteral("browser/columns"), m_browser->saveColumns());
    stored.setValue(QStringLiteral("view/logCounts"), m_logCounts->isChecked());
    stored.setValue(QStringLiteral("view/darkPalette"), m_dark);
    const QuantSpec& spec = m_session->defaultSettings().spec;
    stored.beginGroup(QStringLiteral("defaults"));
    stored.setValue(QStringLiteral("dtype"), QString::fromStdString(spec.format.name()));
    stored.setValue(QStringLiteral("scheme"), QString::fromLatin1(schemeName(spec.scheme)));
    stored.setValue(QStringLiteral("granularity"), QString::fromLatin1(granularityName(spec.granularity)));
    stored.setValue(QStringLiteral("axis"), spec.axis);
    stored.setValue(QStringLiteral("groupSize"), static_cast<qlonglong>(spec.groupSize));
    stored.setValue(QStringLiteral("calib"), QString::fromLatin1(calibMethodName(spec.calib)));
    stored.setValue(QStringLiteral("percentile"), spec.percentile);
    stored.setValue(QStringLiteral("narrowRange"), spec.narrowRange);
    stored.setValue(QStringLiteral("reduceRange"), spec.reduceRange);
}

void MainWindow::showEvent(QShowEvent* event) {
    QMainWindow::showEvent(event);
    // Docks get their share of the width once the window has one (unless a saved state did it).
    if (!m_shownOnce && (!m_storedSettings || QSettings().value(QStringLiteral("window/state")).isNull()))
        fitBrowserDock(true);
    m_shownOnce = true;
}

void MainWindow::fitBrowserDock(bool firstShow) {
    // The tensor names' tails and the SQNR column, within 40 % of the window (the plots need the
    // rest); a dock the user made wider stays as wide.
    const int wanted = std::clamp(m_browser->preferredWidth(), width() * 22 / 100, width() * 40 / 100);
    if (qEnvironmentVariableIsSet("QUANTSCOPE_DEBUG_DOCKS")) {
        qInfo() << "dock" << m_browserDock->width() << "wanted" << wanted << "central min"
                << m_central->minimumSizeHint() << "settings min" << m_settingsDock->minimumSizeHint();
        for (int i = 0; i < m_views->count(); ++i)
            qInfo() << "tab" << i << m_views->widget(i)->minimumSizeHint();
    }
    if (firstShow)
        resizeDocks({m_browserDock, m_settingsDock}, {wanted, width() * 20 / 100}, Qt::Horizontal);
    else if (m_browserDock->isVisible() && !m_browserDock->isFloating() && m_browserDock->width() < wanted)
        resizeDocks({m_browserDock}, {wanted}, Qt::Horizontal);
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (m_storedSettings)
        saveSettings();
    // Stop every job now: loads and model construction poll the flag, so the destructor's wait
    // for the workers is short.
    m_jobs->cancelAll();
    event->accept();
}

} // namespace quantscope::ui
