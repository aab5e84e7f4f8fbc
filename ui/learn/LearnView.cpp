#include "learn/LearnView.h"

#include "learn/LearnBitWidthPage.h"
#include "learn/LearnCalibrationPage.h"
#include "learn/LearnDatapathPage.h"
#include "learn/LearnMappingPage.h"
#include "learn/LearnModesPage.h"
#include "learn/LearnTensorStudy.h"
#include "learn/LessonActivations.h"
#include "learn/LessonPage.h"
#include "session/AnalysisController.h"
#include "session/JobRunner.h"
#include "session/ModelComparison.h"
#include "session/Session.h"
#include "window/MainWindow.h"

#include <QDir>
#include <QEvent>
#include <QFileInfo>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QStandardPaths>
#include <QTabWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace quantscope::ui {
namespace {

ModelSetup demoSetup(const QString& weightsPath) {
    const QDir dir = QFileInfo(weightsPath).dir();
    return {dir.filePath(QStringLiteral("digits_mlp.onnx")), dir.filePath(QStringLiteral("digits_test.npy")),
            dir.filePath(QStringLiteral("digits_test_labels.npy")),
            dir.filePath(QStringLiteral("digits_calib.npy"))};
}

} // namespace

LearnView::LearnView(Session* session, AnalysisController* controller, JobRunner* jobs,
                     ModelComparison* comparison, QWidget* parent)
    : QWidget(parent), m_session(session), m_controller(controller), m_jobs(jobs), m_comparison(comparison),
      m_banner(new QLabel(this)), m_present(new QPushButton(tr("Present"), this)),
      m_pages(new QTabWidget(this)), m_mapping(new LearnMappingPage(this)),
      m_bitWidth(new LearnBitWidthPage(this)), m_calibration(new LearnCalibrationPage(this)),
      m_modes(new LearnModesPage(comparison, this)), m_datapath(new LearnDatapathPage(jobs, this)),
      m_lessons(new LessonPage(this)) {
    m_banner->setWordWrap(true);
    m_banner->setTextFormat(Qt::RichText);
    m_present->setCheckable(true);
    m_present->setToolTip(
        tr("Presentation mode (F5): full screen, side panels hidden, type and lines sized for the screen; "
           "PgUp / PgDn turn the pages"));
    // The button beside the page tabs: the banner's line can go in presentation mode.
    m_pages->setCornerWidget(m_present, Qt::TopRightCorner);
    m_pages->addTab(m_mapping, tr("1 · Mapping"));
    m_pages->addTab(m_bitWidth, tr("2 · Bits and granularity"));
    m_pages->addTab(m_calibration, tr("3 · Calibration"));
    m_pages->addTab(m_modes, tr("4 · Static vs dynamic"));
    m_pages->addTab(m_datapath, tr("5 · Integer datapath"));
    m_pages->addTab(m_lessons, tr("6 · Lessons"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_banner);
    layout->addWidget(m_pages, 1);
    m_banner->setText(tr("<b>Learn</b> — quantization with the live numbers of the selected tensor. "
                         "Pick a ready-made lesson on page 6."));
    m_bannerIsIntro = true;

    connect(m_present, &QPushButton::toggled, this, &LearnView::presentationRequested);
    connect(m_lessons, &LessonPage::presentationRequested, this, &LearnView::presentationRequested);
    connect(m_lessons, &LessonPage::lessonChosen, this, &LearnView::applyLesson);
    connect(session, &Session::activationsChanged, this, [this] { m_study.reset(); });
    connect(session, &Session::currentRowChanged, this, &LearnView::scheduleStudy);
    connect(session, &Session::settingsChanged, this, [this](const QList<int>& rows) {
        if (rows.contains(m_session->currentRow()))
            scheduleStudy();
    });
    connect(session, &Session::fileChanged, this, &LearnView::onFileChanged);
    connect(controller, &AnalysisController::previewChanged, this, [this] {
        // The histogram of a newly loaded tensor arrives here: redraw with it.
        if (m_study && studyIsCurrent())
            showStudy();
    });
    connect(controller, &AnalysisController::openFailed, this,
            [this](const QString&, const QString& message) {
                if (m_pendingLesson.isEmpty())
                    return;
                setBanner(tr("<b>The lesson could not open its data:</b> %1").arg(message.toHtmlEscaped()));
                m_pendingLesson.clear();
            });
    connect(jobs, &JobRunner::finished, this, [this](int id, const QVariant& value) {
        if (id != m_studyJob)
            return;
        m_studyJob = 0;
        m_study = value.value<std::shared_ptr<const LearnTensorStudy>>();
        showStudy();
        emit studyChanged();
    });
    connect(jobs, &JobRunner::failed, this, [this](int id, const QString& message) {
        if (id != m_studyJob)
            return;
        m_studyJob = 0;
        m_studyFailed = true;
        m_study.reset();
        const QString text = tr("This tensor cannot be studied with these settings: %1").arg(message);
        m_mapping->clear(text);
        m_bitWidth->clear(text);
        m_calibration->clear(text);
        emit studyChanged();
    });
    connect(jobs, &JobRunner::cancelled, this, [this](int id) {
        if (id == m_studyJob)
            m_studyJob = 0;
    });
    connect(comparison, &ModelComparison::changed, this, &LearnView::updateDatapathModel);
    updateDatapathModel();
}

void LearnView::showPage(LessonPreset::Page page) {
    m_pages->setCurrentIndex(static_cast<int>(page));
}

void LearnView::stepPage(int delta) {
    m_pages->setCurrentIndex(std::clamp(m_pages->currentIndex() + delta, 0, m_pages->count() - 1));
}

void LearnView::setPresenting(bool on) {
    const QSignalBlocker blocker(m_present);
    m_present->setChecked(on);
    // The introduction is for the person at the desk, not the room: its line goes to the lesson.
    m_banner->setVisible(!on || !m_bannerIsIntro);
}

void LearnView::setBanner(const QString& text) {
    m_banner->setText(text);
    m_bannerIsIntro = false;
    m_banner->setVisible(true);
}

LessonPreset::Page LearnView::currentPage() const {
    return static_cast<LessonPreset::Page>(m_pages->currentIndex());
}

void LearnView::setValue(double x) {
    const int row = m_session->currentRow();
    if (row >= 0)
        m_mapping->setValueFor(x, m_session->info(row).name);
    else
        m_mapping->setValue(x);
}

QString LearnView::stepsText() const {
    return m_mapping->stepsText();
}

bool LearnView::studyIsCurrent() const {
    const int row = m_session->currentRow();
    return m_study && row >= 0 && m_study->tensorName == m_session->info(row).name &&
           m_study->settings == m_session->settings(row);
}

bool LearnView::isSettled() const {
    const bool datapathDone = !m_comparison->setup() ||
                              (!m_datapath->isBusy() && (m_datapath->result() || m_datapath->hasFailed()));
    return m_pendingLesson.isEmpty() && m_studyJob == 0 && !m_studyStale &&
           (studyIsCurrent() || m_studyFailed) && datapathDone;
}

void LearnView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (m_studyStale)
        startStudy();
}

void LearnView::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    // Presentation mode changes the application font: the lessons' text sizes follow it.
    if (event->type() == QEvent::FontChange && m_study)
        showStudy();
}

void LearnView::scheduleStudy() {
    m_studyStale = true;
    // Measured only while someone looks: the sweep costs some twenty analyses of the tensor.
    if (isVisible())
        startStudy();
}

void LearnView::startStudy() {
    m_studyStale = false;
    m_studyFailed = false;
    const int row = m_session->currentRow();
    if (!m_session->hasTensors() || row < 0) {
        if (m_studyJob)
            m_jobs->cancel(m_studyJob);
        m_studyJob = 0;
        m_study.reset();
        const QString text =
            tr("Open a file (or the demo, Ctrl+D) and select a tensor: its numbers appear here.");
        m_mapping->clear(text);
        m_bitWidth->clear(text);
        m_calibration->clear(text);
        return;
    }
    if (studyIsCurrent() && !m_studyJob)
        return;
    const std::shared_ptr<const WeightFile> file = m_session->source(row);
    const std::string name = m_session->info(row).name;
    const TensorSettings settings = m_session->settings(row);
    m_studyJob =
        m_jobs->start(QStringLiteral("learn"), tr("Lessons: sweeping %1").arg(QString::fromStdString(name)),
                      [file, name, settings](const ProgressCallback& progress) {
                          const Tensor tensor = file->load(name);
                          return QVariant::fromValue(std::make_shared<const LearnTensorStudy>(
                              LearnTensorStudy::compute(tensor, settings, progress)));
                      });
}

void LearnView::showStudy() {
    if (!m_study)
        return;
    const auto histogram = m_controller->histogram(m_session->currentRow());
    m_mapping->setStudy(m_study, histogram);
    m_bitWidth->setStudy(m_study);
    m_calibration->setStudy(m_study, histogram);
}

void LearnView::onFileChanged() {
    m_study.reset();
    if (!m_pendingLesson.isEmpty())
        // After every other view has seen the new file (the session selects its first tensor).
        QMetaObject::invokeMethod(this, &LearnView::finishLesson, Qt::QueuedConnection);
}

void LearnView::updateDatapathModel() {
    const auto& setup = m_comparison->setup();
    if (setup && !setup->model.isEmpty())
        m_datapath->setModel(setup->model, setup->samples, setup->calibration);
}

void LearnView::applyLesson(const QString& id) {
    const LessonPreset* lesson = LessonPreset::find(id);
    if (!lesson)
        return;
    const QString weights = MainWindow::demoWeightsPath();
    if (weights.isEmpty()) {
        setBanner(
            tr("<b>The demo is not installed</b> (resources/demo); set QUANTSCOPE_DEMO_DIR to its folder."));
        return;
    }
    // Lessons work on the demo's files; a file the user opened is replaced only when they agree.
    const QString cacheDir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation);
    const QString open = m_session->filePath();
    const bool userFile = m_session->hasFile() && QFileInfo(open) != QFileInfo(weights) &&
                          QFileInfo(open).dir() != QDir(cacheDir) &&
                          QFileInfo(open).dir() != QDir(QDir::tempPath());
    if (userFile && !m_replaceAllowed) {
        auto* ask = new QMessageBox(QMessageBox::Question, tr("Start the lesson?"),
                                    tr("The lesson “%1” works on the demo model and replaces the open file "
                                       "%2 (its settings are lost unless exported). Continue?")
                                        .arg(lesson->title, QFileInfo(open).fileName()),
                                    QMessageBox::Yes | QMessageBox::Cancel, this);
        ask->setAttribute(Qt::WA_DeleteOnClose);
        connect(ask, &QMessageBox::accepted, this, [this, id] {
            m_replaceAllowed = true;
            applyLesson(id);
            m_replaceAllowed = false;
        });
        ask->open();
        return;
    }
    m_pendingLesson = id;
    setBanner(tr("<b>%1</b> — loading…").arg(lesson->title.toHtmlEscaped()));
    if (!m_comparison->setup())
        m_comparison->setSetup(demoSetup(weights));
    const ModelSetup setup = demoSetup(weights);
    if (lesson->source == LessonPreset::Source::DemoWeights) {
        if (QFileInfo(m_session->filePath()) == QFileInfo(weights))
            finishLesson();
        else
            m_controller->openFile(weights);
        return;
    }
    // The ReLU outputs of the demo's first layer on its calibration samples, written once.
    QString cache = QStandardPaths::writableLocation(QStandardPaths::CacheLocation);
    if (cache.isEmpty() || !QDir().mkpath(cache))
        cache = QDir::tempPath();
    const QString path = QDir(cache).filePath(lesson->tensor + QStringLiteral(".npy"));
    if (QFileInfo(m_session->filePath()) == QFileInfo(path)) {
        finishLesson();
        return;
    }
    JobHandle* job = m_jobs->startJob(
        QStringLiteral("learn-activations"), tr("Computing the demo's ReLU outputs"),
        [setup, path](const ProgressCallback& progress) {
            return QVariant(QString::fromStdString(LessonActivations::writeFirstReluOutput(
                setup.model.toStdString(), setup.calibration.toStdString(), path.toStdString(), progress)));
        });
    connect(job, &JobHandle::finished, this,
            [this](const QVariant& value) { m_controller->openFile(value.toString()); });
    connect(job, &JobHandle::failed, this, [this](const QString& message) {
        m_pendingLesson.clear();
        setBanner(tr("<b>The lesson could not compute its activations:</b> %1").arg(message.toHtmlEscaped()));
    });
}

void LearnView::finishLesson() {
    const LessonPreset* lesson = LessonPreset::find(m_pendingLesson);
    m_pendingLesson.clear();
    if (!lesson)
        return;
    const int row = m_session->rowOf(lesson->tensor);
    if (row < 0) {
        setBanner(tr("<b>%1</b>: the open file has no tensor named %2.")
                      .arg(lesson->title.toHtmlEscaped(), lesson->tensor));
        return;
    }
    m_activeLesson = lesson->id;
    m_session->setCurrentRow(row);
    m_session->setSelectedRows({row});
    TensorSettings settings;
    settings.spec = lesson->spec;
    m_session->changeSettings({row}, settings, tr("Lesson: %1").arg(lesson->title));
    setBanner(QStringLiteral("<span style='font-size:large'><b>%1</b></span> — %2")
                  .arg(lesson->title.toHtmlEscaped(), lesson->explanation.toHtmlEscaped()));
    if (lesson->page == LessonPreset::Datapath)
        m_datapath->setChoice(lesson->datapathLayer, 0, lesson->datapathOutput, false);
    showPage(lesson->page);
    if (lesson->value)
        m_mapping->setValue(*lesson->value);
    scheduleStudy();
}

} // namespace quantscope::ui
