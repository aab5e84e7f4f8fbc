#pragma once

#include "quantscope/analysis/TensorSettings.h"

#include <QList>
#include <QUndoCommand>

#include <vector>

namespace quantscope::ui {

class Session;

// One undoable change of the settings of some tensors. Consecutive changes with the same merge
// key on the same tensors (the steps of one slider drag) merge into one undo step.
class SettingsCommand : public QUndoCommand {
public:
    static constexpr int kMergeId = 0x5153; // "QS"

    SettingsCommand(Session* session, QList<int> rows, std::vector<TensorSettings> before,
                    std::vector<TensorSettings> after, const QString& description,
                    const QString& mergeKey = {});

    void undo() override;
    void redo() override;
    int id() const override { return m_mergeKey.isEmpty() ? -1 : kMergeId; }
    bool mergeWith(const QUndoCommand* other) override;

private:
    Session* m_session;
    QList<int> m_rows;
    std::vector<TensorSettings> m_before;
    std::vector<TensorSettings> m_after;
    QString m_mergeKey;
};

} // namespace quantscope::ui
