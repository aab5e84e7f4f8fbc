#!/usr/bin/python3
"""Writes the PyTorch and packed-checkpoint test files under tests/data/io/pytorch/ and
tests/data/io/packed/ that tests/core/tst_io_torch*.cpp and tst_io_packed*.cpp read.

Run with Debian's python3 (python3-torch, python3-numpy):
    /usr/bin/python3 tools/make_packed_checkpoint_data.py
Values come from fixed seeds; the files are committed, so building and testing need no Python.

PyTorch checkpoints are written by torch.save itself (its zip format). The hostile checkpoints are
zips whose data.pkl is assembled opcode by opcode below (Lib/pickletools.py names them): nothing
here ever unpickles them, so the os.system call they describe is never made.
"""
import collections
import json
import os
import struct
import sys
import zipfile

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "io")
TORCH_OUT = os.path.join(ROOT, "pytorch")
PACKED_OUT = os.path.join(ROOT, "packed")


def expected_npz(path, tensors):
    """The values a reader must produce, as float32 arrays keyed by tensor name."""
    np.savez(path, **{name: t.detach().to(torch.float32).numpy() for name, t in tensors.items()})


# ---------------------------------------------------------------- PyTorch checkpoints
def resnet_like_state_dict():
    """The state dict of a torchvision-ResNet-like stem and block (names, shapes and dtypes as
    torchvision's resnet18 has them, just fewer channels)."""
    torch.manual_seed(12)
    model = torch.nn.Module()
    model.conv1 = torch.nn.Conv2d(3, 8, 7, stride=2, padding=3, bias=False)
    model.bn1 = torch.nn.BatchNorm2d(8)
    block = torch.nn.Module()
    block.conv1 = torch.nn.Conv2d(8, 8, 3, padding=1, bias=False)
    block.bn1 = torch.nn.BatchNorm2d(8)
    model.layer1 = torch.nn.Sequential(block)
    model.fc = torch.nn.Linear(8, 10)
    with torch.no_grad():
        model.bn1.running_mean.uniform_(-1, 1)
        model.bn1.running_var.uniform_(0.5, 2)
        model.bn1.num_batches_tracked.fill_(123)
    return model.state_dict()


def write_torch_checkpoints():
    os.makedirs(TORCH_OUT, exist_ok=True)
    state = resnet_like_state_dict()
    torch.save(state, os.path.join(TORCH_OUT, "resnet_like.pt"))
    expected_npz(os.path.join(TORCH_OUT, "resnet_like_expected.npz"), state)

    # A training checkpoint: the state dict nested under "model", plain values beside it, a list and
    # a tuple of tensors, and nn.Parameters (pickled through _rebuild_parameter).
    torch.manual_seed(3)
    extras = [torch.arange(4, dtype=torch.float32), (torch.ones(2, 2), torch.nn.Parameter(torch.full((3,), 2.5)))]
    nested = {
        "epoch": 7,
        "lr": 0.01,
        "arch": "resnet_like",
        "best": True,
        "model": collections.OrderedDict([("fc.weight", torch.randn(3, 4)), ("fc.bias", torch.randn(3))]),
        "extras": extras,
    }
    torch.save(nested, os.path.join(TORCH_OUT, "nested.pth"))
    expected_npz(os.path.join(TORCH_OUT, "nested_expected.npz"), {
        "model.fc.weight": nested["model"]["fc.weight"], "model.fc.bias": nested["model"]["fc.bias"],
        "extras.0": extras[0], "extras.1.0": extras[1][0], "extras.1.1": extras[1][1]})

    # Views of shared storages and every common dtype.
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 8 - 1
    views = collections.OrderedDict([
        ("base", base),
        ("transposed", base.t()),                 # strides (1, 6)
        ("sliced", base[1:, ::2]),                # offset 6, strides (6, 2)
        ("row", base[2]),                         # offset 12, contiguous
        ("column", base[:, 5]),                   # offset 5, stride 6
        ("expanded", torch.tensor([1.5, -2.0]).reshape(2, 1).expand(2, 3)),  # stride 0
        ("bf16", (torch.arange(8, dtype=torch.float32) * 0.3 - 1).to(torch.bfloat16)),
        ("fp16", (torch.arange(6, dtype=torch.float32) * 0.7 - 2).to(torch.float16).reshape(2, 3).t()),
        ("f64", torch.linspace(-1, 1, 5, dtype=torch.float64)),
        ("i8", torch.tensor([-128, -1, 0, 1, 127], dtype=torch.int8)),
        ("u8", torch.tensor([0, 1, 200, 255], dtype=torch.uint8)),
        ("i32", torch.tensor([-70000, 0, 70000], dtype=torch.int32)),
        ("i64", torch.tensor([[-5, 6], [7, 8]], dtype=torch.int64)),
        ("bool", torch.tensor([True, False, True])),
        ("scalar", torch.tensor(3.25)),
        ("empty", torch.zeros(0, 3)),
    ])
    torch.save(views, os.path.join(TORCH_OUT, "views.pt"))
    expected_npz(os.path.join(TORCH_OUT, "views_expected.npz"), views)

    write_hostile_checkpoints()


# A pickle assembled by hand. Each helper returns the bytes of one opcode and its argument.
def p_proto(version=2): return b"\x80" + bytes([version])
def p_global(module, name): return b"c" + module.encode() + b"\n" + name.encode() + b"\n"
def p_str(text): return b"X" + struct.pack("<I", len(text.encode())) + text.encode()
def p_int(value): return b"J" + struct.pack("<i", value)
P_MARK, P_TUPLE, P_REDUCE, P_STOP, P_EMPTY_DICT, P_EMPTY_LIST, P_EMPTY_TUPLE = b"(", b"t", b"R", b".", b"}", b"]", b")"
P_SETITEM, P_APPEND, P_BINPERSID, P_FALSE = b"s", b"a", b"Q", b"\x89"


def p_tensor(key, storage_elements, offset, size, stride):
    """_rebuild_tensor_v2(persistent storage, offset, size, stride, False, OrderedDict())."""
    storage = (P_MARK + p_str("storage") + p_global("torch", "FloatStorage") + p_str(key) + p_str("cpu") +
               p_int(storage_elements) + P_TUPLE + P_BINPERSID)
    ints = lambda values: P_MARK + b"".join(p_int(v) for v in values) + P_TUPLE
    return (p_global("torch._utils", "_rebuild_tensor_v2") + P_MARK + storage + p_int(offset) + ints(size) +
            ints(stride) + P_FALSE + p_global("collections", "OrderedDict") + P_EMPTY_TUPLE + P_REDUCE +
            P_TUPLE + P_REDUCE)


def write_zip_checkpoint(path, pickle, storages):
    """The layout torch.save writes: archive/data.pkl, archive/data/<key>, archive/version."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle)
        for key, raw in storages.items():
            z.writestr("archive/data/" + key, raw)
        z.writestr("archive/version", "3\n")


def write_hostile_checkpoints():
    floats6 = struct.pack("<6f", *range(6))
    one_tensor = p_proto() + P_EMPTY_DICT + p_str("w") + p_tensor("0", 6, 0, [2, 3], [3, 1]) + P_SETITEM + P_STOP
    # The control: a hand-made checkpoint that is valid, so the hostile ones differ in one thing each.
    write_zip_checkpoint(os.path.join(TORCH_OUT, "handmade.pt"), one_tensor, {"0": floats6})

    # __reduce__ returning (os.system, ("echo pwned",)) pickles to exactly these opcodes.
    system = p_proto() + p_global("posix", "system") + P_MARK + p_str("echo pwned > /tmp/quantscope_pwned") + \
        P_TUPLE + P_REDUCE + P_STOP
    write_zip_checkpoint(os.path.join(TORCH_OUT, "hostile_system.pt"), system, {})
    # A whole module pickled (torch.save(model)) refers to its class: refused by name.
    module = p_proto() + p_global("torch.nn.modules.linear", "Linear") + P_EMPTY_TUPLE + P_REDUCE + P_STOP
    write_zip_checkpoint(os.path.join(TORCH_OUT, "hostile_module.pt"), module, {})
    # The storage entry archive/data/0 is missing.
    write_zip_checkpoint(os.path.join(TORCH_OUT, "hostile_missing_storage.pt"), one_tensor, {})
    # A view of 10 elements over a storage of 6.
    past = p_proto() + P_EMPTY_DICT + p_str("w") + p_tensor("0", 6, 0, [10], [1]) + P_SETITEM + P_STOP
    write_zip_checkpoint(os.path.join(TORCH_OUT, "hostile_past_storage.pt"), past, {"0": floats6})
    # The pickle says 6 floats, the entry holds 3.
    write_zip_checkpoint(os.path.join(TORCH_OUT, "hostile_short_storage.pt"), one_tensor, {"0": floats6[:12]})
    # 100,000 nested lists.
    depth = 100000
    deep = p_proto() + P_EMPTY_LIST * depth + P_APPEND * (depth - 1) + P_STOP
    write_zip_checkpoint(os.path.join(TORCH_OUT, "hostile_deep.pt"), deep, {})
    # LONG_BINGET of a memo index never stored.
    memo = p_proto() + P_EMPTY_DICT + b"r" + struct.pack("<I", 0xFFFFFFF0) + b"j" + struct.pack("<I", 0xFFFFFFFF) + P_STOP
    write_zip_checkpoint(os.path.join(TORCH_OUT, "hostile_memo.pt"), memo, {})
    # The pickle stops in the middle of a string.
    write_zip_checkpoint(os.path.join(TORCH_OUT, "hostile_truncated_pickle.pt"), one_tensor[:40], {"0": floats6})
    # The zip itself cut in half (no central directory).
    with open(os.path.join(TORCH_OUT, "resnet_like.pt"), "rb") as f:
        whole = f.read()
    with open(os.path.join(TORCH_OUT, "hostile_truncated_zip.pt"), "wb") as f:
        f.write(whole[: len(whole) // 2])
    # A legacy (pre-1.6) checkpoint: a bare pickle stream.
    with open(os.path.join(TORCH_OUT, "legacy.pt"), "wb") as f:
        torch.save({"w": torch.ones(2)}, f, _use_new_zipfile_serialization=False)


# ---------------------------------------------------------------- packed checkpoints
def write_safetensors(path, tensors):
    """tensors: list of (name, numpy array[, safetensors dtype]); the header follows the safetensors
    specification. fp8 tensors are uint8 arrays of their bit patterns with the dtype "F8_E4M3" or
    "F8_E5M2"."""
    dtypes = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.int32): "I32",
              np.dtype(np.int64): "I64", np.dtype(np.uint8): "U8"}
    header, data = {}, b""
    for name, array, *dtype in tensors:
        raw = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype[0] if dtype else dtypes[array.dtype], "shape": list(array.shape),
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def write_case(folder, tensors, expected, config=None):
    """One test case: folder/model.safetensors, folder/config.json (when given) and
    folder/expected.npz holding each dequantized weight as float32."""
    path = os.path.join(PACKED_OUT, folder)
    os.makedirs(path, exist_ok=True)
    write_safetensors(os.path.join(path, "model.safetensors"), tensors)
    config_path = os.path.join(path, "config.json")
    if config is not None:
        with open(config_path, "w") as f:
            json.dump({"architectures": ["LlamaForCausalLM"], "quantization_config": config}, f, indent=2)
    elif os.path.exists(config_path):
        os.remove(config_path)
    np.savez(os.path.join(path, "expected.npz"), **{k: v.astype(np.float32) for k, v in expected.items()})


def pack_rows(values, bits):
    """Packs unsigned `bits`-wide integers along axis 0 into int32, the first value in the lowest
    bits (AutoGPTQ's qweight: 32 / bits consecutive inputs per int32)."""
    per = 32 // bits
    values = values.astype(np.uint32)
    packed = np.zeros((values.shape[0] // per, values.shape[1]), dtype=np.uint32)
    for j in range(per):
        packed |= values[j::per] << np.uint32(bits * j)
    return packed.view(np.int32)


def pack_columns(values, bits, order=None):
    """Packs along axis 1; nibble j of each int32 holds column order[j] of its group of 32 / bits."""
    per = 32 // bits
    order = order or list(range(per))
    values = values.astype(np.uint32)
    packed = np.zeros((values.shape[0], values.shape[1] // per), dtype=np.uint32)
    for j in range(per):
        packed |= values[:, order[j]::per] << np.uint32(bits * j)
    return packed.view(np.int32)


def affine_groups(weight, group_of_input, groups, bits, symmetric):
    """Per (group, output) scale and zero as GPTQ and AWQ compute them; returns the unsigned codes
    [in, out], scales [groups, out] (float16) and zeros [groups, out] (integers)."""
    out_features, in_features = weight.shape
    qmax = 2 ** bits - 1
    scales = np.zeros((groups, out_features), dtype=np.float16)
    zeros = np.zeros((groups, out_features), dtype=np.int64)
    for g in range(groups):
        columns = weight[:, group_of_input == g]
        low, high = np.minimum(columns.min(axis=1), 0), np.maximum(columns.max(axis=1), 0)
        if symmetric:
            high = np.maximum(-low, high)
            scale = 2 * high / qmax
            zero = np.full(out_features, (qmax + 1) // 2)
        else:
            scale = (high - low) / qmax
            zero = np.round(-low / scale).astype(np.int64)
        scales[g] = scale.astype(np.float16)
        zeros[g] = zero
    s = scales.astype(np.float32)[group_of_input].T  # [out, in]
    z = zeros[group_of_input].T
    codes = np.clip(np.round(weight / s) + z, 0, qmax).astype(np.int64)
    dequantized = ((codes - z) * s).astype(np.float32)  # what every reader must produce
    return codes.T, scales, zeros, dequantized


def random_weight(seed, out_features, in_features):
    rng = np.random.default_rng(seed)
    weight = rng.standard_normal((out_features, in_features)).astype(np.float32) * 0.05
    weight[3, 5] = 0.4  # an outlier
    return weight


OUT_FEATURES, IN_FEATURES, GROUP = 16, 32, 8
MODULES = ["model.layers.0.self_attn.q_proj", "model.layers.0.mlp.down_proj"]


def gptq_case(folder, version, symmetric, with_g_idx, desc_act, config_format):
    tensors, expected = [], {}
    for index, module in enumerate(MODULES):
        weight = random_weight(100 + index, OUT_FEATURES, IN_FEATURES)
        groups = IN_FEATURES // GROUP
        if desc_act:  # inputs visited in a permuted order: group ids are no longer sorted
            permutation = np.random.default_rng(7 + index).permutation(IN_FEATURES)
            group_of_input = np.empty(IN_FEATURES, dtype=np.int64)
            group_of_input[permutation] = np.arange(IN_FEATURES) // GROUP
        else:
            group_of_input = np.arange(IN_FEATURES) // GROUP
        codes, scales, zeros, dequantized = affine_groups(weight, group_of_input, groups, 4, symmetric)
        # v1 stores zero - 1 (a zero of 0 would wrap to 15: the v1 format cannot hold it).
        assert version == 2 or (zeros >= 1).all()
        stored_zeros = zeros - 1 if version == 1 else zeros
        tensors.append((module + ".qweight", pack_rows(codes, 4)))
        tensors.append((module + ".qzeros", pack_columns(stored_zeros & 0xF, 4)))
        tensors.append((module + ".scales", scales))
        if with_g_idx:
            tensors.append((module + ".g_idx", group_of_input.astype(np.int32)))
        tensors.append((module + ".bias", np.linspace(-1, 1, OUT_FEATURES).astype(np.float16)))
        expected[module + ".weight"] = dequantized
        expected[module + ".bias"] = np.linspace(-1, 1, OUT_FEATURES).astype(np.float16)
    tensors.append(("model.norm.weight", np.ones(IN_FEATURES, dtype=np.float16)))
    expected["model.norm.weight"] = np.ones(IN_FEATURES, dtype=np.float32)
    config = None
    if config_format is not None:
        config = {"quant_method": "gptq", "bits": 4, "group_size": GROUP, "desc_act": desc_act, "sym": symmetric}
        if config_format != "absent":
            config["checkpoint_format"] = config_format
    write_case(folder, tensors, expected, config)


AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7]  # AutoAWQ's nibble j holds column AWQ_ORDER[j] of each 8


def awq_case(folder):
    tensors, expected = [], {}
    for index, module in enumerate(MODULES):
        weight = random_weight(200 + index, OUT_FEATURES, IN_FEATURES)
        group_of_input = np.arange(IN_FEATURES) // GROUP
        codes, scales, zeros, dequantized = affine_groups(weight, group_of_input, IN_FEATURES // GROUP, 4, False)
        tensors.append((module + ".qweight", pack_columns(codes, 4, AWQ_ORDER)))  # [in, out / 8]
        tensors.append((module + ".qzeros", pack_columns(zeros, 4, AWQ_ORDER)))   # [groups, out / 8]
        tensors.append((module + ".scales", scales))
        expected[module + ".weight"] = dequantized
    config = {"quant_method": "awq", "bits": 4, "group_size": GROUP, "zero_point": True, "version": "gemm"}
    write_case(folder, tensors, expected, config)


def compressed_tensors_case(folder, symmetric, with_config):
    """compressed-tensors "pack-quantized": signed codes offset by 8, eight per int32 along the
    input axis; scales [out, groups]; asymmetric zero points packed the same way along outputs."""
    tensors, expected = [], {}
    groups = IN_FEATURES // GROUP
    for index, module in enumerate(MODULES):
        weight = random_weight(300 + index, OUT_FEATURES, IN_FEATURES)
        grouped = weight.reshape(OUT_FEATURES, groups, GROUP)
        if symmetric:
            scale = (np.abs(grouped).max(axis=2) / 7.5).astype(np.float16)  # (qmax - qmin) / 2 = 7.5
            zero = np.zeros((OUT_FEATURES, groups), dtype=np.int64)
        else:
            low, high = np.minimum(grouped.min(axis=2), 0), np.maximum(grouped.max(axis=2), 0)
            scale = ((high - low) / 15).astype(np.float16)
            zero = np.clip(-8 - np.round(low / scale.astype(np.float32)), -8, 7).astype(np.int64)
        s = np.repeat(scale.astype(np.float32), GROUP, axis=1)
        z = np.repeat(zero, GROUP, axis=1)
        codes = np.clip(np.round(weight / s) + z, -8, 7).astype(np.int64)
        expected[module + ".weight"] = ((codes - z) * s).astype(np.float32)
        tensors.append((module + ".weight_packed", pack_columns(codes + 8, 4)))
        tensors.append((module + ".weight_scale", scale))
        tensors.append((module + ".weight_shape", np.array([OUT_FEATURES, IN_FEATURES], dtype=np.int64)))
        if not symmetric:
            tensors.append((module + ".weight_zero_point", pack_rows(zero + 8, 4)))  # [out / 8, groups]
    config = None
    if with_config:
        config = {"quant_method": "compressed-tensors", "format": "pack-quantized",
                  "config_groups": {"group_0": {"targets": ["Linear"], "weights": {
                      "num_bits": 4, "type": "int", "symmetric": symmetric, "strategy": "group",
                      "group_size": GROUP}}}}
    write_case(folder, tensors, expected, config)


def e4m3_value(code):
    """OCP E4M3FN: sign, 4 exponent bits (bias 7), 3 mantissa bits; subnormals at exponent 0."""
    sign = -1.0 if code & 0x80 else 1.0
    exponent, mantissa = (code >> 3) & 0xF, code & 0x7
    return sign * (mantissa / 8 * 2.0 ** -6 if exponent == 0 else (1 + mantissa / 8) * 2.0 ** (exponent - 7))


def e5m2_value(code):
    """OCP E5M2: sign, 5 exponent bits (bias 15), 2 mantissa bits."""
    sign = -1.0 if code & 0x80 else 1.0
    exponent, mantissa = (code >> 2) & 0x1F, code & 0x3
    return sign * (mantissa / 4 * 2.0 ** -14 if exponent == 0 else (1 + mantissa / 4) * 2.0 ** (exponent - 15))


E2M1 = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]


def nvfp4_case(folder):
    """compressed-tensors "nvfp4-pack-quantized": every E2M1 code (all 16 appear), E4M3 scales per 16
    inputs and a float32 global scale; value = code * scale / global_scale in float32."""
    rng = np.random.default_rng(400)
    tensors, expected = [], {}
    for module in MODULES:
        codes = rng.integers(0, 16, size=(OUT_FEATURES, IN_FEATURES), dtype=np.uint8)
        codes[0, :16] = np.arange(16)
        scale_codes = (rng.integers(4, 11, size=(OUT_FEATURES, IN_FEATURES // 16)) << 3 |
                       rng.integers(0, 8, size=(OUT_FEATURES, IN_FEATURES // 16))).astype(np.uint8)
        global_scale = np.array([448.0 * 6.0 / 0.7], dtype=np.float32)
        values = np.array([[(-1 if c & 8 else 1) * E2M1[c & 7] for c in row] for row in codes], dtype=np.float32)
        scales = np.vectorize(e4m3_value)(scale_codes).astype(np.float32)
        block_scale = np.repeat(scales / global_scale[0], 16, axis=1).astype(np.float32)
        expected[module + ".weight"] = values * block_scale
        tensors.append((module + ".weight_packed", (codes[:, 0::2] | codes[:, 1::2] << 4).astype(np.uint8)))
        tensors.append((module + ".weight_scale", scale_codes, "F8_E4M3"))
        tensors.append((module + ".weight_global_scale", global_scale))
    config = {"quant_method": "compressed-tensors", "format": "nvfp4-pack-quantized",
              "config_groups": {"group_0": {"targets": ["Linear"], "weights": {
                  "num_bits": 4, "type": "float", "symmetric": True, "strategy": "tensor_group", "group_size": 16}}}}
    write_case(folder, tensors, expected, config)


def fp8_case(folder, e5m2, per_channel):
    """fp8 weights with a float32 weight_scale (per tensor or per output row); codes avoid NaN."""
    rng = np.random.default_rng(500 + e5m2 * 2 + per_channel)
    tensors, expected = [], {}
    for module in MODULES:
        codes = rng.integers(0, 256, size=(OUT_FEATURES, IN_FEATURES)).astype(np.uint8)
        if e5m2:
            codes[(codes & 0x7C) == 0x7C] &= 0xF3  # no infinity or NaN (exponent 31)
        else:
            codes[(codes & 0x7F) == 0x7F] &= 0xFE  # no NaN (S.1111.111)
        decode = e5m2_value if e5m2 else e4m3_value
        values = np.vectorize(decode)(codes).astype(np.float32)
        scale = (rng.uniform(0.001, 0.01, size=(OUT_FEATURES, 1)) if per_channel else
                 np.array([0.0042], dtype=np.float64)).astype(np.float32)
        expected[module + ".weight"] = values * (scale if per_channel else scale[0])
        tensors.append((module + ".weight", codes, "F8_E5M2" if e5m2 else "F8_E4M3"))
        tensors.append((module + ".weight_scale", scale))
        tensors.append((module + ".input_scale", np.array([0.5], dtype=np.float32)))
    write_case(folder, tensors, expected, None)


def write_packed_checkpoints():
    gptq_case("gptq_v1", 1, True, True, False, "gptq")
    gptq_case("gptq_v2", 2, False, True, False, "gptq_v2")
    gptq_case("gptq_v1_inferred", 1, True, False, False, None)    # zeros 7 everywhere, no config
    gptq_case("gptq_v2_inferred", 2, True, False, False, "absent")  # zeros 8, config without format
    gptq_case("gptq_desc_act", 1, False, True, True, "gptq")
    awq_case("awq")
    compressed_tensors_case("ct_int4_sym", True, True)
    compressed_tensors_case("ct_int4_asym", False, True)
    compressed_tensors_case("ct_int4_noconfig", True, False)
    nvfp4_case("nvfp4")
    fp8_case("fp8_e4m3_channel", False, True)
    fp8_case("fp8_e5m2_tensor", True, False)


if __name__ == "__main__":
    write_torch_checkpoints()
    write_packed_checkpoints()
