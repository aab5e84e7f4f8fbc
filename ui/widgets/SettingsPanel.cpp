#include "widgets/SettingsPanel.h"

#include "session/Session.h"
#include "session/StoredSettings.h"
#include "widgets/MetricText.h"

#include "quantscope/Error.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>

namespace quantscope::ui {
namespace {

// Format families in the combo box; integer ones take the bit width from the slider.
enum Family {
    Int,
    UInt,
    Fp16,
    Bf16,
    Fp8E4M3,
    Fp8E5M2,
    Nf4,
    Mxfp4,
    Mxfp8E4M3,
    Mxfp8E5M2,
    Nvfp4,
    GgmlQ8_0,
    GgmlQ4_0,
    GgmlQ4_1,
    GgmlQ5_0,
    GgmlQ5_1,
    GgmlQ4_K,
    GgmlQ6_K
};
constexpr const char* kGgmlNames[] = {"q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_k", "q6_k"};

QuantFormat formatOf(int family, int bits) {
    switch (family) {
    case Int:
        return QuantFormat::integer(bits, true);
    case UInt:
        return QuantFormat::integer(bits, false);
    case Fp16:
        return {FormatKind::Fp16, 16, true};
    case Bf16:
        return {FormatKind::Bf16, 16, true};
    case Fp8E4M3:
        return {FormatKind::Fp8E4M3, 8, true};
    case Fp8E5M2:
        return {FormatKind::Fp8E5M2, 8, true};
    case Mxfp4:
        return {FormatKind::Mxfp4, 4, true};
    case Mxfp8E4M3:
        return {FormatKind::Mxfp8E4M3, 8, true};
    case Mxfp8E5M2:
        return {FormatKind::Mxfp8E5M2, 8, true};
    case Nvfp4:
        return {FormatKind::Nvfp4, 4, true};
    case Nf4:
        return {FormatKind::Nf4, 4, true};
    default:
        return QuantFormat::parse(kGgmlNames[family - GgmlQ8_0]);
    }
}

int familyOf(const QuantFormat& format) {
    switch (format.kind) {
    case FormatKind::Integer:
        return format.isSigned ? Int : UInt;
    case FormatKind::Fp16:
        return Fp16;
    case FormatKind::Bf16:
        return Bf16;
    case FormatKind::Fp8E4M3:
        return Fp8E4M3;
    case FormatKind::Fp8E5M2:
        return Fp8E5M2;
    case FormatKind::Nf4:
        return Nf4;
    case FormatKind::Mxfp4:
        return Mxfp4;
    case FormatKind::Mxfp8E4M3:
        return Mxfp8E4M3;
    case FormatKind::Mxfp8E5M2:
        return Mxfp8E5M2;
    case FormatKind::Nvfp4:
        return Nvfp4;
    default:
        return GgmlQ8_0 + static_cast<int>(format.kind) - static_cast<int>(FormatKind::GgmlQ8_0);
    }
}

constexpr CalibMethod kMethods[] = {CalibMethod::MinMax, CalibMethod::MovingAverage, CalibMethod::Percentile,
                                    CalibMethod::Mse,    CalibMethod::Entropy,       CalibMethod::Histogram};

} // namespace

SettingsPanel::SettingsPanel(Session* session, QWidget* parent)
    : QWidget(parent), m_session(session), m_family(new QComboBox(this)),
      m_bits(new QSlider(Qt::Horizontal, this)), m_bitsLabel(new QLabel(this)), m_scheme(new QComboBox(this)),
      m_granularity(new QComboBox(this)), m_axis(new QSpinBox(this)), m_groupSize(new QSpinBox(this)),
      m_calib(new QComboBox(this)), m_percentile(new QDoubleSpinBox(this)),
      m_narrow(new QCheckBox(tr("Narrow range"), this)), m_reduce(new QCheckBox(tr("Reduced range"), this)),
      m_manual(new QLabel(this)), m_resetManual(new QPushButton(tr("Back to calibration"), this)),
      m_storedLabel(new QLabel(this)),
      m_useStored(new QCheckBox(tr("Use the parameters stored in the file"), this)),
      m_message(new QLabel(this)), m_applyWeights(new QPushButton(tr("All weights"), this)),
      m_applyActivations(new QPushButton(tr("All activations"), this)) {
    m_family->addItems({tr("intN"), tr("uintN"), tr("fp16"), tr("bf16"), tr("fp8 e4m3"), tr("fp8 e5m2"),
                        tr("nf4"), tr("mxfp4"), tr("mxfp8 e4m3"), tr("mxfp8 e5m2"), tr("nvfp4"),
                        tr("q8_0 (llama.cpp)"), tr("q4_0 (llama.cpp)"), tr("q4_1 (llama.cpp)"),
                        tr("q5_0 (llama.cpp)"), tr("q5_1 (llama.cpp)"), tr("q4_K (llama.cpp)"),
                        tr("q6_K (llama.cpp)")});
    m_family->setToolTip(tr("The number format. The llama.cpp formats are quantized as ggml's reference "
                            "quantizers do (llama-quantize without an importance matrix), in blocks of 32 "
                            "or super-blocks of 256 values along a row."));
    m_bits->setRange(2, 16);
    m_bits->setPageStep(1);
    m_bits->setTickPosition(QSlider::TicksBelow);
    m_bits->setTickInterval(1);
    m_bits->setToolTip(
        tr("Bit width of intN / uintN (2–16). Drag to watch the grid, the clipping and the error move."));
    m_bitsLabel->setMinimumWidth(m_bitsLabel->fontMetrics().horizontalAdvance(QStringLiteral("16 bits")));
    m_scheme->addItems({tr("affine"), tr("symmetric")});
    m_granularity->addItems({tr("per tensor"), tr("per channel"), tr("per group")});
    m_axis->setRange(0, 0);
    m_axis->setPrefix(tr("axis "));
    m_groupSize->setRange(1, 1 << 20);
    m_groupSize->setValue(128);
    m_groupSize->setPrefix(tr("group "));
    for (CalibMethod method : kMethods)
        m_calib->addItem(QString::fromLatin1(calibMethodName(method)));
    m_calib->setToolTip(tr("How the clipping range is chosen from the values"));
    m_percentile->setRange(0.01, 100.0);
    m_percentile->setDecimals(3);
    m_percentile->setSingleStep(0.01);
    m_percentile->setSuffix(QStringLiteral(" %"));
    m_narrow->setToolTip(
        tr("Drop the most negative level: [-127, 127] for int8 (ONNX Runtime / TensorRT symmetric)"));
    m_reduce->setToolTip(tr("One bit less of range, as PyTorch's reduce_range (int8 → [-64, 63])"));
    m_message->setWordWrap(true);
    m_message->setStyleSheet(QStringLiteral("color: #d64545;"));
    m_manual->setWordWrap(true);
    m_storedLabel->setWordWrap(true);
    m_storedLabel->setTextFormat(Qt::PlainText);
    m_useStored->setToolTip(tr("On: the file's own scale and zero point, as the tool that quantized it chose "
                               "them. Off: your settings, calibrated as usual. Each tensor switches on "
                               "its own (the selection together)."));

    auto* bitsRow = new QHBoxLayout;
    bitsRow->addWidget(m_bits, 1);
    bitsRow->addWidget(m_bitsLabel);
    auto* granularityRow = new QHBoxLayout;
    granularityRow->addWidget(m_granularity, 1);
    granularityRow->addWidget(m_axis);
    granularityRow->addWidget(m_groupSize);
    auto* calibRow = new QHBoxLayout;
    calibRow->addWidget(m_calib, 1);
    calibRow->addWidget(m_percentile);
    auto* manualRow = new QHBoxLayout;
    manualRow->addWidget(m_manual, 1);
    manualRow->addWidget(m_resetManual);

    auto* form = new QFormLayout;
    form->addRow(tr("Format"), m_family);
    form->addRow(tr("Bits"), bitsRow);
    form->addRow(tr("Scheme"), m_scheme);
    form->addRow(tr("Granularity"), granularityRow);
    form->addRow(tr("Calibration"), calibRow);
    m_applyWeights->setToolTip(
        tr("Give every weight of the file these settings (one undo step, Ctrl+Shift+A)"));
    m_applyActivations->setToolTip(
        tr("Give every activation of the model these settings, per tensor (one undo step, "
           "Ctrl+Alt+A). Activations appear once a model and samples are open."));
    auto* applyRow = new QHBoxLayout;
    applyRow->addWidget(new QLabel(tr("Apply to"), this));
    applyRow->addWidget(m_applyWeights, 1);
    applyRow->addWidget(m_applyActivations, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_storedLabel);
    layout->addWidget(m_useStored);
    layout->addLayout(form);
    auto* ranges = new QHBoxLayout;
    ranges->addWidget(m_narrow);
    ranges->addWidget(m_reduce);
    ranges->addStretch(1);
    layout->addLayout(ranges);
    layout->addLayout(manualRow);
    layout->addLayout(applyRow);
    layout->addWidget(m_message);
    layout->addStretch(1);

    connect(m_family, &QComboBox::currentIndexChanged, this, [this] { widgetsChanged(tr("Format")); });
    connect(m_bits, &QSlider::valueChanged, this,
            [this] { widgetsChanged(tr("Bit width"), QStringLiteral("bits")); });
    connect(m_scheme, &QComboBox::currentIndexChanged, this, [this] { widgetsChanged(tr("Scheme")); });
    connect(m_granularity, &QComboBox::currentIndexChanged, this, [this](int index) {
        // Channels along the outputs (axis 0, PyTorch's per-channel weights); groups along the
        // inputs (axis 1, as GPTQ, llama.cpp and ONNX MatMulNBits group a weight's rows).
        const int row = m_session->currentRow();
        if (!m_updating && row >= 0) {
            const int rank = static_cast<int>(m_session->info(row).shape.size());
            const QSignalBlocker quiet(m_axis);
            m_axis->setValue(index == static_cast<int>(Granularity::Group) && rank >= 2 ? 1 : 0);
        }
        widgetsChanged(tr("Granularity"));
    });
    connect(m_axis, &QSpinBox::valueChanged, this, [this] { widgetsChanged(tr("Axis")); });
    connect(m_groupSize, &QSpinBox::valueChanged, this,
            [this] { widgetsChanged(tr("Group size"), QStringLiteral("group")); });
    connect(m_calib, &QComboBox::currentIndexChanged, this,
            [this] { widgetsChanged(tr("Calibration method")); });
    connect(m_percentile, &QDoubleSpinBox::valueChanged, this,
            [this] { widgetsChanged(tr("Percentile"), QStringLiteral("percentile")); });
    connect(m_narrow, &QCheckBox::toggled, this, [this] { widgetsChanged(tr("Narrow range")); });
    connect(m_reduce, &QCheckBox::toggled, this, [this] { widgetsChanged(tr("Reduced range")); });
    connect(m_applyWeights, &QPushButton::clicked, this, &SettingsPanel::applyToAllWeights);
    connect(m_applyActivations, &QPushButton::clicked, this, &SettingsPanel::applyToAllActivations);
    connect(m_resetManual, &QPushButton::clicked, this, &SettingsPanel::resetManualRange);
    connect(m_useStored, &QCheckBox::toggled, this, [this](bool use) {
        if (!m_updating)
            m_session->useStoredSettings(targetRows(), use);
    });

    connect(session, &Session::currentRowChanged, this, &SettingsPanel::showCurrent);
    connect(session, &Session::fileChanged, this, &SettingsPanel::showCurrent);
    connect(session, &Session::activationsChanged, this, &SettingsPanel::showCurrent);
    connect(session, &Session::settingsChanged, this, [this](const QList<int>& rows) {
        if (rows.contains(m_session->currentRow()))
            showCurrent();
    });
    showSpec(session->defaultSettings().spec);
}

QuantSpec SettingsPanel::specFromWidgets() const {
    const int row = m_session->currentRow();
    QuantSpec spec = row >= 0 ? m_session->settings(row).spec : m_session->defaultSettings().spec;
    spec.format = formatOf(m_family->currentIndex(), m_bits->value());
    spec.scheme = m_scheme->currentIndex() == 1 ? Scheme::Symmetric : Scheme::Affine;
    spec.granularity =
        currentIsActivation() ? Granularity::Tensor : static_cast<Granularity>(m_granularity->currentIndex());
    spec.axis = m_axis->value();
    spec.groupSize = m_groupSize->value();
    if (spec.format.isBlockScaled()) { // the format defines its blocks
        spec.granularity = Granularity::Group;
        spec.groupSize = spec.format.blockSize();
    }
    if (spec.format.isGgml() && row >= 0) // ggml's blocks run along a row: the last axis
        spec.axis = std::max(0, static_cast<int>(m_session->info(row).shape.size()) - 1);
    spec.calib = kMethods[std::max(0, m_calib->currentIndex())];
    spec.percentile = m_percentile->value();
    spec.narrowRange = m_narrow->isChecked();
    spec.reduceRange = m_reduce->isChecked();
    return spec;
}

void SettingsPanel::showSpec(const QuantSpec& spec) {
    m_updating = true;
    m_family->setCurrentIndex(familyOf(spec.format));
    if (spec.format.isInteger())
        m_bits->setValue(spec.format.bits);
    m_scheme->setCurrentIndex(spec.scheme == Scheme::Symmetric ? 1 : 0);
    m_granularity->setCurrentIndex(static_cast<int>(spec.granularity));
    m_axis->setValue(spec.axis);
    m_groupSize->setValue(static_cast<int>(std::min<int64_t>(spec.groupSize, m_groupSize->maximum())));
    for (int i = 0; i < m_calib->count(); ++i)
        if (kMethods[i] == spec.calib)
            m_calib->setCurrentIndex(i);
    m_percentile->setValue(spec.percentile);
    m_narrow->setChecked(spec.narrowRange);
    m_reduce->setChecked(spec.reduceRange);
    m_updating = false;
    updateEnabled();
}

void SettingsPanel::showCurrent() {
    const int row = m_session->currentRow();
    m_message->clear();
    showStored();
    if (row < 0) {
        showSpec(m_session->defaultSettings().spec);
        m_manual->clear();
        m_resetManual->hide();
        return;
    }
    m_updating = true;
    m_axis->setMaximum(std::max(0, static_cast<int>(m_session->info(row).shape.size()) - 1));
    m_updating = false;
    const TensorSettings& settings = m_session->settings(row);
    showSpec(settings.spec);
    if (settings.stored) { // said by the stored label
        m_manual->clear();
        m_resetManual->hide();
    } else if (settings.exactParams) {
        const QParams& params = *settings.exactParams;
        m_manual->setText(params.blockCount() == 1 ? tr("Imported scale %1, zero point %2")
                                                         .arg(MetricText::number(params.scale.front()))
                                                         .arg(params.zeroPoint.front())
                                                   : tr("Imported parameters (%n block(s))", nullptr,
                                                        static_cast<int>(params.blockCount())));
        m_resetManual->show();
    } else if (settings.manualRange) {
        m_manual->setText(tr("Manual clipping [%1, %2]")
                              .arg(MetricText::number(settings.manualRange->min),
                                   MetricText::number(settings.manualRange->max)));
        m_resetManual->show();
    } else {
        m_manual->clear();
        m_resetManual->hide();
    }
}

void SettingsPanel::showStored() {
    const int row = m_session->currentRow();
    const StoredSettings* stored = row >= 0 ? m_session->storedSettings(row) : nullptr;
    m_storedLabel->setVisible(stored != nullptr);
    m_useStored->setVisible(stored != nullptr);
    if (!stored)
        return;
    const bool used = m_session->usesStoredSettings(row);
    const QString scheme = StoredSettings::describe(stored->settings.spec);
    const QString format = QString::fromStdString(stored->format);
    m_storedLabel->setText(
        used ? tr("Stored in the file: %1 (%2). Analysed with the file's own scale and "
                  "zero point.")
                   .arg(scheme, format)
             : tr("The file stores %1 (%2). Analysed with your settings.").arg(scheme, format));
    m_storedLabel->setToolTip(QString::fromStdString(stored->note));
    m_storedLabel->setStyleSheet(used ? QStringLiteral("font-weight: bold;") : QString());
    const QSignalBlocker quiet(m_useStored);
    m_useStored->setChecked(used);
}

void SettingsPanel::updateEnabled() {
    const bool integer = m_family->currentIndex() == Int || m_family->currentIndex() == UInt;
    m_bits->setEnabled(integer);
    m_bitsLabel->setText(integer ? tr("%1 bits").arg(m_bits->value()) : tr("—"));
    m_scheme->setEnabled(integer);
    m_narrow->setEnabled(integer);
    m_reduce->setEnabled(integer);
    m_axis->setVisible(m_granularity->currentIndex() != 0);
    m_groupSize->setVisible(m_granularity->currentIndex() == 2);
    const bool activation = currentIsActivation();
    m_granularity->setEnabled(!activation);
    m_granularity->setToolTip(
        activation ? tr("Activations are quantized per tensor: one static scale and zero point "
                        "each, as the quantized model runs them")
                   : tr("One scale per tensor, per channel along an axis, or per group of G values"));
    m_applyWeights->setEnabled(m_session->weightCount() > 0);
    m_applyActivations->setEnabled(m_session->activationCount() > 0);
    m_percentile->setVisible(kMethods[std::max(0, m_calib->currentIndex())] == CalibMethod::Percentile);
    const bool ggml = m_family->currentIndex() >= GgmlQ8_0;
    // The file's own scale and zero point leave nothing to calibrate.
    const int row = m_session->currentRow();
    const bool stored = row >= 0 && m_session->usesStoredSettings(row);
    m_calib->setEnabled(!ggml && !stored);
    m_calib->setToolTip(ggml     ? tr("ggml's quantizer chooses every block's scale (and minimum) itself")
                        : stored ? tr("The scale and zero point stored in the file are used: nothing is "
                                      "calibrated (clear \"Use the parameters stored in the file\" to "
                                      "calibrate your own)")
                                 : tr("How the clipping range is chosen from the values"));
}

bool SettingsPanel::currentIsActivation() const {
    const int row = m_session->currentRow();
    return row >= 0 && m_session->isActivation(row);
}

QList<int> SettingsPanel::targetRows() const {
    QList<int> rows = m_session->selectedRows();
    if (rows.isEmpty() && m_session->currentRow() >= 0)
        rows.append(m_session->currentRow());
    return rows;
}

void SettingsPanel::widgetsChanged(const QString& what, const QString& mergeKey) {
    updateEnabled();
    if (m_updating)
        return;
    const QuantSpec spec = specFromWidgets();
    const int row = m_session->currentRow();
    try {
        if (row >= 0)
            spec.validateFor(m_session->info(row).shape);
        else
            spec.validate();
    } catch (const Error& e) {
        m_message->setText(QString::fromStdString(e.what()));
        return;
    }
    m_message->clear();
    TensorSettings settings{spec, std::nullopt};
    // A manual clipping range survives format edits but not a change of calibration or granularity.
    if (row >= 0 && spec.granularity == Granularity::Tensor &&
        spec.calib == m_session->settings(row).spec.calib)
        settings.manualRange = m_session->settings(row).manualRange;
    if (row < 0) {
        m_session->setDefaultSettings(settings);
        return;
    }
    const QList<int> rows = targetRows();
    bool mixed = false;
    for (int target : rows)
        mixed = mixed || m_session->isActivation(target) != m_session->isActivation(row);
    if (!mixed) {
        m_session->changeSettings(rows, settings, what, mergeKey);
    } else {
        // Weights and activations selected together: the activations stay per tensor.
        TensorSettings perTensor = settings;
        perTensor.spec.granularity = Granularity::Tensor;
        if (settings.spec.granularity != Granularity::Tensor)
            perTensor.manualRange.reset();
        std::vector<TensorSettings> each;
        for (int target : rows)
            each.push_back(m_session->isActivation(target) ? perTensor : settings);
        m_session->changeSettingsEach(rows, each, what);
    }
    if (!m_session->isActivation(row))
        m_session->setDefaultSettings({spec, std::nullopt});
}

void SettingsPanel::applyToAllWeights() {
    const QuantSpec spec = specFromWidgets();
    const QList<int> weights = m_session->rowsOf(TensorKind::Weight);
    QList<int> rows;
    for (int row : weights) {
        try {
            spec.validateFor(m_session->info(row).shape);
            rows.append(row);
        } catch (const Error&) {
            // A tensor whose rank has no such axis keeps its own settings.
        }
    }
    m_session->changeSpec(rows, spec, tr("Apply to all weights"));
    if (rows.size() < weights.size())
        m_message->setText(tr("%1 weight(s) kept their settings: the axis is past their rank.")
                               .arg(weights.size() - rows.size()));
}

void SettingsPanel::applyToAllActivations() {
    QuantSpec spec = specFromWidgets();
    spec.granularity = Granularity::Tensor;
    const QList<int> rows = m_session->rowsOf(TensorKind::Activation);
    if (rows.isEmpty()) {
        m_message->setText(tr("No activations yet: open a model and samples (Ctrl+M) or the demo (Ctrl+D)."));
        return;
    }
    m_session->changeSpec(rows, spec, tr("Apply to all activations"));
}

void SettingsPanel::resetManualRange() {
    const int row = m_session->currentRow();
    if (row >= 0)
        m_session->changeSpec({row}, m_session->settings(row).spec, tr("Back to calibration"));
}

} // namespace quantscope::ui
