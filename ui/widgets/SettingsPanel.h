#pragma once

#include "quantscope/quant/QuantSpec.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QSlider;
class QSpinBox;

namespace quantscope::ui {

class Session;

// The quantization settings of the selected tensors. Every edit applies at once to the selection
// as one undoable step (a slider drag merges into one); "All weights" / "All activations" copy
// them to every tensor of that kind. Activations are always per tensor (the quantized model
// gives each one static scale and zero point). Invalid combinations are refused with the core's
// message.
class SettingsPanel : public QWidget {
    Q_OBJECT
public:
    explicit SettingsPanel(Session* session, QWidget* parent = nullptr);

    // The spec the widgets describe (validated by the core only when applied).
    QuantSpec specFromWidgets() const;
    void showSpec(const QuantSpec& spec);

    QSlider* bitsSlider() const { return m_bits; }
    QComboBox* familyCombo() const { return m_family; }
    QComboBox* calibCombo() const { return m_calib; }
    QComboBox* schemeCombo() const { return m_scheme; }
    QComboBox* granularityCombo() const { return m_granularity; }
    QLabel* messageLabel() const { return m_message; }
    // For a weight its file stores quantized: what the file stores, and the switch between those
    // parameters and the user's own settings.
    QLabel* storedLabel() const { return m_storedLabel; }
    QCheckBox* useStoredBox() const { return m_useStored; }

    QPushButton* applyToWeightsButton() const { return m_applyWeights; }
    QPushButton* applyToActivationsButton() const { return m_applyActivations; }

public slots:
    void applyToAllWeights();
    void applyToAllActivations();
    void resetManualRange();

private:
    void widgetsChanged(const QString& what, const QString& mergeKey = {});
    void showCurrent();
    void showStored();
    void updateEnabled();
    QList<int> targetRows() const;
    bool currentIsActivation() const;

    Session* m_session;
    QComboBox* m_family;
    QSlider* m_bits;
    QLabel* m_bitsLabel;
    QComboBox* m_scheme;
    QComboBox* m_granularity;
    QSpinBox* m_axis;
    QSpinBox* m_groupSize;
    QComboBox* m_calib;
    QDoubleSpinBox* m_percentile;
    QCheckBox* m_narrow;
    QCheckBox* m_reduce;
    QLabel* m_manual;
    QPushButton* m_resetManual;
    QLabel* m_storedLabel;
    QCheckBox* m_useStored;
    QLabel* m_message;
    QPushButton* m_applyWeights;
    QPushButton* m_applyActivations;
    bool m_updating = false;
};

} // namespace quantscope::ui
