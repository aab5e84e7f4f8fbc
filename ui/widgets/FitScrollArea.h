#pragma once

#include <QScrollArea>

namespace quantscope::ui {

// A scroll area that gives its widget exactly the viewport's size whenever that is at least the
// widget's minimum size, and scrolls only when it is not. QScrollArea's resizable mode grows a
// widget with word-wrapped text to its preferred height for the width (every page of a tab
// widget counts), so pages of text and plots scroll although they would fit.
class FitScrollArea : public QScrollArea {
    Q_OBJECT
public:
    explicit FitScrollArea(QWidget* parent = nullptr);

    // The widget's least height at this width.
    int minimumContentHeight(int width) const;

protected:
    void resizeEvent(QResizeEvent* event) override;
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void fitWidget();
};

} // namespace quantscope::ui
