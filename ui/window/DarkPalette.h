#pragma once

#include <QPalette>

namespace quantscope::ui {

// The app's dark palette (View ▸ Dark palette, `--palette dark`): light text on dark greys, with
// alternate table rows a visible shade apart and links and highlights that read on the dark base.
// Plots, tables and the lessons' rich text take their colours from the application palette.
class DarkPalette {
public:
    static QPalette palette();
    // Sets the application's palette: the dark one, or the one the app started with.
    static void apply(bool dark);
    // Whether text is light on a dark background in `palette`.
    static bool isDark(const QPalette& palette);
};

} // namespace quantscope::ui
