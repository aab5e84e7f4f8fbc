#pragma once

#include <QFontMetrics>
#include <QString>

namespace quantscope::ui {

// A layer or tensor path ("/layer2/layer2.0/downsample/downsample.0/Conv") shortened to `width`
// pixels so that its last two components stay whole: the middle of what comes before them gives
// way first ("/layer2/…/downsample.0/Conv"), then the front ("…downsample.0/Conv"), and only a
// tail that alone is too wide loses its own start. Names without '/' are elided in the middle.
QString elidePath(const QString& path, const QFontMetrics& metrics, int width);

} // namespace quantscope::ui
