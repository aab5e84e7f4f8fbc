#include "plots/PlotBase.h"

#include <QApplication>
#include <QClipboard>
#include <QContextMenuEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QMessageBox>
#include <QSvgGenerator>

namespace quantscope::ui {
namespace {

bool g_presentation = false;

} // namespace

PlotBase::PlotBase(QWidget* parent) : QCustomPlot(parent) {
    setAntialiasedElements(QCP::aeAll);
    setNoAntialiasingOnDrag(true);
    setMinimumSize(200, 150);
    applyStyle();
}

void PlotBase::setPresentationMode(bool on) {
    g_presentation = on;
    const auto widgets = QApplication::allWidgets();
    for (QWidget* widget : widgets)
        if (auto* plot = qobject_cast<PlotBase*>(widget)) {
            plot->applyStyle();
            plot->replot();
        }
}

bool PlotBase::presentationMode() {
    return g_presentation;
}

QColor PlotBase::textColour() const {
    return palette().color(QPalette::WindowText);
}

QColor PlotBase::accentColour(int index) const {
    // Okabe–Ito colours: distinguishable for colour-blind readers, on light and dark backgrounds.
    static const QColor colours[] = {QColor(0x00, 0x72, 0xb2), QColor(0xe6, 0x9f, 0x00),
                                     QColor(0x00, 0x9e, 0x73), QColor(0xcc, 0x79, 0xa7),
                                     QColor(0x56, 0xb4, 0xe9), QColor(0xd5, 0x5e, 0x00),
                                     QColor(0xf0, 0xe4, 0x42)};
    const QColor colour = colours[static_cast<unsigned>(index) % std::size(colours)];
    // The yellow fades into a light background: darken it there.
    if (colour == colours[6] && palette().color(QPalette::Base).lightness() > 128)
        return colour.darker(165);
    return colour;
}

void PlotBase::styleAxis(QCPAxis* axis) {
    const QColor text = textColour();
    QColor grid = text;
    grid.setAlpha(40);
    QFont font = QApplication::font();
    if (presentationMode())
        font.setPointSizeF(font.pointSizeF() * 1.5);
    QFont labelFont = font;
    labelFont.setBold(presentationMode());
    axis->setBasePen(QPen(text, lineScale()));
    axis->setTickPen(QPen(text, lineScale()));
    axis->setSubTickPen(QPen(text, lineScale()));
    axis->setTickLabelColor(text);
    axis->setLabelColor(text);
    axis->setTickLabelFont(font);
    axis->setLabelFont(labelFont);
    axis->grid()->setPen(QPen(grid, 1, Qt::DotLine));
    axis->grid()->setZeroLinePen(QPen(grid, 1));
}

void PlotBase::applyStyle() {
    setBackground(palette().color(QPalette::Base));
    for (QCPAxisRect* rect : axisRects()) {
        rect->setBackground(palette().color(QPalette::Base));
        for (QCPAxis* axis : rect->axes())
            styleAxis(axis);
    }
    if (legend) {
        legend->setBrush(palette().color(QPalette::Base));
        legend->setTextColor(textColour());
        legend->setBorderPen(QPen(textColour().darker(150)));
        QFont font = QApplication::font();
        if (presentationMode())
            font.setPointSizeF(font.pointSizeF() * 1.4);
        legend->setFont(font);
    }
}

void PlotBase::changeEvent(QEvent* event) {
    if (event->type() == QEvent::PaletteChange) {
        applyStyle();
        replot();
    }
    QCustomPlot::changeEvent(event);
}

QString PlotBase::saveTo(const QString& path, int width, int height) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    bool ok = false;
    if (suffix == QLatin1String("png")) {
        ok = savePng(path, width, height, 2.0);
    } else if (suffix == QLatin1String("pdf")) {
        ok = savePdf(path, width, height);
    } else if (suffix == QLatin1String("svg")) {
        QSvgGenerator generator;
        generator.setFileName(path);
        const int w = width > 0 ? width : this->width();
        const int h = height > 0 ? height : this->height();
        generator.setSize(QSize(w, h));
        generator.setViewBox(QRect(0, 0, w, h));
        generator.setTitle(QStringLiteral("Quantscope plot"));
        QCPPainter painter;
        ok = painter.begin(&generator);
        if (ok) {
            toPainter(&painter, w, h);
            painter.end();
        }
    } else {
        return tr("%1: unknown image type; use .png, .svg or .pdf").arg(path);
    }
    return ok ? QString() : tr("%1: could not write the file").arg(path);
}

void PlotBase::copyDataToClipboard() const {
    QApplication::clipboard()->setText(dataAsText());
}

void PlotBase::addContextActions(QMenu&, QPointF) {}

void PlotBase::contextMenuEvent(QContextMenuEvent* event) {
    QMenu menu(this);
    addContextActions(menu, event->pos());
    if (!menu.isEmpty())
        menu.addSeparator();
    menu.addAction(tr("Save plot as…"), this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Save plot"), QString(), tr("PNG image (*.png);;SVG drawing (*.svg);;PDF (*.pdf)"));
        if (path.isEmpty())
            return;
        if (const QString error = saveTo(path); !error.isEmpty())
            QMessageBox::warning(this, tr("Save plot"), error);
    });
    menu.addAction(tr("Copy data as text"), this, &PlotBase::copyDataToClipboard);
    menu.addAction(tr("Reset zoom"), this, [this] {
        rescaleAxes();
        replot();
    });
    menu.exec(event->globalPos());
}

} // namespace quantscope::ui
