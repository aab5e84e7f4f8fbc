#include "views/ModelMapView.h"

#include "session/CandidateAnalysis.h"
#include "session/Session.h"
#include "widgets/ModelMapGrid.h"
#include "widgets/ModelMapLegend.h"

#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QResizeEvent>
#include <QSplitter>
#include <QToolButton>
#include <QVBoxLayout>

namespace quantscope::ui {

ModelMapView::ModelMapView(Session* session, JobRunner* jobs, QWidget* parent)
    : QWidget(parent), m_session(session), m_candidates(new CandidateAnalysis(session, jobs, this)),
      m_grid(new ModelMapGrid(session, this)), m_legend(new ModelMapLegend(m_grid, this)),
      m_metric(new QComboBox(this)), m_source(new QComboBox(this)), m_status(new QLabel(this)),
      m_candidatesEdit(new QLineEdit(this)), m_budget(new QDoubleSpinBox(this)), m_run(new QPushButton(this)),
      m_export(new QToolButton(this)), m_planText(new QLabel(this)), m_pareto(new ParetoPlot(this)),
      m_splitter(new QSplitter(Qt::Horizontal, this)) {
    m_grid->setCandidateAnalysis(m_candidates);
    m_metric->addItem(tr("SQNR"), static_cast<int>(ModelMapGrid::Metric::Sqnr));
    m_metric->addItem(tr("Clipped %"), static_cast<int>(ModelMapGrid::Metric::Clipped));
    m_metric->setToolTip(tr("What the colours show: each tensor's SQNR, or the share of its values clipped"));
    connect(m_metric, &QComboBox::currentIndexChanged, this, [this](int index) {
        m_grid->setMetric(static_cast<ModelMapGrid::Metric>(m_metric->itemData(index).toInt()));
    });
    m_source->setToolTip(tr("Whose results the map shows: each tensor's own settings, one candidate format "
                            "for every tensor, or the format the plan chose per tensor"));
    m_source->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    connect(m_source, &QComboBox::currentIndexChanged, this, [this](int index) {
        if (index <= 0)
            m_grid->setSource(ModelMapGrid::Source::Settings);
        else if (index == m_source->count() - 1)
            m_grid->setSource(ModelMapGrid::Source::Plan);
        else
            m_grid->setSource(ModelMapGrid::Source::Candidate, index - 1);
    });
    auto* colourBy = new QLabel(tr("Colour by"), this);
    colourBy->setBuddy(m_metric);
    auto* of = new QLabel(tr("of"), this);
    of->setBuddy(m_source);
    m_status->setEnabled(false);
    auto* bar = new QHBoxLayout;
    bar->addWidget(colourBy);
    bar->addWidget(m_metric);
    bar->addWidget(of);
    bar->addWidget(m_source);
    bar->addStretch(1);
    // The legend on a row of its own: beside the selectors it made the tab's least width ~600 px,
    // which took the tensor browser's room at 1280 pixels.
    auto* legendBar = new QHBoxLayout;
    legendBar->addWidget(m_legend, 1);
    legendBar->addWidget(m_status);

    // The candidates and the plan.
    m_candidatesEdit->setText(m_candidates->candidateList());
    m_candidatesEdit->setToolTip(
        tr("Formats to compare, comma-separated, as quantscope-cli plan --candidates takes them: a format "
           "name (q4_k, q8_0, nvfp4, mxfp4…) or an integer with /channel, /tensor or /gN (int4/g128)"));
    connect(m_candidatesEdit, &QLineEdit::editingFinished, this, &ModelMapView::applyCandidates);
    auto* candidatesLabel = new QLabel(tr("Ca&ndidates"), this);
    candidatesLabel->setBuddy(m_candidatesEdit);
    m_run->setToolTip(tr("Analyse every weight in every candidate format, or stop"));
    connect(m_run, &QPushButton::clicked, this, [this] {
        if (m_candidates->isRunning())
            m_candidates->cancel();
        else
            m_candidates->start();
    });
    m_budget->setRange(0.5, 32.0);
    m_budget->setDecimals(2);
    m_budget->setSingleStep(0.25);
    m_budget->setSuffix(tr(" bits/weight"));
    m_budget->setValue(m_candidates->budget());
    m_budget->setToolTip(tr("The plan's budget: bits per weight over the planned tensors, scales included. "
                            "The plan picks a candidate per tensor for the best weighted SQNR within it, "
                            "never worse than the best single format that fits."));
    connect(m_budget, &QDoubleSpinBox::valueChanged, m_candidates, &CandidateAnalysis::setBudget);
    auto* budgetLabel = new QLabel(tr("&Budget"), this);
    budgetLabel->setBuddy(m_budget);
    m_export->setText(tr("Export plan"));
    m_export->setPopupMode(QToolButton::InstantPopup);
    auto* exportMenu = new QMenu(m_export);
    exportMenu->addAction(tr("As quantscope-qparams JSON…"), this,
                          [this] { exportPlan(QStringLiteral("qparams")); });
    exportMenu->addAction(tr("As llama.cpp --tensor-type lines…"), this,
                          [this] { exportPlan(QStringLiteral("llama")); });
    exportMenu->addAction(tr("As compressed-tensors config…"), this,
                          [this] { exportPlan(QStringLiteral("compressed-tensors")); });
    m_export->setMenu(exportMenu);
    auto* planBar = new QHBoxLayout;
    planBar->addWidget(candidatesLabel);
    planBar->addWidget(m_candidatesEdit, 1);
    planBar->addWidget(m_run);
    planBar->addSpacing(12);
    planBar->addWidget(budgetLabel);
    planBar->addWidget(m_budget);
    planBar->addWidget(m_export);

    m_planText->setWordWrap(true);
    m_planText->setTextFormat(Qt::PlainText);
    auto* side = new QWidget(this);
    auto* sideLayout = new QVBoxLayout(side);
    sideLayout->setContentsMargins(0, 0, 0, 0);
    sideLayout->addWidget(m_pareto, 1);
    sideLayout->addWidget(m_planText);
    m_splitter->addWidget(m_grid);
    m_splitter->addWidget(side);
    m_splitter->setChildrenCollapsible(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addLayout(legendBar);
    layout->addLayout(planBar);
    layout->addWidget(m_splitter, 1);
    connect(m_grid, &ModelMapGrid::scaleChanged, this, &ModelMapView::updateStatus);
    connect(m_candidates, &CandidateAnalysis::candidatesChanged, this, &ModelMapView::updateSources);
    connect(m_candidates, &CandidateAnalysis::tensorDone, this, &ModelMapView::updatePareto);
    connect(m_candidates, &CandidateAnalysis::planChanged, this, &ModelMapView::updatePareto);
    connect(m_candidates, &CandidateAnalysis::runningChanged, this, &ModelMapView::updatePareto);
    connect(m_candidates, &CandidateAnalysis::planExported, this, [this](const QString& path) {
        m_exportMessage = tr("Plan written to %1").arg(QDir::toNativeSeparators(path));
        updatePareto();
    });
    connect(m_candidates, &CandidateAnalysis::planExportFailed, this,
            [this](const QString&, const QString& message) {
                m_exportMessage.clear();
                updatePareto();
                QMessageBox::warning(this, tr("Export plan"), message);
            });
    connect(m_candidates, &CandidateAnalysis::exportingChanged, this, [this](bool exporting) {
        if (!exporting && m_exportMessage.endsWith(QChar(0x2026))) // stopped: nothing was written
            m_exportMessage.clear();
        updatePareto();
    });
    connect(session, &Session::fileChanged, this, [this] { m_exportMessage.clear(); });
    connect(session, &Session::fileChanged, this, &ModelMapView::startIfShown);
    updateSources();
    updateStatus();
}

bool ModelMapView::isComplete() const {
    return m_grid->knownCount() == m_grid->mappedCount();
}

void ModelMapView::showPlan() {
    m_source->setCurrentIndex(m_source->count() - 1);
}

void ModelMapView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    startIfShown();
}

void ModelMapView::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    // The chart needs some 420 px across to read: beside the map on a wide view, below it otherwise.
    const Qt::Orientation orientation = width() >= 1050 ? Qt::Horizontal : Qt::Vertical;
    if (orientation == m_splitter->orientation() && m_splitterSized)
        return;
    m_splitter->setOrientation(orientation);
    const int total = orientation == Qt::Horizontal ? width() : std::max(1, height() - 80);
    const int chart = orientation == Qt::Horizontal ? std::max(420, total * 2 / 5) : total * 2 / 5;
    m_splitter->setSizes({std::max(1, total - chart), chart});
    m_splitterSized = true;
}

void ModelMapView::startIfShown() {
    // The candidates cost a whole-model analysis per format: only for a user looking at the map.
    if (isVisible() && m_session->hasFile())
        m_candidates->start();
    updatePareto();
}

void ModelMapView::applyCandidates() {
    const QString text = m_candidatesEdit->text().trimmed();
    if (text == m_candidates->candidateList())
        return;
    const QString error = m_candidates->setCandidates(text);
    if (!error.isEmpty()) {
        m_candidatesEdit->setToolTip(error);
        m_candidatesEdit->setStyleSheet(QStringLiteral("QLineEdit { color: #c0392b; }"));
        m_planText->setText(error);
        return;
    }
    m_candidatesEdit->setStyleSheet({});
    startIfShown();
}

void ModelMapView::updateSources() {
    const int old = m_source->currentIndex();
    const QSignalBlocker block(m_source);
    m_source->clear();
    m_source->addItem(tr("own settings"));
    for (int c = 0; c < m_candidates->candidateCount(); ++c)
        m_source->addItem(tr("all %1").arg(m_candidates->candidateName(c)));
    m_source->addItem(tr("the plan"));
    const int index = old == 0 || old < 0 ? 0 : std::min(old, m_source->count() - 1);
    m_source->setCurrentIndex(index);
    if (index == 0)
        m_grid->setSource(ModelMapGrid::Source::Settings);
    else if (index == m_source->count() - 1)
        m_grid->setSource(ModelMapGrid::Source::Plan);
    else
        m_grid->setSource(ModelMapGrid::Source::Candidate, index - 1);
    updatePareto();
}

void ModelMapView::updatePareto() {
    const CandidateAnalysis& c = *m_candidates;
    m_run->setText(c.isRunning() ? tr("Stop") : tr("Analyse"));
    m_run->setEnabled(m_session->hasFile() && (c.isRunning() || !c.isComplete()));
    m_export->setEnabled(c.plan().has_value());
    std::vector<ParetoPlot::Point> points;
    for (int k = 0; k < c.candidateCount(); ++k)
        if (const auto uniform = c.uniform(k))
            points.push_back({c.candidateName(k), uniform->bitsPerValue, uniform->weightedSqnrDb});
    std::optional<ParetoPlot::Point> plan;
    if (c.plan())
        plan = ParetoPlot::Point{tr("plan"), c.plan()->bitsPerValue, c.plan()->weightedSqnrDb};
    QString message;
    if (!m_session->hasFile())
        message = tr("Open a weights file to compare formats");
    else if (c.plannedRows().isEmpty())
        message = tr("No tensor of rank 2 or more to compare formats on");
    else if (!c.isComplete())
        message = c.isRunning() ? tr("Analysing: %1 of %2 tensors in %3 formats")
                                      .arg(c.doneCount())
                                      .arg(c.plannedRows().size())
                                      .arg(c.candidateCount())
                                : tr("%1 of %2 tensors analysed; Analyse to go on")
                                      .arg(c.doneCount())
                                      .arg(c.plannedRows().size());
    m_pareto->setPoints(points, plan, c.isComplete() ? std::optional(c.budget()) : std::nullopt, message);
    QString text;
    if (!c.lastError().isEmpty() && !c.isRunning())
        text = c.lastError();
    else if (c.plan())
        text = c.plan()->uniform ? tr("Plan: one format for all, %1 bits per weight, weighted SQNR %2 dB")
                                       .arg(c.plan()->bitsPerValue, 0, 'f', 3)
                                       .arg(c.plan()->weightedSqnrDb, 0, 'f', 2)
                                 : tr("Plan: %1 bits per weight (budget %2), weighted SQNR %3 dB")
                                       .arg(c.plan()->bitsPerValue, 0, 'f', 3)
                                       .arg(c.budget(), 0, 'f', 2)
                                       .arg(c.plan()->weightedSqnrDb, 0, 'f', 2);
    else if (!c.planError().isEmpty())
        text = tr("No plan: %1").arg(c.planError());
    if (!m_exportMessage.isEmpty())
        text += (text.isEmpty() ? QString() : QStringLiteral("\n")) + m_exportMessage;
    m_planText->setText(text);
}

void ModelMapView::exportPlan(const QString& kind) {
    const QString base = QFileInfo(m_session->filePath()).completeBaseName();
    const QString suggested = kind == QLatin1String("llama") ? base + QStringLiteral(".tensor-types.txt")
                              : kind == QLatin1String("compressed-tensors")
                                  ? base + QStringLiteral(".quantization_config.json")
                                  : base + QStringLiteral(".plan.qparams.json");
    const QString path = QFileDialog::getSaveFileName(this, tr("Export plan"), suggested);
    if (path.isEmpty())
        return;
    // The file is written by a job (a qparams export hashes the source and analyses the planned
    // tensors again): the status bar shows its progress and a Stop, the view says when it is done.
    if (const QString error = m_candidates->exportPlan(kind, path); !error.isEmpty()) {
        QMessageBox::warning(this, tr("Export plan"), error);
        return;
    }
    m_exportMessage = tr("Exporting the plan to %1…").arg(QFileInfo(path).fileName());
    updatePareto();
}

void ModelMapView::updateStatus() {
    const int known = m_grid->knownCount();
    const int mapped = m_grid->mappedCount();
    m_status->setText(mapped == 0 ? QString()
                      : known == mapped
                          ? tr("%n tensor(s) in %1 layer(s)", nullptr, mapped).arg(m_grid->layerRowCount())
                          : tr("%1 of %2 tensors analysed").arg(known).arg(mapped));
}

} // namespace quantscope::ui
