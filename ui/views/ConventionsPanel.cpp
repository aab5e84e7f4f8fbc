#include "views/ConventionsPanel.h"

#include "session/JobRunner.h"
#include "session/Session.h"

#include "quantscope/Error.h"
#include "quantscope/analysis/TensorAnalysis.h"

#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>

namespace quantscope::ui {

struct ConventionsPanel::Comparison {
    int row = -1;
    std::vector<ToolchainResult> results; // Quantscope's own first
    QString error;
};

namespace {

// The background of a cell that differs from Quantscope's (amber, readable in light and dark themes
// with the dark text it gets).
const QColor kDiffers(255, 214, 140);

QString scaleText(float scale) {
    return QString::number(static_cast<double>(scale), 'g', 9); // every float shows exactly
}

QString sqnrText(const ToolchainResult& result) {
    if (!result.sqnrNote.empty())
        return QString::fromStdString(result.sqnrNote);
    return ConventionsPanel::tr("%1 dB").arg(result.sqnrDb, 0, 'f', 2);
}

QString specText(const QuantSpec& spec) {
    return QString::fromStdString(spec.format.name()) + QLatin1Char(' ') +
           QString::fromLatin1(schemeName(spec.scheme)) +
           (spec.narrowRange ? QStringLiteral(" narrow") : QString()) +
           (spec.reduceRange ? QStringLiteral(" reduce-range") : QString());
}

// Quantscope's own parameters for the settings, per tensor (the toolchains' rules are per tensor):
// the imported or hand-set parameters when the tensor has them, calibration otherwise.
ToolchainResult quantscopeResult(const Tensor& tensor, const TensorSettings& settings, float chosen) {
    QuantSpec spec = settings.spec;
    AnalysisOptions options;
    if (spec.granularity == Granularity::Tensor)
        options.fixedParams = settings.fixedParams();
    spec.granularity = Granularity::Tensor;
    const TensorAnalysis analysis = analyzeTensor(tensor, spec, options);
    ToolchainResult own;
    own.params.toolchain = "Quantscope";
    own.params.rule = specText(spec).toStdString() + ", " + std::string(calibMethodName(spec.calib)) +
                      (options.fixedParams ? (settings.stored        ? ", stored in the file"
                                              : settings.exactParams ? ", imported"
                                                                     : ", clipped by hand")
                                           : "");
    own.params.source = "core/src/quant/QParamsCalculator.cpp: computeQParams (PyTorch's observer rule)";
    own.params.scale = analysis.params.scale.front();
    own.params.zeroPoint = analysis.params.zeroPoint.front();
    own.params.qmin = analysis.params.qmin;
    own.params.qmax = analysis.params.qmax;
    own.params.rounding = RoundingRule::ReciprocalHalfEven;
    if (settings.spec.granularity != Granularity::Tensor)
        own.params.note = "per tensor here; the tensor is set per " +
                          std::string(granularityName(settings.spec.granularity));
    own.chosenInteger = quantizeWith(own.params, chosen);
    own.sqnrDb = analysis.metrics.sqnrDb;
    own.sqnrNote = analysis.metrics.sqnrNote;
    return own;
}

} // namespace

ConventionsPanel::ConventionsPanel(Session* session, JobRunner* jobs, QWidget* parent)
    : QWidget(parent), m_session(session), m_jobs(jobs), m_title(new QLabel(this)),
      m_message(new QLabel(this)), m_value(new QDoubleSpinBox(this)), m_block(new QSpinBox(this)),
      m_table(new QTableWidget(0, ColumnCount, this)) {
    m_title->setWordWrap(true);
    m_message->setWordWrap(true);
    m_message->setStyleSheet(QStringLiteral("color: #b00020"));
    m_message->hide();
    m_value->setRange(-1e9, 1e9);
    m_value->setDecimals(6);
    m_value->setValue(0.5);
    m_value->setKeyboardTracking(false);
    m_value->setToolTip(tr("The value whose integer each toolchain's rounding and clamping gives"));
    m_block->setRange(0, 0);
    m_block->setToolTip(tr("The block of 32 values whose llama.cpp parameters are shown (the SQNR covers "
                           "every block)"));
    m_table->setHorizontalHeaderLabels({tr("Toolchain"), tr("Scale"), tr("Zero point"), tr("qmin"),
                                        tr("qmax"), tr("Rounding"), tr("Integer"), tr("SQNR"), tr("Rule")});
    m_table->verticalHeader()->hide();
    // Compact rows: the nine rows fit above the fold at 1280 x 720.
    m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setWordWrap(false);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(Rule, QHeaderView::Stretch);

    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Value:"), this));
    controls->addWidget(m_value);
    controls->addSpacing(12);
    controls->addWidget(new QLabel(tr("llama.cpp block:"), this));
    controls->addWidget(m_block);
    controls->addStretch(1);
    auto* hint = new QLabel(tr("Highlighted: differs from Quantscope's parameters · hover a row for the "
                               "toolchain's source"),
                            this);
    hint->setEnabled(false);
    hint->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    hint->setToolTip(hint->text());
    controls->addWidget(hint, 2);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_title);
    layout->addLayout(controls);
    layout->addWidget(m_message);
    layout->addWidget(m_table, 1);

    connect(m_session, &Session::currentRowChanged, this, &ConventionsPanel::refresh);
    connect(m_session, &Session::fileChanged, this, &ConventionsPanel::refresh);
    connect(m_session, &Session::activationsChanged, this, &ConventionsPanel::refresh);
    connect(m_session, &Session::settingsChanged, this, [this](const QList<int>& rows) {
        if (rows.contains(m_session->currentRow()))
            refresh();
    });
    connect(m_value, &QDoubleSpinBox::valueChanged, this, &ConventionsPanel::refresh);
    connect(m_block, &QSpinBox::valueChanged, this, &ConventionsPanel::refresh);
    connect(m_jobs, &JobRunner::finished, this, [this](int id, const QVariant& value) {
        if (id == m_job)
            showComparison(value.value<Comparison>());
    });
    connect(m_jobs, &JobRunner::failed, this, [this](int id, const QString& message) {
        if (id != m_job)
            return;
        Comparison failed;
        failed.row = m_session->currentRow();
        failed.error = message;
        showComparison(failed);
    });
    refresh();
}

void ConventionsPanel::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (m_dirty)
        refresh();
}

void ConventionsPanel::refresh() {
    const int row = m_session->currentRow();
    if (row < 0 || row >= m_session->tensorCount()) {
        m_title->setText(tr("Select a tensor to see the parameters each toolchain would compute for it."));
        m_table->setRowCount(0);
        m_results.clear();
        m_shownRow = -1;
        return;
    }
    if (!isVisible()) {
        m_dirty = true; // computed when the panel is shown
        return;
    }
    m_dirty = false;
    const TensorInfo& info = m_session->info(row);
    const auto blocks = static_cast<int>(std::max<uint64_t>(1, (info.elements + kLlamaBlockSize - 1) /
                                                                   static_cast<uint64_t>(kLlamaBlockSize)));
    if (m_block->maximum() != blocks - 1) {
        const QSignalBlocker blocker(m_block);
        m_block->setMaximum(blocks - 1);
    }
    const TensorSettings settings = m_session->settings(row);
    m_title->setText(tr("<b>%1</b> · %2 · what each toolchain computes for this tensor")
                         .arg(m_session->tensorName(row).toHtmlEscaped(), specText(settings.spec)));
    const auto source = m_session->source(row);
    const std::string name = info.name;
    const auto chosen = static_cast<float>(m_value->value());
    const int64_t block = m_block->value();
    m_job = m_jobs->start(QStringLiteral("conventions"), tr("Comparing toolchains"),
                          [row, source, name, settings, chosen, block](const ProgressCallback&) {
                              Comparison comparison;
                              comparison.row = row;
                              const Tensor tensor = source->load(name);
                              // The toolchains' rules compare integer formats: asked first, so a
                              // float format is the core's own message.
                              auto toolchains =
                                  compareToolchains(tensor.values(), settings.spec, chosen, block);
                              comparison.results.push_back(quantscopeResult(tensor, settings, chosen));
                              for (auto& result : toolchains)
                                  comparison.results.push_back(std::move(result));
                              return QVariant::fromValue(comparison);
                          });
}

void ConventionsPanel::showComparison(const Comparison& comparison) {
    if (comparison.row != m_session->currentRow())
        return;
    m_shownRow = comparison.row;
    m_message->setVisible(!comparison.error.isEmpty());
    m_message->setText(comparison.error);
    m_results = comparison.results;
    m_table->setRowCount(static_cast<int>(m_results.size()));
    const auto cellTexts = [](const ToolchainResult& r) {
        return QStringList{
            QString::fromStdString(r.params.toolchain),
            scaleText(r.params.scale),
            QString::number(r.params.zeroPoint),
            QString::number(r.params.qmin),
            QString::number(r.params.qmax),
            QString::fromLatin1(roundingRuleText(r.params.rounding).data(),
                                static_cast<qsizetype>(roundingRuleText(r.params.rounding).size())),
            QString::number(r.chosenInteger),
            sqnrText(r),
            QString::fromStdString(r.params.rule) +
                (r.params.note.empty()
                     ? QString()
                     : QStringLiteral(" (") + QString::fromStdString(r.params.note) + QLatin1Char(')'))};
    };
    const QStringList own = m_results.empty() ? QStringList() : cellTexts(m_results.front());
    for (int i = 0; i < static_cast<int>(m_results.size()); ++i) {
        const ToolchainResult& result = m_results[static_cast<std::size_t>(i)];
        const QStringList texts = cellTexts(result);
        const QString source = tr("%1: %2").arg(QString::fromStdString(result.params.toolchain),
                                                QString::fromStdString(result.params.source));
        for (int column = 0; column < ColumnCount; ++column) {
            auto* item = new QTableWidgetItem(texts[column]);
            item->setToolTip(source);
            if (column != Toolchain && column != Rule && column != Rounding)
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            if (column == Rule)
                item->setToolTip(source + QLatin1Char('\n') + texts[column]); // the rule may be cut
            const bool compared = column >= Scale && column <= ChosenInteger;
            if (i > 0 && compared && texts[column] != own[column]) {
                item->setBackground(kDiffers);
                item->setForeground(Qt::black);
                item->setToolTip(source + QLatin1Char('\n') + tr("Quantscope: %1").arg(own[column]));
            }
            if (i == 0) {
                QFont font = item->font();
                font.setBold(true);
                item->setFont(font);
            }
            m_table->setItem(i, column, item);
        }
    }
    emit updated();
}

} // namespace quantscope::ui
