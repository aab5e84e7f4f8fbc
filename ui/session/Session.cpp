#include "session/Session.h"

#include "session/SettingsCommand.h"

namespace quantscope::ui {

Session::Session(QObject* parent) : QObject(parent) {}

void Session::setFile(std::shared_ptr<const WeightFile> file) {
    auto stored =
        file ? StoredSettings::readAll(*file, m_defaults.spec) : std::vector<std::optional<StoredSettings>>{};
    setFile(std::move(file), std::move(stored));
}

void Session::setFile(std::shared_ptr<const WeightFile> file,
                      std::vector<std::optional<StoredSettings>> stored) {
    m_undo.clear();
    m_file = std::move(file);
    std::vector<Entry> activations(m_tensors.begin() + m_weightCount, m_tensors.end());
    m_tensors.clear();
    if (m_file)
        for (std::size_t i = 0; i < m_file->tensors().size(); ++i) {
            Entry entry{m_file->tensors()[i], m_defaults, nullptr, std::nullopt, std::nullopt, m_defaults};
            if (i < stored.size() && stored[i]) {
                entry.stored = std::move(stored[i]);
                entry.settings = entry.stored->settings;
            }
            m_tensors.push_back(std::move(entry));
        }
    m_weightCount = tensorCount();
    m_tensors.insert(m_tensors.end(), activations.begin(), activations.end());
    m_current = m_tensors.empty() ? -1 : 0;
    m_selected = m_current >= 0 ? QList<int>{0} : QList<int>{};
    emit fileChanged();
    emit currentRowChanged(m_current);
    emit selectionChanged(m_selected);
}

QString Session::filePath() const {
    return m_file ? QString::fromStdString(m_file->path()) : QString();
}

void Session::setActivations(std::shared_ptr<const WeightFile> activations) {
    // Undo steps may name the old activation rows; weight-only history stays meaningful.
    if (activationCount() > 0)
        m_undo.clear();
    const QString currentName = validRow(m_current) ? tensorName(m_current) : QString();
    const bool currentWasActivation = validRow(m_current) && isActivation(m_current);
    m_activations = std::move(activations);
    m_tensors.resize(static_cast<std::size_t>(m_weightCount));
    if (m_activations)
        for (const auto& info : m_activations->tensors())
            m_tensors.push_back(Entry{info, m_activationDefaults, nullptr, std::nullopt, std::nullopt, {}});
    QList<int> selected;
    for (int row : std::as_const(m_selected))
        if (row < m_weightCount)
            selected.append(row);
    int current = m_current;
    if (currentWasActivation || !validRow(current)) {
        current = rowOf(currentName, TensorKind::Activation);
        if (current < 0)
            current = m_tensors.empty() ? -1 : 0;
    }
    if (selected.isEmpty() && current >= 0)
        selected = {current};
    m_current = current;
    m_selected = selected;
    emit activationsChanged();
    // A changed activation list may put a new tensor under the same row number: always tell.
    emit currentRowChanged(m_current);
    emit selectionChanged(m_selected);
}

std::shared_ptr<const WeightFile> Session::source(int row) const {
    if (!validRow(row))
        return nullptr;
    return isActivation(row) ? m_activations : m_file;
}

int Session::rowOf(const QString& name, TensorKind kind) const {
    const std::string key = name.toStdString();
    for (int row = 0; row < tensorCount(); ++row)
        if (this->kind(row) == kind && info(row).name == key)
            return row;
    return -1;
}

QList<int> Session::rowsOf(TensorKind kind) const {
    QList<int> rows;
    for (int row = 0; row < tensorCount(); ++row)
        if (this->kind(row) == kind)
            rows.append(row);
    return rows;
}

void Session::changeSettings(const QList<int>& rows, const TensorSettings& settings,
                             const QString& description, const QString& mergeKey) {
    QList<int> changed;
    std::vector<TensorSettings> before;
    for (int row : rows)
        if (validRow(row) && !(this->settings(row) == settings)) {
            changed.append(row);
            before.push_back(this->settings(row));
        }
    if (changed.isEmpty())
        return;
    std::vector<TensorSettings> after(static_cast<std::size_t>(changed.size()), settings);
    m_undo.push(
        new SettingsCommand(this, changed, std::move(before), std::move(after), description, mergeKey));
}

void Session::changeSettingsEach(const QList<int>& rows, const std::vector<TensorSettings>& settings,
                                 const QString& description) {
    QList<int> changed;
    std::vector<TensorSettings> before;
    std::vector<TensorSettings> after;
    for (int i = 0; i < rows.size() && i < static_cast<int>(settings.size()); ++i)
        if (validRow(rows[i]) && !(this->settings(rows[i]) == settings[static_cast<std::size_t>(i)])) {
            changed.append(rows[i]);
            before.push_back(this->settings(rows[i]));
            after.push_back(settings[static_cast<std::size_t>(i)]);
        }
    if (!changed.isEmpty())
        m_undo.push(new SettingsCommand(this, changed, std::move(before), std::move(after), description));
}

void Session::changeSpec(const QList<int>& rows, const QuantSpec& spec, const QString& description,
                         const QString& mergeKey) {
    changeSettings(rows, TensorSettings{spec, std::nullopt}, description, mergeKey);
}

const StoredSettings* Session::storedSettings(int row) const {
    if (!validRow(row))
        return nullptr;
    const auto& stored = m_tensors[static_cast<std::size_t>(row)].stored;
    return stored ? &*stored : nullptr;
}

bool Session::usesStoredSettings(int row) const {
    const StoredSettings* stored = storedSettings(row);
    return stored && settings(row) == stored->settings;
}

void Session::useStoredSettings(const QList<int>& rows, bool use) {
    QList<int> withStored;
    std::vector<TensorSettings> after;
    for (int row : rows)
        if (const StoredSettings* stored = storedSettings(row)) {
            withStored.append(row);
            after.push_back(use ? stored->settings : m_tensors[static_cast<std::size_t>(row)].own);
        }
    changeSettingsEach(withStored, after,
                       use ? tr("Use the parameters stored in the file") : tr("Use own settings"));
}

void Session::applySettings(const QList<int>& rows, const std::vector<TensorSettings>& settings) {
    for (int i = 0; i < rows.size() && i < static_cast<int>(settings.size()); ++i)
        if (validRow(rows[i])) {
            Entry& entry = m_tensors[static_cast<std::size_t>(rows[i])];
            entry.settings = settings[static_cast<std::size_t>(i)];
            // Remembered so that switching back from the stored parameters restores them.
            if (entry.stored && !entry.settings.stored)
                entry.own = entry.settings;
        }
    emit settingsChanged(rows);
}

void Session::setCurrentRow(int row) {
    if (!validRow(row) || row == m_current)
        return;
    m_current = row;
    emit currentRowChanged(row);
}

void Session::setSelectedRows(const QList<int>& rows) {
    QList<int> valid;
    for (int row : rows)
        if (validRow(row))
            valid.append(row);
    if (valid == m_selected)
        return;
    m_selected = valid;
    emit selectionChanged(m_selected);
}

bool Session::offerResult(int row, std::shared_ptr<const TensorResult> result) {
    if (!validRow(row) || !result || !(result->settings == settings(row)))
        return false;
    m_tensors[static_cast<std::size_t>(row)].result = std::move(result);
    emit resultChanged(row);
    return true;
}

bool Session::offerSummary(int row, const TensorSummary& summary) {
    if (!validRow(row) || !(summary.settings == settings(row)))
        return false;
    m_tensors[static_cast<std::size_t>(row)].summary = summary;
    emit summaryChanged(row);
    return true;
}

std::shared_ptr<const TensorResult> Session::result(int row) const {
    if (!validRow(row))
        return nullptr;
    const auto& entry = m_tensors[static_cast<std::size_t>(row)];
    return entry.result && entry.result->settings == entry.settings ? entry.result : nullptr;
}

std::optional<ErrorMetrics> Session::summaryMetrics(int row) const {
    if (!validRow(row))
        return std::nullopt;
    const auto& entry = m_tensors[static_cast<std::size_t>(row)];
    if (entry.summary && entry.summary->settings == entry.settings)
        return entry.summary->metrics;
    // The detailed result carries the same metrics when the table's pass has not reached it yet.
    if (entry.result && entry.result->settings == entry.settings)
        return entry.result->analysis.metrics;
    return std::nullopt;
}

} // namespace quantscope::ui
