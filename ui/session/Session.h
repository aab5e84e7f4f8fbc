#pragma once

#include "quantscope/analysis/TensorResult.h"
#include "quantscope/analysis/TensorSettings.h"
#include "session/StoredSettings.h"

#include "quantscope/io/WeightFile.h"

#include <QList>
#include <QObject>
#include <QString>
#include <QUndoStack>

#include <memory>
#include <optional>
#include <vector>

namespace quantscope::ui {

// The document of the desktop app: the open weights file and the model's activations (once
// samples ran through it), their tensors with their settings, the selection, and the results
// computed so far. Rows list the weights first, then the activations. Views read it and react to
// its signals; every settings change goes through the undo stack. It does no computation itself.
class Session : public QObject {
    Q_OBJECT
public:
    explicit Session(QObject* parent = nullptr);

    // Replaces the open weights file (the activations stay); every weight starts from
    // defaultSettings(), except a weight the file stores quantized, which starts from its stored
    // settings (read here, on the calling thread). The undo history is cleared because it refers
    // to the old rows.
    void setFile(std::shared_ptr<const WeightFile> file);
    // The same with the stored settings already read (on a worker), one per tensor of the file.
    void setFile(std::shared_ptr<const WeightFile> file, std::vector<std::optional<StoredSettings>> stored);
    bool hasFile() const { return m_file != nullptr; }
    std::shared_ptr<const WeightFile> file() const { return m_file; }
    QString filePath() const;

    // Replaces the activations (a model's values on calibration samples, or none); each starts
    // from activationDefaults(). The weights keep their rows, settings and results.
    void setActivations(std::shared_ptr<const WeightFile> activations);
    std::shared_ptr<const WeightFile> activations() const { return m_activations; }
    int activationCount() const { return tensorCount() - m_weightCount; }
    int weightCount() const { return m_weightCount; }

    bool hasTensors() const { return !m_tensors.empty(); }
    int tensorCount() const { return static_cast<int>(m_tensors.size()); }
    const TensorInfo& info(int row) const { return m_tensors[static_cast<std::size_t>(row)].info; }
    QString tensorName(int row) const { return QString::fromStdString(info(row).name); }
    TensorKind kind(int row) const {
        return row >= m_weightCount ? TensorKind::Activation : TensorKind::Weight;
    }
    bool isActivation(int row) const { return kind(row) == TensorKind::Activation; }
    // Where the row's values are read from: the weights file or the activations.
    std::shared_ptr<const WeightFile> source(int row) const;
    // The row of a tensor of that name and kind (weights and activations may share a name).
    int rowOf(const QString& name, TensorKind kind = TensorKind::Weight) const;
    // Every row of one kind.
    QList<int> rowsOf(TensorKind kind) const;

    const TensorSettings& settings(int row) const {
        return m_tensors[static_cast<std::size_t>(row)].settings;
    }
    // Undoable change of several tensors' settings at once (one undo step).
    void changeSettings(const QList<int>& rows, const TensorSettings& settings, const QString& description,
                        const QString& mergeKey = {});
    // Undoable change giving each row its own settings (an import), one undo step.
    void changeSettingsEach(const QList<int>& rows, const std::vector<TensorSettings>& settings,
                            const QString& description);
    // Changes only the spec and keeps nothing of a manual range (what the settings panel does).
    void changeSpec(const QList<int>& rows, const QuantSpec& spec, const QString& description,
                    const QString& mergeKey = {});
    // The settings the file stores for the row's weight (its own scheme, scale and zero point),
    // or nullptr for a tensor stored plainly.
    const StoredSettings* storedSettings(int row) const;
    // The row is analysed with the parameters its file stores.
    bool usesStoredSettings(int row) const;
    // Undoable switch of the rows that have stored settings to them (`use`) or back to the user's
    // own settings: the last ones the row had, or defaultSettings() if it never had any.
    void useStoredSettings(const QList<int>& rows, bool use);
    // Applied by the undo commands; emits settingsChanged.
    void applySettings(const QList<int>& rows, const std::vector<TensorSettings>& settings);

    const TensorSettings& defaultSettings() const { return m_defaults; }
    void setDefaultSettings(const TensorSettings& settings) { m_defaults = settings; }
    // Activations start as the quantized model quantizes them by default: int8 affine per
    // tensor, min/max.
    const TensorSettings& activationDefaults() const { return m_activationDefaults; }

    int currentRow() const { return m_current; }
    void setCurrentRow(int row);
    QList<int> selectedRows() const { return m_selected; }
    void setSelectedRows(const QList<int>& rows);

    // Results are accepted only while they match the tensor's settings; a late one is dropped.
    bool offerResult(int row, std::shared_ptr<const TensorResult> result);
    bool offerSummary(int row, const TensorSummary& summary);
    std::shared_ptr<const TensorResult> result(int row) const;
    std::optional<ErrorMetrics> summaryMetrics(int row) const;

    QUndoStack* undoStack() { return &m_undo; }

signals:
    // The weights file changed: every row may be new.
    void fileChanged();
    // The activations changed; weight rows are as they were.
    void activationsChanged();
    void settingsChanged(const QList<int>& rows);
    void currentRowChanged(int row);
    void selectionChanged(const QList<int>& rows);
    void resultChanged(int row);
    void summaryChanged(int row);

private:
    struct Entry {
        TensorInfo info;
        TensorSettings settings;
        std::shared_ptr<const TensorResult> result;
        std::optional<TensorSummary> summary;
        std::optional<StoredSettings> stored;
        TensorSettings own; // the user's last settings of a row with stored ones
    };
    bool validRow(int row) const { return row >= 0 && row < tensorCount(); }

    std::shared_ptr<const WeightFile> m_file;
    std::shared_ptr<const WeightFile> m_activations;
    std::vector<Entry> m_tensors; // the weights, then the activations
    int m_weightCount = 0;
    TensorSettings m_defaults;
    TensorSettings m_activationDefaults;
    int m_current = -1;
    QList<int> m_selected;
    QUndoStack m_undo;
};

} // namespace quantscope::ui
