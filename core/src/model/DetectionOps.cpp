// Ops of detection heads: NonMaxSuppression (greedy, per batch and class, corner or centre box
// format) and RoiAlign (average or max of bilinear samples per bin, as ONNX Runtime computes it,
// with opset 16's half_pixel coordinate mode).
#include "model/Ops.h"

#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

namespace quantscope::ops {
namespace {

struct Box {
    double y1 = 0, x1 = 0, y2 = 0, x2 = 0;
    double area() const { return (y2 - y1) * (x2 - x1); }
};

double intersectionOverUnion(const Box& a, const Box& b) {
    const double h = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
    const double w = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
    if (h <= 0 || w <= 0)
        return 0.0;
    const double overlap = h * w, total = a.area() + b.area() - overlap;
    return total > 0 ? overlap / total : 0.0;
}

std::vector<Value> nonMaxSuppression(const Node& n, const Inputs& in, int64_t) {
    const Value& boxes = requireInput(n, in, 0);
    const Value& scores = requireInput(n, in, 1);
    if (boxes.isInteger() || scores.isInteger() || boxes.rank() != 3 || boxes.shape[2] != 4 ||
        scores.rank() != 3 || scores.shape[0] != boxes.shape[0] || scores.shape[2] != boxes.shape[1])
        throw Error(nodeSubject(n),
                    "needs float boxes [batch, boxes, 4] and scores [batch, classes, boxes], found " +
                        shapeToString(boxes.shape) + " and " + shapeToString(scores.shape));
    int64_t maxPerClass = 0;
    if (const Value* v = optionalInput(in, 2); v != nullptr && v->size() > 0)
        maxPerClass = integerValues(n, *v, "max_output_boxes_per_class")[0];
    const Value* iouValue = optionalInput(in, 3);
    const Value* scoreValue = optionalInput(in, 4);
    const double iouThreshold = iouValue != nullptr && iouValue->size() > 0 ? iouValue->number(0) : 0.0;
    const bool filterScores = scoreValue != nullptr && scoreValue->size() > 0;
    const double scoreThreshold = filterScores ? scoreValue->number(0) : 0.0;
    const bool centred = n.intAttribute("center_point_box", 0) != 0;
    if (iouThreshold < 0.0 || iouThreshold > 1.0)
        throw Error(nodeSubject(n), "iou_threshold must be in [0, 1]");

    const int64_t batches = boxes.shape[0], count = boxes.shape[1], classes = scores.shape[1];
    std::vector<Box> parsed(static_cast<std::size_t>(batches * count));
    for (int64_t i = 0; i < batches * count; ++i) {
        const float* b = boxes.data.data() + i * 4;
        Box& box = parsed[i];
        if (centred) { // [x_centre, y_centre, width, height]
            box = {b[1] - b[3] / 2.0, b[0] - b[2] / 2.0, b[1] + b[3] / 2.0, b[0] + b[2] / 2.0};
        } else { // [y1, x1, y2, x2], either corner first
            box = {std::min(b[0], b[2]), std::min(b[1], b[3]), std::max(b[0], b[2]), std::max(b[1], b[3])};
        }
    }
    std::vector<int64_t> selected;
    std::vector<int64_t> order;
    for (int64_t b = 0; b < batches; ++b) {
        for (int64_t c = 0; c < classes; ++c) {
            const float* s = scores.data.data() + (b * classes + c) * count;
            order.clear();
            for (int64_t i = 0; i < count; ++i) {
                if (!filterScores || s[i] > scoreThreshold)
                    order.push_back(i);
            }
            std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return s[x] > s[y]; });
            std::vector<int64_t> kept;
            for (int64_t i : order) {
                if (static_cast<int64_t>(kept.size()) >= maxPerClass)
                    break;
                const bool suppressed = std::any_of(kept.begin(), kept.end(), [&](int64_t k) {
                    return intersectionOverUnion(parsed[b * count + i], parsed[b * count + k]) > iouThreshold;
                });
                if (!suppressed)
                    kept.push_back(i);
            }
            for (int64_t k : kept)
                selected.insert(selected.end(), {b, c, k});
        }
    }
    const auto rows = static_cast<int64_t>(selected.size() / 3);
    return {Value::integers(DType::I64, {rows, 3}, std::move(selected))};
}

// The bilinear sample of one plane at (y, x), ONNX Runtime's RoiAlign rules: 0 beyond one pixel
// outside, clamped to the edge inside that margin. Returns the four weighted corner values.
std::array<double, 4> bilinearCorners(const float* plane, int64_t height, int64_t width, double y, double x) {
    if (y < -1.0 || y > static_cast<double>(height) || x < -1.0 || x > static_cast<double>(width))
        return {0.0, 0.0, 0.0, 0.0};
    y = std::max(y, 0.0);
    x = std::max(x, 0.0);
    auto yLow = static_cast<int64_t>(y), xLow = static_cast<int64_t>(x);
    int64_t yHigh = yLow + 1, xHigh = xLow + 1;
    if (yLow >= height - 1) {
        yHigh = yLow = height - 1;
        y = static_cast<double>(yLow);
    }
    if (xLow >= width - 1) {
        xHigh = xLow = width - 1;
        x = static_cast<double>(xLow);
    }
    const double ly = y - static_cast<double>(yLow), lx = x - static_cast<double>(xLow);
    const double hy = 1.0 - ly, hx = 1.0 - lx;
    return {hy * hx * plane[yLow * width + xLow], hy * lx * plane[yLow * width + xHigh],
            ly * hx * plane[yHigh * width + xLow], ly * lx * plane[yHigh * width + xHigh]};
}

std::vector<Value> roiAlign(const Node& n, const Inputs& in, int64_t opset) {
    const Value& x = requireInput(n, in, 0);
    const Value& rois = requireInput(n, in, 1);
    const Value& batchIndices = requireInput(n, in, 2);
    if (x.isInteger() || x.rank() != 4 || rois.isInteger() || rois.rank() != 2 || rois.shape[1] != 4)
        throw Error(nodeSubject(n), "needs a float input N x C x H x W and rois [count, 4], found " +
                                        shapeToString(x.shape) + " and " + shapeToString(rois.shape));
    const auto batchOf = integerValues(n, batchIndices, "batch_indices");
    const int64_t count = rois.shape[0];
    if (static_cast<int64_t>(batchOf.size()) != count)
        throw Error(nodeSubject(n), "batch_indices needs " + std::to_string(count) + " values");
    const std::string mode = n.stringAttribute("mode", "avg");
    if (mode != "avg" && mode != "max")
        throw Error(nodeSubject(n), "mode '" + mode + "' is not avg or max");
    const int64_t outH = n.intAttribute("output_height", 1), outW = n.intAttribute("output_width", 1);
    const int64_t samplingRatio = n.intAttribute("sampling_ratio", 0);
    const double scale = n.floatAttribute("spatial_scale", 1.0f);
    const bool halfPixel =
        opset >= 16 && n.stringAttribute("coordinate_transformation_mode", "half_pixel") == "half_pixel";
    constexpr int64_t kLimit = int64_t{1} << 16;
    if (outH < 1 || outW < 1 || outH > kLimit || outW > kLimit || samplingRatio < 0 || samplingRatio > kLimit)
        throw Error(nodeSubject(n),
                    "output_height / output_width must be in 1..65536, sampling_ratio 0..65536");
    const int64_t channels = x.shape[1], height = x.shape[2], width = x.shape[3];
    Value y = zeros(x.dtype, {count, channels, outH, outW});
    const double offset = halfPixel ? 0.5 : 0.0;
    for (int64_t r = 0; r < count; ++r) {
        if (batchOf[r] < 0 || batchOf[r] >= x.shape[0])
            throw Error(nodeSubject(n), "batch index " + std::to_string(batchOf[r]) + " is outside [0, " +
                                            std::to_string(x.shape[0]) + ")");
        const float* roi = rois.data.data() + r * 4;
        const double startW = roi[0] * scale - offset, startH = roi[1] * scale - offset;
        double roiW = roi[2] * scale - offset - startW, roiH = roi[3] * scale - offset - startH;
        if (!halfPixel) { // the old mode forces a roi of at least one pixel
            roiW = std::max(roiW, 1.0);
            roiH = std::max(roiH, 1.0);
        }
        const double binH = roiH / static_cast<double>(outH), binW = roiW / static_cast<double>(outW);
        const int64_t gridH =
            samplingRatio > 0 ? samplingRatio : static_cast<int64_t>(std::ceil(roiH / outH));
        const int64_t gridW =
            samplingRatio > 0 ? samplingRatio : static_cast<int64_t>(std::ceil(roiW / outW));
        if (gridH > kLimit || gridW > kLimit)
            throw Error(nodeSubject(n), "roi " + std::to_string(r) + " needs too many samples per bin");
        const double samples = static_cast<double>(std::max<int64_t>(gridH * gridW, 1));
        for (int64_t c = 0; c < channels; ++c) {
            const float* plane = x.data.data() + (batchOf[r] * channels + c) * height * width;
            for (int64_t ph = 0; ph < outH; ++ph) {
                for (int64_t pw = 0; pw < outW; ++pw) {
                    double sum = 0.0, peak = 0.0;
                    bool first = true;
                    for (int64_t iy = 0; iy < gridH; ++iy) {
                        const double sy = startH + ph * binH + (iy + 0.5) * binH / gridH;
                        for (int64_t ix = 0; ix < gridW; ++ix) {
                            const double sx = startW + pw * binW + (ix + 0.5) * binW / gridW;
                            const auto corners = bilinearCorners(plane, height, width, sy, sx);
                            sum += corners[0] + corners[1] + corners[2] + corners[3];
                            // ONNX Runtime's max mode: the largest weighted corner of each sample.
                            const double largest = *std::max_element(corners.begin(), corners.end());
                            peak = first ? largest : std::max(peak, largest);
                            first = false;
                        }
                    }
                    y.data[((r * channels + c) * outH + ph) * outW + pw] =
                        static_cast<float>(mode == "avg" ? sum / samples : peak);
                }
            }
        }
    }
    return single(std::move(y));
}

} // namespace

void addDetectionOps(OpTable& t) {
    t.push_back({"NonMaxSuppression", 10, 21, nonMaxSuppression});
    t.push_back({"RoiAlign", 10, 21, roiAlign});
}

} // namespace quantscope::ops
