#include "widgets/FitScrollArea.h"

#include <QEvent>
#include <QScrollBar>

#include <algorithm>

namespace quantscope::ui {

FitScrollArea::FitScrollArea(QWidget* parent) : QScrollArea(parent) {
    setWidgetResizable(false);
    setFrameShape(QFrame::NoFrame);
    // The widget is set later: its layout requests arrive at the viewport's filter.
    viewport()->installEventFilter(this);
}

int FitScrollArea::minimumContentHeight(int width) const {
    const QWidget* content = widget();
    if (!content)
        return 0;
    // A word-wrapped label alone needs its height at this width. In a layout, Qt knows only the
    // preferred height for a width (hfw): the minimum size is what the page can be squeezed to.
    if (!content->layout() && content->hasHeightForWidth())
        return std::max(content->minimumSizeHint().height(), content->heightForWidth(width));
    return std::max(content->minimumSizeHint().height(), content->minimumHeight());
}

void FitScrollArea::resizeEvent(QResizeEvent* event) {
    QScrollArea::resizeEvent(event);
    fitWidget();
}

bool FitScrollArea::eventFilter(QObject* watched, QEvent* event) {
    // A child's new minimum (larger type, longer text) reaches the widget as a LayoutRequest.
    if (watched == widget() && event->type() == QEvent::LayoutRequest)
        fitWidget();
    else if (watched == viewport() && event->type() == QEvent::ChildAdded && widget())
        widget()->installEventFilter(this);
    return QScrollArea::eventFilter(watched, event);
}

void FitScrollArea::fitWidget() {
    QWidget* content = widget();
    if (!content)
        return;
    // Width first: a vertical scroll bar takes some of it, and wrapped text then needs more height.
    const int minimumWidth = content->minimumSizeHint().width();
    QSize view = maximumViewportSize();
    int width = std::max(view.width(), minimumWidth);
    int height = minimumContentHeight(width);
    if (height > view.height()) {
        width = std::max(view.width() - verticalScrollBar()->sizeHint().width(), minimumWidth);
        height = minimumContentHeight(width);
    }
    if (width > view.width())
        view.rheight() -= horizontalScrollBar()->sizeHint().height();
    content->resize(width, std::max(height, view.height()));
}

} // namespace quantscope::ui
