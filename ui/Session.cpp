#include "Session.h"

#include "SettingsCommand.h"

namespace quantscope::ui {

Session::Session(QObject* parent) : QObject(parent) {}

void Session::setFile(std::shared_ptr<const WeightFile> file) {
    m_undo.clear();
    m_file = std::move(file);
    m_tensors.clear();
    if (m_file)
        for (const auto& info : m_file->tensors())
            m_tensors.push_back(Entry{info, m_defaults, nullptr, std::nullopt});
    m_current = m_tensors.empty() ? -1 : 0;
    m_selected = m_current >= 0 ? QList<int>{0} : QList<int>{};
    emit fileChanged();
    emit currentRowChanged(m_current);
    emit selectionChanged(m_selected);
}

QString Session::filePath() const { return m_file ? QString::fromStdString(m_file->path()) : QString(); }

int Session::rowOf(const QString& name) const {
    const std::string key = name.toStdString();
    for (int row = 0; row < tensorCount(); ++row)
        if (info(row).name == key)
            return row;
    return -1;
}

void Session::changeSettings(const QList<int>& rows, const TensorSettings& settings, const QString& description,
                             const QString& mergeKey) {
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
    m_undo.push(new SettingsCommand(this, changed, std::move(before), std::move(after), description, mergeKey));
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

void Session::applySettings(const QList<int>& rows, const std::vector<TensorSettings>& settings) {
    for (int i = 0; i < rows.size() && i < static_cast<int>(settings.size()); ++i)
        if (validRow(rows[i]))
            m_tensors[static_cast<std::size_t>(rows[i])].settings = settings[static_cast<std::size_t>(i)];
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
