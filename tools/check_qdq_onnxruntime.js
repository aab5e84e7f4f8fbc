#!/usr/bin/env node
// Cross-checks a QDQ model that `quantscope-cli export-qdq` wrote with ONNX Runtime (CPU): loading
// it runs ONNX Runtime's own schema, type and shape checks (opset 21 and INT4 included, which
// Debian's onnx 1.12 cannot check), then its outputs are compared with Quantscope's fp32 run of the
// same model (`quantscope-cli eval MODEL --samples S --mode fp32 --out-logits Q.npy`).
//
//   npm install --ignore-scripts onnxruntime-node@1.30.0     (in any folder; NODE_PATH to it)
//   node tools/check_qdq_onnxruntime.js MODEL.onnx SAMPLES.npy QUANTSCOPE_LOGITS.npy > REPORT.txt
//
// Only float32 C-order .npy files are read. Exits 1 when an output differs by more than 1e-5.
const ort = require('onnxruntime-node');
const fs = require('fs');

function readNpy(path) {
  const buf = fs.readFileSync(path);
  const headerLength = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + headerLength).toString();
  if (!header.includes("'descr': '<f4'") || header.includes("'fortran_order': True"))
    throw new Error(`${path}: expected a float32 C-order .npy`);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').filter(s => s.trim()).map(Number);
  const start = buf.byteOffset + 10 + headerLength;
  return { shape, data: new Float32Array(buf.buffer.slice(start, buf.byteOffset + buf.length)) };
}

(async () => {
  const [model, samplesPath, logitsPath] = process.argv.slice(2);
  if (!logitsPath)
    throw new Error('usage: check_qdq_onnxruntime.js MODEL.onnx SAMPLES.npy QUANTSCOPE_LOGITS.npy');
  const session = await ort.InferenceSession.create(model);
  const samples = readNpy(samplesPath);
  const expected = readNpy(logitsPath);
  const input = new ort.Tensor('float32', samples.data, samples.shape);
  const output = (await session.run({ [session.inputNames[0]]: input }))[session.outputNames[0]];
  if (output.data.length !== expected.data.length)
    throw new Error(`ONNX Runtime gave ${output.data.length} outputs, Quantscope ${expected.data.length}`);
  let largest = 0;
  let beyond = 0;
  for (let i = 0; i < output.data.length; ++i) {
    const d = Math.abs(output.data[i] - expected.data[i]);
    largest = Math.max(largest, d);
    beyond += d > 1e-5 ? 1 : 0;
  }
  console.log(`onnxruntime-node ${require('onnxruntime-node/package.json').version}: loaded ${model.split('/').slice(-4).join('/')}`);
  console.log(`samples: ${samples.shape[0]}, outputs compared: ${output.data.length}`);
  console.log(`largest |ONNX Runtime - Quantscope fp32|: ${largest}, beyond 1e-5: ${beyond}`);
  process.exit(beyond === 0 ? 0 : 1);
})().catch(e => { console.error(String(e)); process.exit(1); });
