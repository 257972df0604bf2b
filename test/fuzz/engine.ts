/**
 * The fuzz engine: valid files of every kind the project reads (model files, trainer checkpoints with and
 * without a pcm device, an lru checkpoint, stream checkpoints, sequence files, IDX files, bench results),
 * seeded mutations of them (values replaced by edge cases, keys deleted or added, arrays cut or stretched,
 * text cut, flipped and spliced), and the loader each kind goes through — followed, when it loads, by one
 * step of what a user would do next (a training step, a pushed sample, a forward pass over the sequence).
 *
 * A case passes when it loads or ends in a typed error (OnwardError); anything else is a crash. Hangs and
 * memory blow-ups are caught by the runner (runner.ts), which runs the cases in a worker thread.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { OnwardError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { TsBackend } from '../../src/backend/ts.js';
import { Network, type ModelConfig } from '../../src/model/network.js';
import { decodeMasksInto, decodeParamsInto, readModelFile } from '../../src/model/io.js';
import { encodeIdx, readIdx } from '../../src/data/idx.js';
import { readSequenceFile } from '../../src/check/sequence-file.js';
import { readResults } from '../../src/bench/records.js';
import { Trainer } from '../../src/train/trainer.js';
import { OnlineStream } from '../../src/train/stream.js';
import { resumeStream, resumeTrainer } from '../../src/train/files.js';
import { applyOverrides, defaultConfig } from '../../src/train/config.js';
import { ForwardPass } from '../../src/model/forward.js';
import { resolveTrainConfig } from '../../src/cli/train.js';

export type Kind =
  | 'model'
  | 'checkpoint'
  | 'pcm-checkpoint'
  | 'lru-checkpoint'
  | 'stream-checkpoint'
  | 'sequence'
  | 'idx'
  | 'results'
  | 'config';

export interface Base {
  kind: Kind;
  text: string | Uint8Array;
}

/** the valid files every mutation starts from */
export function baseFiles(): Base[] {
  const small = (over: Record<string, unknown>) =>
    applyOverrides(defaultConfig('copy'), {
      model: 'gru',
      hidden: 3,
      layers: 1,
      batch: 2,
      steps: 4,
      learner: 'bptt',
      backend: 'ts',
      dtype: 'float64',
      evalBatches: 1,
      'task.bits': 2,
      'task.pattern': 2,
      'task.pad': 1,
      ...over,
    });
  const trained = (over: Record<string, unknown>): Trainer => {
    const t = new Trainer(small(over));
    t.trainStep();
    return t;
  };
  const t = trained({});
  const stream = new OnlineStream({
    model: { model: 'gru', inputSize: 2, hidden: 3, layers: 1, outputSize: 1, loss: { kind: 'mse' } },
    learner: 'rtrl',
    optimizer: { name: 'adam', lr: 0.01 },
    updateEvery: 2,
    seed: 1,
    backend: 'ts',
    dtype: 'float64',
  });
  stream.push([0.1, 0.2], [0.3]);
  const seq = { x: [[[0.1, 0.2]], [[0.3, -0.1]]], y: [[[0.5]], [[0.2]]], mask: [[1], [1]] };
  const idx = encodeIdx({ dims: [2, 2, 2], data: Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]) });
  const results =
    [
      { kind: 'n/a', suite: 'ci', task: 'copy', model: 'gru', learner: 'x', reason: 'r' },
      {
        kind: 'skipped',
        suite: 'ci',
        task: 'copy',
        model: 'gru',
        learner: 'rtrl',
        seed: 0,
        steps: 4,
        configId: 'abcd0123',
        estimatedMacs: 5,
        reason: 'budget',
      },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n';
  return [
    { kind: 'model', text: JSON.stringify(t.modelFile()) },
    { kind: 'checkpoint', text: JSON.stringify(t.checkpointFile()) },
    { kind: 'pcm-checkpoint', text: JSON.stringify(trained({ device: 'pcm' }).checkpointFile()) },
    {
      kind: 'lru-checkpoint',
      text: JSON.stringify(trained({ model: 'lru', learner: 'online-lru', stateSize: 2, hidden: 2 }).checkpointFile()),
    },
    { kind: 'stream-checkpoint', text: JSON.stringify(stream.checkpointFile()) },
    { kind: 'sequence', text: JSON.stringify(seq) },
    { kind: 'idx', text: idx },
    { kind: 'idx', text: gzipSync(idx) },
    { kind: 'results', text: results },
    { kind: 'config', text: JSON.stringify({ ...small({}), steps: 1 }) },
  ];
}

const specials: unknown[] = [
  0,
  -1,
  1,
  2,
  1.5,
  -0.5,
  1e300,
  -1e300,
  2 ** 53,
  2 ** 31,
  2 ** 32,
  1e6,
  1e9,
  1e12,
  'NaN',
  'Infinity',
  '-Infinity',
  '-0',
  '',
  'x',
  'toString',
  '__proto__',
  'constructor',
  null,
  true,
  false,
  [],
  {},
  [null],
  [1e9],
  { shape: [1e9], data: [] },
  [0, 0, 0, 0],
  'gru',
  'lru',
  'bptt',
  'pcm',
  'ce',
];

/** an edge-case value, fresh (a shared object mutated later would tie the tree into a cycle) */
const special = (rng: Rng): unknown => structuredClone(specials[rng.int(specials.length)]);

/** a random path into a JSON value: the containers on the way and the last key */
function randomSlot(rng: Rng, root: unknown): { parent: Record<string, unknown> | unknown[]; key: string | number } | null {
  let parent: unknown = null,
    key: string | number = '';
  let node = root;
  for (let depth = 0; depth < 12; depth++) {
    const keys = Array.isArray(node) ? node.map((_, i) => i) : node && typeof node === 'object' ? Object.keys(node) : [];
    if (keys.length === 0 || (parent !== null && rng.uniform() < 0.25)) break;
    parent = node;
    key = keys[rng.int(keys.length)]!;
    node = (node as Record<string | number, unknown>)[key];
  }
  return parent === null ? null : { parent: parent as Record<string, unknown>, key };
}

/** one mutation of a JSON value in place; returns what it did. Half the mutations of a checkpoint go into its checkpoint section */
function mutateJson(rng: Rng, root: unknown): string {
  const ck = (root as { checkpoint?: unknown } | null)?.checkpoint;
  const slot = randomSlot(rng, ck && rng.uniform() < 0.5 ? { checkpoint: ck } : root);
  if (!slot) return 'none';
  const { parent, key } = slot;
  const p = parent as Record<string | number, unknown>;
  const old = p[key];
  const r = rng.int(8);
  if (r <= 2) {
    const v = special(rng);
    Object.defineProperty(p, key, { value: v, enumerable: true, writable: true, configurable: true });
    return `set ${String(key)} = ${JSON.stringify(v)}`;
  }
  if (r === 3 && !Array.isArray(parent)) {
    delete p[key];
    return `delete ${String(key)}`;
  }
  if (r === 4 && !Array.isArray(parent)) {
    const name = ['bogus', 'toString', '__proto__', 'constructor', 'x'][rng.int(5)]!;
    Object.defineProperty(p, name, { value: special(rng), enumerable: true, writable: true, configurable: true });
    return `add key ${name}`;
  }
  if (r === 5 && Array.isArray(old)) {
    const n = rng.int(3) === 0 ? old.length * 2 + 1 : rng.int(old.length + 1);
    p[key] = Array.from({ length: n }, (_, i) => old[i % Math.max(1, old.length)]);
    return `resize ${String(key)} to ${n}`;
  }
  if (r === 6 && typeof old === 'number') {
    const v = old * 10 ** (rng.int(13) - 3);
    p[key] = rng.int(2) ? v : -v;
    return `scale ${String(key)}`;
  }
  if (typeof old === 'number') {
    p[key] = String(old);
    return `stringify ${String(key)}`;
  }
  p[key] = special(rng);
  return `replace ${String(key)}`;
}

/** one mutation of the raw bytes/text */
function mutateBytes(rng: Rng, bytes: Uint8Array): { bytes: Uint8Array; what: string } {
  const n = bytes.length;
  const r = rng.int(4);
  if (r === 0) {
    const cut = rng.int(n + 1);
    return { bytes: bytes.subarray(0, cut), what: `truncate at ${cut}` };
  }
  const out = Uint8Array.from(bytes);
  if (r === 1) {
    const k = 1 + rng.int(4);
    for (let i = 0; i < k && n > 0; i++) out[rng.int(n)] = rng.int(256);
    return { bytes: out, what: `flip ${k} bytes` };
  }
  if (r === 2) {
    const at = rng.int(n + 1),
      len = 1 + rng.int(32);
    const ins = Uint8Array.from({ length: len }, () => '0123456789[]{}",:-.eE'.charCodeAt(rng.int(21)));
    const res = new Uint8Array(n + len);
    res.set(bytes.subarray(0, at));
    res.set(ins, at);
    res.set(bytes.subarray(at), at + len);
    return { bytes: res, what: `insert ${len} at ${at}` };
  }
  const at = rng.int(n + 1),
    len = rng.int(Math.max(1, n - at) + 1);
  const res = new Uint8Array(n - Math.min(len, n - at));
  res.set(bytes.subarray(0, at));
  res.set(bytes.subarray(at + len), at);
  return { bytes: res, what: `delete ${len} at ${at}` };
}

export interface Case {
  index: number;
  kind: Kind;
  bytes: Uint8Array;
  what: string;
}

/** case `index` of the run seeded `seed` (the same case every time) */
export function makeCase(bases: readonly Base[], seed: number, index: number): Case {
  const rng = new Rng(seed * 1_000_003 + index + 1);
  const base = bases[index % bases.length]!;
  const raw = typeof base.text === 'string' ? new TextEncoder().encode(base.text) : base.text;
  const isJson = base.kind !== 'idx' && base.kind !== 'results';
  const steps: string[] = [];
  let bytes = raw;
  const count = 1 + rng.int(3);
  if (isJson && rng.uniform() < 0.8) {
    const root = JSON.parse(new TextDecoder().decode(raw)) as unknown;
    for (let i = 0; i < count; i++) steps.push(mutateJson(rng, root));
    bytes = new TextEncoder().encode(JSON.stringify(root));
    if (rng.uniform() < 0.1) {
      const m = mutateBytes(rng, bytes);
      bytes = m.bytes;
      steps.push(m.what);
    }
  } else {
    for (let i = 0; i < count; i++) {
      const m = mutateBytes(rng, bytes);
      bytes = m.bytes;
      steps.push(m.what);
    }
  }
  return { index, kind: base.kind, bytes, what: steps.join('; ') };
}

const scratch = mkdtempSync(join(tmpdir(), 'onward-fuzz-'));

/** 'ok' (loaded and stepped), or the typed error's code; anything untyped is thrown */
export function runCase(c: Case): string {
  const file = join(scratch, `case-${process.pid}.${c.kind === 'idx' ? 'idx' : 'json'}`);
  writeFileSync(file, c.bytes);
  try {
    load(c.kind, file);
    return 'ok';
  } catch (e) {
    if (e instanceof OnwardError) return e.code;
    throw e;
  }
}

/** the work of a step must stay small: a mutated size may be large but legal, which is slow, not wrong */
const smallEnough = (B: number, T: number, H: number, L: number): boolean => B * T * H * Math.max(H, 1) * L <= 2e6;

function load(kind: Kind, file: string): void {
  switch (kind) {
    case 'model': {
      const f = readModelFile(file);
      const net = new Network(f.config as ModelConfig, new TsBackend('float64'));
      decodeParamsInto(net.params, f.params, file);
      decodeMasksInto(net.masks, f.masks, file);
      const fwd = new ForwardPass(net, 1);
      const caches = net.modules.map((m) => m.createCache(net.backend, 1));
      fwd.load(new Float64Array(net.inputSize));
      fwd.run(caches);
      return;
    }
    case 'checkpoint':
    case 'pcm-checkpoint':
    case 'lru-checkpoint': {
      const t = resumeTrainer(file);
      const c = t.config;
      if (smallEnough(c.train.batch, t.task.seqLength, t.network.config.hidden, t.network.config.layers) && c.eval.batches <= 4) {
        t.trainStep();
        t.evaluate();
      }
      return;
    }
    case 'stream-checkpoint': {
      const s = resumeStream(file);
      s.push(new Float64Array(s.network.inputSize).fill(0.1), new Float64Array(s.network.loss.targetWidth).fill(0.2));
      s.checkpointFile();
      return;
    }
    case 'sequence': {
      readSequenceFile(
        file,
        2,
        new Network({ model: 'gru', inputSize: 2, hidden: 2, layers: 1, outputSize: 1, loss: { kind: 'mse' } }, new TsBackend('float64'))
          .loss,
      );
      return;
    }
    case 'idx':
      readIdx(file);
      return;
    case 'results':
      readResults(file, () => {});
      return;
    case 'config': {
      const t = new Trainer(resolveTrainConfig({ config: file }));
      const c = t.config;
      if (smallEnough(c.train.batch, t.task.seqLength, t.network.config.hidden, t.network.config.layers)) t.trainStep();
      return;
    }
  }
}
