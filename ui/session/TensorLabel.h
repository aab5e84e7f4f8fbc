#pragma once

#include <QString>

#include <string>

namespace quantscope {
class WeightFile;
}

namespace quantscope::ui {

// What the tensor browser calls a weight. ONNX exporters name many initializers after nothing
// (`onnx::Conv_193`); the node that reads one says what it is, so such a weight is shown as
// `/layer1/layer1.0/conv1 · weight` (the node's name without its trailing op type, and the role of
// the input it feeds). A module's own name (`q.bias` read by an Add) stays when the node gives it
// no role; other formats, and tensors no node reads, keep their own name.
QString tensorLabel(const WeightFile& file, const std::string& name);

// Where the label comes from, for tooltips and details: "read by /layer1/…/Conv (Conv), input 1",
// or an empty string when the label is the tensor's own name.
QString tensorUseText(const WeightFile& file, const std::string& name);

} // namespace quantscope::ui
