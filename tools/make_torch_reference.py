#!/usr/bin/python3
"""Generates the PyTorch conformance reference data in tests/data/torch/.

Run with Debian's interpreter (python3-torch 1.13, python3-numpy):
    /usr/bin/python3 tools/make_torch_reference.py [OUTPUT_DIR]

For several seeded tensors and observer settings it records what torch.ao.quantization's
observers compute: min/max, scale, zero point and the quantized integers. The C++ test
tests/core/tst_torch_conformance.cpp reads the result; nothing here runs at build or test time.

Files written:
  manifest.json   the tensors (name, shape, offset into tensors.bin) and one entry per case
  tensors.bin     all tensors, float32 little endian, concatenated
  integers.bin    all integer outputs, int16 little endian, concatenated
Floats that must match bit for bit (min, max, scale) are written as their IEEE-754 bit
patterns (uint32) next to a decimal value for people.
"""
import json
import os
import struct
import sys
import warnings

import numpy as np
import torch
from torch.ao.quantization.observer import (
    HistogramObserver,
    MinMaxObserver,
    MovingAverageMinMaxObserver,
    MovingAveragePerChannelMinMaxObserver,
    PerChannelMinMaxObserver,
)

warnings.filterwarnings("ignore")  # reduce_range deprecation notices

SHAPE = (4, 8, 32)  # [batches, channels, values]: batches index the moving-average observers
AVERAGING_CONSTANT = 0.01


def make_tensors():
    """The seeded tensors, as float32 numpy arrays of rank 3."""
    tensors = {}
    rng = np.random.default_rng(20240601)
    tensors["normal"] = (rng.standard_normal(SHAPE) * 0.5).astype(np.float32)
    rng = np.random.default_rng(20240602)
    tensors["uniform"] = rng.uniform(-2.0, 3.0, SHAPE).astype(np.float32)
    rng = np.random.default_rng(20240603)
    heavy = rng.standard_t(2.0, SHAPE) * 0.1
    flat = heavy.reshape(-1)
    for index, value in zip(rng.choice(flat.size, 4, replace=False), (9.5, -14.0, 22.0, -6.0)):
        flat[index] = value  # a few outliers far outside the bulk
    tensors["heavy_tailed"] = heavy.astype(np.float32)
    rng = np.random.default_rng(20240604)
    tensors["relu"] = np.maximum(rng.standard_normal(SHAPE) + 0.2, 0.0).astype(np.float32)
    # Different batches have quite different ranges, so the moving average moves.
    rng = np.random.default_rng(20240605)
    scales = np.array([1.0, 0.25, 3.0, 0.5]).reshape(4, 1, 1)
    tensors["batch_varying"] = (rng.standard_normal(SHAPE) * scales + 0.3).astype(np.float32)
    tensors["constant"] = np.full(SHAPE, 0.7, dtype=np.float32)
    tensors["negative_constant"] = np.full((2, 3, 5), -1.25, dtype=np.float32)
    tensors["zeros"] = np.zeros(SHAPE, dtype=np.float32)
    tensors["one_element"] = np.array([-0.37], dtype=np.float32).reshape(1, 1, 1)
    # For HistogramObserver: torch 1.13 passes int(min), int(max) to torch.histc, which only
    # bins the whole tensor when both truncate to 0 (|x| < 1) or the extremes are integers.
    rng = np.random.default_rng(20240606)
    tensors["hist_small"] = np.clip(rng.standard_normal(SHAPE) * 0.2, -0.95, 0.95).astype(np.float32)
    rng = np.random.default_rng(20240607)
    small_skewed = np.clip(rng.gamma(2.0, 0.1, SHAPE) - 0.1, -0.99, 0.99)
    tensors["hist_skewed"] = small_skewed.astype(np.float32)
    rng = np.random.default_rng(20240608)
    integer_ends = np.clip(rng.standard_normal(SHAPE), -3.9, 3.9)
    integer_ends.reshape(-1)[17] = -4.0
    integer_ends.reshape(-1)[901] = 4.0
    tensors["hist_integer_ends"] = integer_ends.astype(np.float32)
    rng = np.random.default_rng(20240609)
    outliers = np.clip(rng.standard_normal(SHAPE) * 0.1, -0.5, 0.5)
    outliers.reshape(-1)[5] = 0.98
    outliers.reshape(-1)[600] = -0.97
    tensors["hist_outliers"] = outliers.astype(np.float32)
    # Three batches for HistogramObserver's combination of histograms, each with integer
    # extremes (so torch 1.13's histc bins them right) and a range that widens, then stays.
    rng = np.random.default_rng(20240610)
    batches = np.empty((3, 16, 32))
    batches[0] = np.clip(rng.standard_normal((16, 32)) * 0.3, -0.99, 0.99)
    batches[1] = np.clip(rng.standard_normal((16, 32)) * 0.8 + 0.5, -1.99, 2.99)
    batches[2] = rng.uniform(-1.5, 2.5, (16, 32))
    for b, (lo, hi) in enumerate([(-1.0, 1.0), (-2.0, 3.0), (-2.0, 3.0)]):
        batches[b].reshape(-1)[3] = lo
        batches[b].reshape(-1)[400] = hi
    tensors["hist_batches"] = batches.astype(np.float32)
    return tensors


# (name, torch dtype, custom quant_min/quant_max or None, our dtype name)
RANGES = [
    ("quint8", torch.quint8, None, "uint8"),
    ("qint8", torch.qint8, None, "int8"),
    ("quint4", torch.quint8, (0, 15), "uint4"),
    ("qint4", torch.qint8, (-8, 7), "int4"),
]
SCHEMES = [("affine", False), ("symmetric", True)]

MINMAX_TENSORS = ["normal", "uniform", "heavy_tailed", "relu", "batch_varying", "constant",
                  "negative_constant", "zeros", "one_element"]
MOVING_TENSORS = ["normal", "heavy_tailed", "relu", "batch_varying", "constant", "zeros", "one_element"]
HISTOGRAM_TENSORS = ["hist_small", "hist_skewed", "hist_integer_ends", "hist_outliers"]


def bits_of(values):
    return [struct.unpack("<I", struct.pack("<f", float(v)))[0] for v in np.asarray(values, np.float32).reshape(-1)]


class Writer:
    def __init__(self):
        self.tensor_blob = bytearray()
        self.integer_blob = bytearray()

    def add_tensor(self, array):
        offset = len(self.tensor_blob) // 4
        self.tensor_blob += np.ascontiguousarray(array, dtype="<f4").tobytes()
        return offset

    def add_integers(self, array):
        array = np.asarray(array).reshape(-1)
        assert array.min() >= -32768 and array.max() <= 32767
        offset = len(self.integer_blob) // 2
        self.integer_blob += array.astype("<i2").tobytes()
        return offset


def observer_kwargs(torch_dtype, custom, symmetric, reduce_range, per_channel):
    if per_channel:
        qscheme = torch.per_channel_symmetric if symmetric else torch.per_channel_affine
    else:
        qscheme = torch.per_tensor_symmetric if symmetric else torch.per_tensor_affine
    kwargs = dict(dtype=torch_dtype, qscheme=qscheme, reduce_range=reduce_range)
    if custom is not None:
        kwargs["quant_min"], kwargs["quant_max"] = custom
    return kwargs


def integers_per_tensor(x, scale, zero_point, torch_dtype, quant_min, quant_max, eight_bit):
    """torch's integers: from quantize_per_tensor for 8-bit dtypes (clamped to the dtype) and
    from fake_quantize_per_tensor_affine (clamped to [quant_min, quant_max]), as
    round(x_hat / scale) + zero_point, which recovers the level exactly."""
    fake = torch.fake_quantize_per_tensor_affine(x, scale, zero_point, quant_min, quant_max)
    fake_q = torch.round(fake / scale).to(torch.int64) + zero_point
    real_q = None
    if eight_bit:
        real_q = torch.quantize_per_tensor(x, scale, zero_point, torch_dtype).int_repr().to(torch.int64)
    return fake_q, real_q


def integers_per_channel(x, scales, zero_points, axis, torch_dtype, quant_min, quant_max, eight_bit):
    fake = torch.fake_quantize_per_channel_affine(x, scales, zero_points.to(torch.int32), axis, quant_min, quant_max)
    shape = [1] * x.dim()
    shape[axis] = -1
    fake_q = torch.round(fake / scales.reshape(shape)).to(torch.int64) + zero_points.reshape(shape).to(torch.int64)
    real_q = None
    if eight_bit:
        real_q = torch.quantize_per_channel(x, scales.double(), zero_points.to(torch.int64), axis,
                                            torch_dtype).int_repr().to(torch.int64)
    return fake_q, real_q


def record_integers(writer, case, fake_q, real_q):
    case["integers_fake_quant"] = writer.add_integers(fake_q.numpy())
    if real_q is not None:
        # quantize_per_tensor/channel clamp to the dtype, fake-quant to [quant_min, quant_max]: they
        # differ only with reduce_range, and only then is the second set stored.
        if torch.equal(fake_q, real_q):
            case["integers_quantize"] = case["integers_fake_quant"]
        else:
            case["integers_quantize"] = writer.add_integers(real_q.numpy())


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "torch")
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    writer = Writer()
    tensors = make_tensors()
    manifest = {
        "generator": "tools/make_torch_reference.py",
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "averaging_constant": AVERAGING_CONSTANT,
        "tensors": [],
        "not_supported_by_torch": [],
        "cases": [],
    }
    for name, array in tensors.items():
        manifest["tensors"].append({"name": name, "shape": list(array.shape), "offset": writer.add_tensor(array),
                                    "elements": int(array.size)})

    def base_case(observer, tensor, range_name, our_dtype, scheme, reduce_range, obs):
        return {"id": f"{observer}/{tensor}/{range_name}/{scheme}/{'reduce' if reduce_range else 'full'}",
                "observer": observer, "tensor": tensor, "torch_dtype": range_name, "dtype": our_dtype,
                "scheme": scheme, "reduce_range": reduce_range,
                "quant_min": int(obs.quant_min), "quant_max": int(obs.quant_max)}

    def finish(case, min_val, max_val, scale, zero_point):
        case["min"] = [float(v) for v in np.asarray(min_val, np.float32).reshape(-1)]
        case["max"] = [float(v) for v in np.asarray(max_val, np.float32).reshape(-1)]
        case["min_bits"] = bits_of(min_val)
        case["max_bits"] = bits_of(max_val)
        case["scale"] = [float(v) for v in scale.reshape(-1)]
        case["scale_bits"] = bits_of(scale.numpy())
        case["zero_point"] = [int(v) for v in zero_point.reshape(-1)]
        manifest["cases"].append(case)

    for range_name, torch_dtype, custom, our_dtype in RANGES:
        eight_bit = custom is None
        for scheme, symmetric in SCHEMES:
            for reduce_range in (False, True):
                if symmetric and reduce_range and torch_dtype == torch.quint8:
                    # torch refuses this combination ("Cannot reduce range for symmetric
                    # quantization for quint8"), so there is nothing to compare with.
                    manifest["not_supported_by_torch"].append(f"{range_name}/{scheme}/reduce")
                    continue
                # Per tensor, one observation of the whole tensor.
                for tensor_name in MINMAX_TENSORS:
                    x = torch.from_numpy(tensors[tensor_name])
                    obs = MinMaxObserver(**observer_kwargs(torch_dtype, custom, symmetric, reduce_range, False))
                    obs(x)
                    scale, zp = obs.calculate_qparams()
                    case = base_case("minmax", tensor_name, range_name, our_dtype, scheme, reduce_range, obs)
                    fake_q, real_q = integers_per_tensor(x, float(scale), int(zp), torch_dtype, obs.quant_min,
                                                         obs.quant_max, eight_bit)
                    record_integers(writer, case, fake_q, real_q)
                    finish(case, obs.min_val, obs.max_val, scale, zp)
                # Moving average over the batches along axis 0, then the whole tensor quantized.
                for tensor_name in MOVING_TENSORS:
                    x = torch.from_numpy(tensors[tensor_name])
                    obs = MovingAverageMinMaxObserver(averaging_constant=AVERAGING_CONSTANT,
                                                      **observer_kwargs(torch_dtype, custom, symmetric,
                                                                        reduce_range, False))
                    for b in range(x.shape[0]):
                        obs(x[b])
                    scale, zp = obs.calculate_qparams()
                    case = base_case("moving_average", tensor_name, range_name, our_dtype, scheme, reduce_range,
                                     obs)
                    case["batch_axis"] = 0
                    fake_q, real_q = integers_per_tensor(x, float(scale), int(zp), torch_dtype, obs.quant_min,
                                                         obs.quant_max, eight_bit)
                    record_integers(writer, case, fake_q, real_q)
                    finish(case, obs.min_val, obs.max_val, scale, zp)
                # Per channel along axis 0 and axis 1.
                for tensor_name in MINMAX_TENSORS:
                    x = torch.from_numpy(tensors[tensor_name])
                    for axis in (0, 1):
                        obs = PerChannelMinMaxObserver(ch_axis=axis, **observer_kwargs(
                            torch_dtype, custom, symmetric, reduce_range, True))
                        obs(x)
                        scale, zp = obs.calculate_qparams()
                        case = base_case("per_channel_minmax", tensor_name, range_name, our_dtype, scheme,
                                         reduce_range, obs)
                        case["id"] += f"/axis{axis}"
                        case["axis"] = axis
                        fake_q, real_q = integers_per_channel(x, scale, zp, axis, torch_dtype, obs.quant_min,
                                                              obs.quant_max, eight_bit)
                        record_integers(writer, case, fake_q, real_q)
                        finish(case, obs.min_val, obs.max_val, scale, zp)
                # Moving average per channel: batches along axis 0, channels along axis 1 of the
                # whole tensor (axis 0 of each batch, which is what torch's observer sees).
                for tensor_name in MOVING_TENSORS:
                    x = torch.from_numpy(tensors[tensor_name])
                    obs = MovingAveragePerChannelMinMaxObserver(
                        averaging_constant=AVERAGING_CONSTANT, ch_axis=0,
                        **observer_kwargs(torch_dtype, custom, symmetric, reduce_range, True))
                    for b in range(x.shape[0]):
                        obs(x[b])
                    scale, zp = obs.calculate_qparams()
                    case = base_case("moving_average_per_channel", tensor_name, range_name, our_dtype, scheme,
                                     reduce_range, obs)
                    case["axis"] = 1
                    case["batch_axis"] = 0
                    fake_q, real_q = integers_per_channel(x, scale, zp, 1, torch_dtype, obs.quant_min,
                                                          obs.quant_max, eight_bit)
                    record_integers(writer, case, fake_q, real_q)
                    finish(case, obs.min_val, obs.max_val, scale, zp)

    # HistogramObserver: one observation of the whole tensor; the range is the result of the
    # L2 search (_non_linear_param_search), scale and zero point from it.
    for tensor_name in HISTOGRAM_TENSORS:
        for range_name, torch_dtype, custom, our_dtype in RANGES[:2]:
            for scheme, symmetric in SCHEMES:
                x = torch.from_numpy(tensors[tensor_name])
                obs = HistogramObserver(**observer_kwargs(torch_dtype, custom, symmetric, False, False))
                obs(x)
                new_min, new_max = obs._non_linear_param_search()
                scale, zp = obs.calculate_qparams()
                case = base_case("histogram", tensor_name, range_name, our_dtype, scheme, False, obs)
                case["observed_min"] = float(obs.min_val)
                case["observed_max"] = float(obs.max_val)
                case["bins"] = int(obs.bins)
                finish(case, new_min, new_max, scale, zp)

    # HistogramObserver over the batches of hist_batches, observed in order; torch's combined
    # histogram is stored too, as a tensor.
    for range_name, torch_dtype, custom, our_dtype in RANGES[:2]:
        for scheme, symmetric in SCHEMES:
            x = torch.from_numpy(tensors["hist_batches"])
            obs = HistogramObserver(**observer_kwargs(torch_dtype, custom, symmetric, False, False))
            for b in range(x.shape[0]):
                obs(x[b])
            new_min, new_max = obs._non_linear_param_search()
            scale, zp = obs.calculate_qparams()
            case = base_case("histogram", "hist_batches", range_name, our_dtype, scheme, False, obs)
            case["id"] += "/batches"
            case["batch_axis"] = 0
            case["observed_min"] = float(obs.min_val)
            case["observed_max"] = float(obs.max_val)
            case["bins"] = int(obs.bins)
            histogram_name = f"hist_batches_histogram_{range_name}_{scheme}"
            histogram = obs.histogram.numpy().astype(np.float32)
            manifest["tensors"].append({"name": histogram_name, "shape": list(histogram.shape),
                                        "offset": writer.add_tensor(histogram), "elements": int(histogram.size)})
            case["torch_histogram"] = histogram_name
            finish(case, new_min, new_max, scale, zp)

    with open(os.path.join(out_dir, "tensors.bin"), "wb") as f:
        f.write(writer.tensor_blob)
    with open(os.path.join(out_dir, "integers.bin"), "wb") as f:
        f.write(writer.integer_blob)
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        # One tensor or case per line: compact, and diffs stay readable.
        f.write("{\n")
        for key, value in manifest.items():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                f.write(f' "{key}": [\n  ' + ",\n  ".join(json.dumps(item) for item in value) + "\n ]")
            else:
                f.write(f' "{key}": {json.dumps(value)}')
            f.write(",\n" if key != list(manifest)[-1] else "\n")
        f.write("}\n")
    print(f"{len(manifest['cases'])} cases, {len(writer.tensor_blob)} tensor bytes, "
          f"{len(writer.integer_blob)} integer bytes -> {out_dir}")


if __name__ == "__main__":
    main()
