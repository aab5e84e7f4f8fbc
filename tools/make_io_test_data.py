#!/usr/bin/python3
"""Writes the small weight files under tests/data/io/ that tests/core/tst_io_*.cpp read.

Run with Debian's python3 and python3-numpy:  /usr/bin/python3 tools/make_io_test_data.py
The arrays are fixed (no randomness; .npz entries carry the time of writing). The files are
committed, so building and testing need no Python.

.npy and .npz files come from numpy itself (np.save, np.lib.format.write_array, np.savez,
np.savez_compressed). The .safetensors files come from the small writer below, which follows the
format's specification (github.com/huggingface/safetensors, "Format"): an unsigned little-endian
64-bit header length N, N bytes of JSON padded with spaces to a multiple of 8, then the data.
"""
import json
import os
import struct
import sys
import zipfile

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "io")


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, dtype name, shape, raw little-endian bytes), written in this order."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        f.write(data)


def le(values, dtype):
    return np.asarray(values, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()


def make_safetensors():
    # float16 bit patterns: 1, -2, 65504 (largest), 2^-24 (smallest subnormal), 0x03FF (largest
    # subnormal), +inf, -inf, 0x3555 (0.333251953125), NaN
    f16_bits = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x7C00, 0xFC00, 0x3555, 0x7E00]
    # bfloat16 bit patterns: 1, -3.140625, 2^-133 (smallest subnormal), largest finite, -0
    bf16_bits = [0x3F80, 0xC049, 0x0001, 0x7F7F, 0x8000]
    tensors = [
        ("f32", "F32", [2, 3], le([0.0, 1.5, -2.25, 3.4028234663852886e38, 1e-45, -0.0], "f4")),
        ("f64", "F64", [3], le([0.1, -2.5, 1e10], "f8")),
        ("f16", "F16", [3, 3], le(f16_bits, "u2")),
        ("bf16", "BF16", [5], le(bf16_bits, "u2")),
        ("i64", "I64", [2], le([-5, 2**40], "i8")),
        ("i32", "I32", [3], le([-2**31, 0, 2**31 - 1], "i4")),
        ("i16", "I16", [2], le([-32768, 32767], "i2")),
        ("i8", "I8", [4], le([-128, -1, 0, 127], "i1")),
        ("u8", "U8", [3], le([0, 128, 255], "u1")),
        ("u16", "U16", [2], le([0, 65535], "u2")),
        ("u32", "U32", [2], le([7, 2**32 - 1], "u4")),
        ("u64", "U64", [2], le([3, 2**64 - 1], "u8")),
        ("bool", "BOOL", [3], le([1, 0, 1], "u1")),
        ("empty", "F32", [0, 4], b""),
        ("scalar", "F32", [], le([42.0], "f4")),
        ("layer.0.weight", "F32", [2, 2], le([1.0, 2.0, 3.0, 4.0], "f4")),
    ]
    write_safetensors(os.path.join(OUT, "all_dtypes.safetensors"), tensors,
                      {"format": "pt", "source": "quantscope test data"})
    write_safetensors(os.path.join(OUT, "no_metadata.safetensors"), [("w", "F32", [2], le([0.5, -0.5], "f4"))])


def make_npy():
    np.save(os.path.join(OUT, "f4_c.npy"), (np.arange(6, dtype=np.float32) * 0.5 - 1.0).reshape(2, 3))
    np.save(os.path.join(OUT, "f8_big.npy"), np.array([[1.5, -2.0], [1e-3, 3e38]], dtype=">f8"))
    # Fortran order: np.load gives arange(24).reshape(2, 3, 4), stored column-major on disk.
    np.save(os.path.join(OUT, "f4_fortran.npy"), np.asfortranarray(np.arange(24, dtype=np.float32).reshape(2, 3, 4)))
    # Big-endian integers in Fortran order: both conversions at once.
    np.save(os.path.join(OUT, "i2_big_fortran.npy"),
            np.asfortranarray(np.array([[1, -2], [300, -32768], [32767, 0]], dtype=">i2")))
    np.save(os.path.join(OUT, "f2.npy"), np.array([1.0, -2.0, 65504.0, 2.0**-24, 0.333251953125], dtype="<f2"))
    np.save(os.path.join(OUT, "i1.npy"), np.array([-128, -1, 0, 127], dtype="i1"))
    np.save(os.path.join(OUT, "i4.npy"), np.array([-2**31, 5, 2**31 - 1], dtype="<i4"))
    np.save(os.path.join(OUT, "i8_big.npy"), np.array([-7, 2**40], dtype=">i8"))
    np.save(os.path.join(OUT, "u1.npy"), np.array([0, 200, 255], dtype="u1"))
    np.save(os.path.join(OUT, "u2.npy"), np.array([0, 65535], dtype="<u2"))
    np.save(os.path.join(OUT, "u4_big.npy"), np.array([1, 2**32 - 1], dtype=">u4"))
    np.save(os.path.join(OUT, "u8.npy"), np.array([9, 2**64 - 1], dtype="<u8"))
    np.save(os.path.join(OUT, "b1.npy"), np.array([True, False, True, True]))
    np.save(os.path.join(OUT, "scalar.npy"), np.float32(-3.5))
    for version in [(2, 0), (3, 0)]:
        with open(os.path.join(OUT, "v%d.npy" % version[0]), "wb") as f:
            np.lib.format.write_array(f, np.array([[1.0, 2.0], [3.0, 4.0]], dtype="<f4"), version=version)
    # Unsupported but well-formed: complex and a structured dtype.
    np.save(os.path.join(OUT, "c8.npy"), np.array([1 + 2j], dtype="<c8"))
    np.save(os.path.join(OUT, "structured.npy"), np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))


def npz_arrays():
    return {
        "weight": (np.arange(12, dtype=np.float32) / 4.0 - 1.0).reshape(3, 4),
        "bias": np.array([0.5, -0.25, 8.0], dtype=np.float32),
        "big": np.array([1.5, -2.0], dtype=">f8"),
        "fortran": np.asfortranarray(np.arange(6, dtype=np.int16).reshape(2, 3)),
        "halves": np.array([1.0, 65504.0, 2.0**-24], dtype="<f2"),
    }


def make_npz():
    np.savez(os.path.join(OUT, "stored.npz"), **npz_arrays())
    np.savez_compressed(os.path.join(OUT, "compressed.npz"), **npz_arrays())
    # Hostile archives: an entry that is not an array; an array whose data is cut short; an
    # entry whose stored bytes no longer match its CRC.
    with zipfile.ZipFile(os.path.join(OUT, "not_npy_entry.npz"), "w") as z:
        z.writestr("readme.txt", b"not an array")
    header = np.lib.format.header_data_from_array_1_0(np.zeros(100, dtype="<f4"))
    with zipfile.ZipFile(os.path.join(OUT, "truncated_entry.npz"), "w") as z:
        buffer = __import__("io").BytesIO()
        np.lib.format.write_array_header_1_0(buffer, header)
        z.writestr("x.npy", buffer.getvalue() + b"\0" * 40)
    path = os.path.join(OUT, "bad_crc.npz")
    np.savez(path, x=np.arange(16, dtype=np.float32))
    blob = bytearray(open(path, "rb").read())
    position = blob.rindex(np.arange(16, dtype=np.float32).tobytes()[-8:])  # inside the stored data
    blob[position] ^= 0xFF
    open(path, "wb").write(bytes(blob))


def main():
    os.makedirs(OUT, exist_ok=True)
    make_safetensors()
    make_npy()
    make_npz()
    print("numpy", np.__version__, "->", os.path.normpath(OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
