#pragma once

#include <QWidget>

namespace quantscope::ui {

// A panel whose computation is not part of this build: it says plainly what is missing and why,
// and shows no numbers at all rather than invented ones.
class UnavailableView : public QWidget {
    Q_OBJECT
public:
    UnavailableView(const QString& title, const QString& explanation, QWidget* parent = nullptr);

    QString explanation() const { return m_explanation; }

private:
    QString m_explanation;
};

} // namespace quantscope::ui
