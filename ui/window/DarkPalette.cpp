#include "window/DarkPalette.h"

#include <QApplication>

namespace quantscope::ui {

QPalette DarkPalette::palette() {
    // Fusion's dark scheme, as KDE's Breeze Dark and Qt's own examples set it up.
    const QColor window(0x2d, 0x2f, 0x33);
    const QColor base(0x1f, 0x21, 0x24);
    const QColor alternate(0x2c, 0x30, 0x35);
    const QColor text(0xe8, 0xea, 0xed);
    const QColor disabledText(0x8a, 0x8d, 0x91);
    QPalette palette;
    palette.setColor(QPalette::Window, window);
    palette.setColor(QPalette::WindowText, text);
    palette.setColor(QPalette::Base, base);
    palette.setColor(QPalette::AlternateBase, alternate);
    palette.setColor(QPalette::ToolTipBase, window);
    palette.setColor(QPalette::ToolTipText, text);
    palette.setColor(QPalette::PlaceholderText, disabledText);
    palette.setColor(QPalette::Text, text);
    palette.setColor(QPalette::Button, QColor(0x3a, 0x3d, 0x42));
    palette.setColor(QPalette::ButtonText, text);
    palette.setColor(QPalette::BrightText, QColor(0xff, 0x6b, 0x6b));
    palette.setColor(QPalette::Light, QColor(0x4a, 0x4e, 0x54));
    palette.setColor(QPalette::Midlight, QColor(0x3f, 0x43, 0x48));
    palette.setColor(QPalette::Mid, QColor(0x5f, 0x63, 0x68));
    palette.setColor(QPalette::Dark, QColor(0x17, 0x18, 0x1a));
    palette.setColor(QPalette::Shadow, Qt::black);
    palette.setColor(QPalette::Highlight, QColor(0x3d, 0x7e, 0xc9));
    palette.setColor(QPalette::HighlightedText, Qt::white);
    palette.setColor(QPalette::Link, QColor(0x7a, 0xb8, 0xff));
    palette.setColor(QPalette::LinkVisited, QColor(0xc0, 0x9a, 0xff));
    for (const QPalette::ColorRole role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        palette.setColor(QPalette::Disabled, role, disabledText);
    return palette;
}

void DarkPalette::apply(bool dark) {
    // The palette the app started with (the desktop's) comes back when the dark one is turned off.
    static const QPalette original = QApplication::palette();
    QApplication::setPalette(dark ? palette() : original);
}

bool DarkPalette::isDark(const QPalette& palette) {
    return palette.color(QPalette::Window).lightness() < palette.color(QPalette::WindowText).lightness();
}

} // namespace quantscope::ui
