#include "session/SettingsCommand.h"

#include "session/Session.h"

namespace quantscope::ui {

SettingsCommand::SettingsCommand(Session* session, QList<int> rows, std::vector<TensorSettings> before,
                                 std::vector<TensorSettings> after, const QString& description,
                                 const QString& mergeKey)
    : QUndoCommand(description), m_session(session), m_rows(std::move(rows)), m_before(std::move(before)),
      m_after(std::move(after)), m_mergeKey(mergeKey) {}

void SettingsCommand::undo() {
    m_session->applySettings(m_rows, m_before);
}
void SettingsCommand::redo() {
    m_session->applySettings(m_rows, m_after);
}

bool SettingsCommand::mergeWith(const QUndoCommand* other) {
    const auto* next = dynamic_cast<const SettingsCommand*>(other);
    if (!next || next->m_mergeKey != m_mergeKey || next->m_rows != m_rows)
        return false;
    m_after = next->m_after;
    return true;
}

} // namespace quantscope::ui
