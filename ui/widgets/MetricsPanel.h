#pragma once

#include <QHash>
#include <QWidget>

class QLabel;

namespace quantscope::ui {

class AnalysisController;
class Session;

// Headline numbers for the selected tensor, each with its formula as a tooltip. Shows the exact
// metrics once the worker has them for the current settings; until then (and while a clipping
// line is dragged) the estimate from the fine histogram, marked with "≈".
class MetricsPanel : public QWidget {
    Q_OBJECT
public:
    MetricsPanel(Session* session, AnalysisController* controller, QWidget* parent = nullptr);

    // The shown text of a metric ("sqnr", "mse", "clipped", ...), for tests and copying.
    QString valueText(const QString& key) const;
    bool showsExact() const { return m_exact; }
    QString asText() const;

private:
    void refresh();
    void addRow(const QString& key, const QString& title, const QString& formula);
    void setValue(const QString& key, const QString& text);

    Session* m_session;
    AnalysisController* m_controller;
    QLabel* m_source;
    QHash<QString, QLabel*> m_values;
    QList<QPair<QString, QString>> m_order; // key, title
    bool m_exact = false;
};

} // namespace quantscope::ui
