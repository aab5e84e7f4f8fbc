#!/usr/bin/python3
"""Makes the QDQ models in tests/data/interop/ and checks them with onnx.checker.

Run after building the CLI:
    /usr/bin/python3 tools/make_interop_test_data.py build/dev/app/quantscope-cli

1. `quantscope-cli calibrate` computes the demo CNN's static parameters (digits_cnn.qparams.json);
   `quantscope-cli export-qdq` writes the QDQ model from them (digits_cnn_qdq.onnx, opset 13).
2. The same for the demo MLP with int4 symmetric weights in groups of 32 along the inputs
   (digits_mlp_int4.qparams.json, digits_mlp_int4_qdq.onnx): INT4 initializers and blocked
   DequantizeLinear, so the model is raised to opset 21.
3. onnx.checker.check_model(full_check=True) (shape inference included) must accept each model;
   the result is recorded in NAME.checker.txt. Opset 21 and INT4 need onnx >= 1.16; Debian 12's
   python3-onnx is 1.12, so run the script with a newer onnx for the int4 model, e.g.
       python3 -m venv /tmp/onnx && /tmp/onnx/bin/pip install onnx==1.17.0
       /tmp/onnx/bin/python tools/make_interop_test_data.py build/dev/app/quantscope-cli
   (with an older onnx the int4 model is written but its check is skipped, and says so).
   Debian 12 has no newer onnx and no other registry reaches one here, so the int4 model was
   cross-checked with ONNX Runtime instead (tools/check_qdq_onnxruntime.js, from npm's
   onnxruntime-node): it loads the model (ONNX Runtime's schema, type and shape checks) and its
   outputs equal Quantscope's fp32 run on the 539 demo test samples exactly; the record is
   digits_mlp_int4_qdq.onnxruntime.txt.
tst_interop_cli exports the committed parameters again and requires the committed models' bytes,
so the files checked here are the ones the code writes. The other files in tests/data/interop/ are
written by hand from each format's documentation.
"""
import pathlib
import subprocess
import sys

import onnx

root = pathlib.Path(__file__).resolve().parents[1]
data = root / "tests" / "data" / "interop"
demo = "resources/demo"


def export(cli: str, model: str, stem: str, weight_options: list) -> str:
    params = f"tests/data/interop/{stem}.qparams.json"
    out = f"tests/data/interop/{stem}_qdq.onnx"
    subprocess.run([cli, "calibrate", f"{demo}/{model}", "--samples", f"{demo}/digits_calib.npy",
                    *weight_options, "--json", params], cwd=root, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([cli, "export-qdq", f"{demo}/{model}", "--params", params, "--out", out],
                   cwd=root, check=True)
    return out


def check(out: str, needs_opset: int) -> None:
    exported = onnx.load(str(root / out))
    report_path = root / (out[: -len(".onnx")] + ".checker.txt")
    if onnx.defs.onnx_opset_version() < needs_opset:
        print(f"{out}: check skipped: onnx {onnx.__version__} knows opsets up to "
              f"{onnx.defs.onnx_opset_version()}, the model needs {needs_opset}")
        return
    onnx.checker.check_model(exported, full_check=True)
    ops = {}
    for node in exported.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    opset = [f"{o.domain or 'ai.onnx'} {o.version}" for o in exported.opset_import]
    types = sorted({onnx.TensorProto.DataType.Name(t.data_type) for t in exported.graph.initializer})
    report = (f"onnx.checker.check_model(full_check=True): passed (onnx {onnx.__version__})\n"
              f"model: {out}\nopset: {', '.join(opset)}\n"
              f"nodes: {', '.join(f'{k} {v}' for k, v in sorted(ops.items()))}\n")
    if needs_opset >= 21:
        blocked = [n.name for n in exported.graph.node
                   if any(a.name == "block_size" for a in n.attribute)]
        report += f"initializer types: {', '.join(types)}\nblocked DequantizeLinear: {len(blocked)}\n"
    report_path.write_text(report)
    print(report, end="")


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: make_interop_test_data.py PATH/TO/quantscope-cli")
    cli = str(pathlib.Path(sys.argv[1]).resolve())
    check(export(cli, "digits_cnn.onnx", "digits_cnn", []), 13)
    int4 = ["--weight-dtype", "int4", "--weight-scheme", "symmetric", "--weight-granularity", "group",
            "--weight-group-size", "32"]
    check(export(cli, "digits_mlp.onnx", "digits_mlp_int4", int4), 21)


if __name__ == "__main__":
    main()
