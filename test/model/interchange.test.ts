/**
 * safetensors export/import: the file format (written, read, corrupt files refused), PyTorch's names for
 * rnn/gru/lstm stacks, exact round trips, and — when PyTorch is installed — that nn.GRU / nn.LSTM loaded from
 * an export compute onward's outputs to 1e-6 (scripts/torch-interop.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TsBackend } from '../../src/backend/ts.js';
import { FileFormatError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { decodeArray, encodeMasks, encodeParams, LIBRARY, MODEL_FORMAT, MODEL_VERSION, type ModelFile } from '../../src/model/format.js';
import { exportName, modelToSafetensors, projectName, safetensorsToModel } from '../../src/model/interchange.js';
import { Network, type ModelConfig } from '../../src/model/network.js';
import { Model } from '../../src/model/predict.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/model/safetensors.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'onward-interchange-'));

function modelFile(config: ModelConfig, seed = 1): ModelFile {
  const net = new Network(config, new TsBackend('float64'), seed);
  const masks = encodeMasks(net.masks);
  return {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    library: LIBRARY,
    config,
    params: encodeParams(net.params),
    ...(masks ? { masks } : {}),
  };
}

const stack = (model: string, extra: Partial<ModelConfig> = {}): ModelConfig => ({
  model,
  inputSize: 3,
  hidden: 5,
  layers: 2,
  outputSize: 4,
  loss: { kind: 'mse' },
  ...extra,
});

function values(file: ModelFile, name: string): Float64Array {
  return decodeArray(file.params[name], name).values;
}

test('safetensors: header length, 8-byte aligned data, F32/F64 little-endian, metadata strings', () => {
  const tensors = new Map([
    ['a', { shape: [2, 3], dtype: 'F64' as const, values: Float64Array.from([1, -2, 3.25, 1e-300, -0, 5]) }],
    ['b', { shape: [3], dtype: 'F32' as const, values: Float64Array.from([0.5, -1.5, 2]) }],
  ]);
  const bytes = encodeSafetensors(tensors, { note: 'hi' });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + n) % 8, 0, 'data starts 8-byte aligned');
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assert.deepEqual(header.a, { dtype: 'F64', shape: [2, 3], data_offsets: [0, 48] });
  assert.deepEqual(header.b, { dtype: 'F32', shape: [3], data_offsets: [48, 60] });
  assert.equal(bytes.length, 8 + n + 60);
  const back = decodeSafetensors(bytes, 'x');
  assert.deepEqual(back.metadata, { note: 'hi' });
  assert.deepEqual([...back.tensors.get('a')!.values], [...tensors.get('a')!.values]);
  assert.ok(Object.is(back.tensors.get('a')!.values[4], -0));
  assert.deepEqual([...back.tensors.get('b')!.values], [0.5, -1.5, 2]);
});

test('safetensors: truncated, oversized, overlapping and unsupported files are refused by name', () => {
  const good = encodeSafetensors(new Map([['w', { shape: [4], dtype: 'F32' as const, values: new Float64Array(4) }]]));
  const bad = (bytes: Uint8Array, why: RegExp): void =>
    assert.throws(
      () => decodeSafetensors(bytes, 'm.safetensors'),
      (e: unknown) => e instanceof FileFormatError && /m\.safetensors/.test(e.message) && why.test(e.message),
    );
  bad(good.subarray(0, 5), /fewer than the 8/);
  bad(good.subarray(0, good.length - 4), /outside the 12 data bytes/);
  const huge = Uint8Array.from(good);
  new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
  bad(huge, /exceeds the file/);
  const withHeader = (header: object, data: number): Uint8Array => {
    const json = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + data);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    return out;
  };
  bad(withHeader({ w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, 8), /dtype "I64"/);
  bad(withHeader({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), /needs 12/);
  bad(
    withHeader({ u: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, v: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12),
    /overlap/,
  );
});

test('PyTorch names for rnn/gru/lstm stacks, project names otherwise; both ways', () => {
  assert.equal(exportName('layers.1.weight_hh', 'pytorch'), 'rnn.weight_hh_l1');
  assert.equal(exportName('readout.bias', 'pytorch'), 'fc.bias');
  assert.equal(exportName('layers.0.bias_ih', 'onward'), 'layers.0.bias_ih');
  for (const n of ['layers.0.weight_ih', 'layers.3.bias_hh', 'readout.weight', 'layers.0.decor_ih'])
    assert.equal(projectName(exportName(n, 'pytorch')), n);
  const gru = decodeSafetensors(modelToSafetensors(modelFile(stack('gru'))), 'gru');
  assert.deepEqual([...gru.tensors.keys()].sort(), [
    'fc.bias',
    'fc.weight',
    'rnn.bias_hh_l0',
    'rnn.bias_hh_l1',
    'rnn.bias_ih_l0',
    'rnn.bias_ih_l1',
    'rnn.weight_hh_l0',
    'rnn.weight_hh_l1',
    'rnn.weight_ih_l0',
    'rnn.weight_ih_l1',
  ]);
  assert.deepEqual(gru.tensors.get('rnn.weight_ih_l0')!.shape, [15, 3], 'PyTorch layout: 3·hidden × input');
  assert.equal(gru.metadata['onward.names'], 'pytorch');
  const lru = decodeSafetensors(
    modelToSafetensors(modelFile({ ...stack('lru'), stateSize: 2, rMin: 0.5, rMax: 0.9, maxPhase: 6.28, dropout: 0, pooling: 'none' })),
    'lru',
  );
  assert.ok(lru.tensors.has('layers.0.lru.nu_log') && lru.tensors.has('decoder.weight'), 'lru keeps project names');
  assert.throws(() => modelToSafetensors(modelFile(stack('egru')), { names: 'pytorch' }), /rnn, gru and lstm/);
});

test('export → import round trips exactly: F64 always, F32 for float32 weights; masks travel too', () => {
  for (const config of [stack('gru'), stack('lstm'), stack('rnn', { density: 0.5 }), stack('egru')]) {
    const file = modelFile(config);
    const back = safetensorsToModel(modelToSafetensors(file, { dtype: 'F64' }), 'x');
    assert.deepEqual(back.config, config);
    for (const name of Object.keys(file.params))
      assert.deepEqual([...values(back, name)], [...values(file, name)], `${config.model} ${name}`);
    if (file.masks) assert.deepEqual(Object.keys(back.masks ?? {}), Object.keys(file.masks), 'masks');
    // weights that are float32 numbers (any wasm run) survive an F32 export bit for bit
    const f32: ModelFile = {
      ...file,
      params: Object.fromEntries(
        Object.entries(file.params).map(([n, e]) => {
          const { shape, values: v } = decodeArray(e, n);
          return [n, { shape, data: Array.from(Float32Array.from(v)) }];
        }),
      ),
    };
    const back32 = safetensorsToModel(modelToSafetensors(f32), 'x');
    for (const name of Object.keys(f32.params)) assert.deepEqual([...values(back32, name)], [...values(f32, name)]);
  }
});

test('import of a PyTorch state dict without onward metadata: the model from names and shapes', () => {
  const file = modelFile(stack('lstm', { loss: { kind: 'ce', classes: 4 } }));
  const { tensors } = decodeSafetensors(modelToSafetensors(file, { dtype: 'F64' }), 'x');
  const bare = encodeSafetensors(tensors); // what torch's save_file of a {rnn, fc} state dict holds
  const back = safetensorsToModel(bare, 'torch.safetensors', { loss: { kind: 'ce', classes: 4 } });
  assert.deepEqual(back.config, { model: 'lstm', inputSize: 3, hidden: 5, layers: 2, outputSize: 4, loss: { kind: 'ce', classes: 4 } });
  const x = [[[0.1, -0.2, 0.3]], [[1, 0, -1]]];
  assert.deepEqual(Model.fromFile(back).predict(x), Model.fromFile(file).predict(x));
  assert.throws(() => safetensorsToModel(encodeSafetensors(new Map()), 'empty.safetensors'), /no onward metadata/);
});

/** a python3 that imports torch (Debian's is /usr/bin/python3), or null */
function torchPython(): string | null {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}

test("PyTorch nn.GRU / nn.LSTM loaded from an export compute onward's outputs to 1e-6", (t) => {
  const py = torchPython();
  if (!py) {
    t.skip('PyTorch is not installed (apt-get install python3-torch): the interop check did not run');
    return;
  }
  const rng = new Rng(7);
  for (const kind of ['gru', 'lstm', 'rnn']) {
    // export in float32 (the default, PyTorch's dtype); onward predicts from the same (imported) weights in float64
    const bytes = modelToSafetensors(modelFile(stack(kind, { layers: 2 }), 3));
    writeFileSync(join(tmp, `${kind}.safetensors`), bytes);
    const model = Model.fromFile(safetensorsToModel(bytes, kind));
    const x = Array.from({ length: 7 }, () => Array.from({ length: 2 }, () => Array.from({ length: 3 }, () => rng.normal(0, 1))));
    writeFileSync(join(tmp, `${kind}.inputs.json`), JSON.stringify({ x }));
    writeFileSync(join(tmp, `${kind}.outputs.json`), JSON.stringify({ output: model.predict(x) }));
  }
  const r = spawnSync(py, [join(root, 'scripts/torch-interop.py'), tmp, 'gru', 'lstm', 'rnn'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { model: string; ok: boolean; maxAbsDiff: number; shape: number[] });
  assert.deepEqual(
    lines.map((l) => l.model),
    ['gru', 'lstm', 'rnn'],
  );
  for (const l of lines) {
    assert.ok(l.ok && l.maxAbsDiff <= 1e-6, `${l.model}: max |Δ| ${l.maxAbsDiff}`);
    assert.deepEqual(l.shape, [7, 2, 4]);
  }
  t.diagnostic(lines.map((l) => `${l.model} max |Δ| ${l.maxAbsDiff.toExponential(2)}`).join(', '));
});

test('model files: large parameters as exact base64 (f32 for float32 weights), small ones as decimals; size per parameter', () => {
  // a float32 run's weights: every value a float32 number
  const net = new Network(stack('gru', { inputSize: 16, hidden: 128, layers: 2, outputSize: 10 }), new TsBackend('float32'), 2);
  const params = encodeParams(net.params);
  const text = JSON.stringify({ format: MODEL_FORMAT, version: MODEL_VERSION, library: LIBRARY, config: net.config, params });
  const perParam = text.length / net.size;
  assert.ok(perParam < 6, `${perParam.toFixed(2)} bytes per parameter (decimal JSON takes ~20)`);
  assert.deepEqual(
    params['layers.0.weight_hh'] && 'dtype' in params['layers.0.weight_hh'] ? params['layers.0.weight_hh'].dtype : null,
    'f32',
  );
  assert.ok('data' in params['readout.bias']!, 'a small parameter stays readable');
  for (const name of net.params.names()) assert.deepEqual([...decodeArray(params[name], name).values], [...net.params.get(name)], name);
  // float64 weights that are not float32 numbers stay exact as f64
  const net64 = new Network(stack('gru', { hidden: 64 }), new TsBackend('float64'), 2);
  const p64 = encodeParams(net64.params);
  const w = p64['layers.0.weight_hh']!;
  assert.ok('dtype' in w && w.dtype === 'f64');
  assert.deepEqual([...decodeArray(w, 'w').values], [...net64.params.get('layers.0.weight_hh')]);
});
