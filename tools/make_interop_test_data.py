#!/usr/bin/python3
"""Makes tests/data/interop/digits_cnn_qdq.onnx and checks it with onnx.checker.

Run with Debian's interpreter after building the CLI:
    /usr/bin/python3 tools/make_interop_test_data.py build/dev/app/quantscope-cli

1. `quantscope-cli calibrate` computes the demo CNN's static parameters (digits_cnn.qparams.json).
2. `quantscope-cli export-qdq` writes the QDQ model from them (digits_cnn_qdq.onnx).
3. onnx.checker.check_model(full_check=True) (shape inference included) must accept the model;
   the result is recorded in digits_cnn_qdq.checker.txt.
tst_interop_qdq exports the committed parameters again and requires the committed model's bytes,
so the file checked here is the one the code writes. The other files in tests/data/interop/ are
written by hand from each format's documentation.
"""
import pathlib
import subprocess
import sys

import onnx

root = pathlib.Path(__file__).resolve().parents[1]
data = root / "tests" / "data" / "interop"
demo = "resources/demo"


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: make_interop_test_data.py PATH/TO/quantscope-cli")
    cli = str(pathlib.Path(sys.argv[1]).resolve())
    params = "tests/data/interop/digits_cnn.qparams.json"
    model = "tests/data/interop/digits_cnn_qdq.onnx"
    subprocess.run([cli, "calibrate", f"{demo}/digits_cnn.onnx", "--samples", f"{demo}/digits_calib.npy",
                    "--json", params], cwd=root, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([cli, "export-qdq", f"{demo}/digits_cnn.onnx", "--params", params, "--out", model],
                   cwd=root, check=True)

    exported = onnx.load(str(root / model))
    onnx.checker.check_model(exported, full_check=True)
    ops = {}
    for node in exported.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    opset = [f"{o.domain or 'ai.onnx'} {o.version}" for o in exported.opset_import]
    report = (f"onnx.checker.check_model(full_check=True): passed (onnx {onnx.__version__})\n"
              f"model: {model}\nopset: {', '.join(opset)}\n"
              f"nodes: {', '.join(f'{k} {v}' for k, v in sorted(ops.items()))}\n")
    (data / "digits_cnn_qdq.checker.txt").write_text(report)
    print(report, end="")


if __name__ == "__main__":
    main()
