/**
 * `onward grad`: a model file and a sequence file in, the loss and the gradient of every parameter out
 * (by name), computed by the chosen learner — `--dtype float64 --backend ts` is the oracle path.
 * `onward gradcheck`: every exactness claim of every learner row checked (exit 1 when one fails), and every
 * learner's alignment with BPTT per layer.
 */
import { writeFileSync } from 'node:fs';
import { createBackend } from '../backend/index.js';
import { ConfigError, UnknownNameError } from '../core/errors.js';
import { createLearner, learnerTable, type LearnerInfo } from '../learners/index.js';
import { decodeMasksInto, decodeParamsInto, encodePlain, readModelFile } from '../model/io.js';
import { Network, validateModelConfig, type ModelConfig } from '../model/network.js';
import { gradcheck } from '../check/gradcheck.js';
import { readSequenceFile } from '../check/sequence-file.js';
import { parse } from './args.js';
import { formatTable } from './table.js';

export async function gradCommand(argv: string[]): Promise<void> {
  const { values } = parse('grad', argv, {
    'model-file': { type: 'string' }, data: { type: 'string' }, learner: { type: 'string' },
    dtype: { type: 'string' }, backend: { type: 'string' }, out: { type: 'string' }, window: { type: 'string' },
  });
  if (typeof values['model-file'] !== 'string' || typeof values.data !== 'string') {
    throw new ConfigError('onward grad needs --model-file m.json and --data seq.json');
  }
  const path = values['model-file'];
  const file = readModelFile(path);
  const config = validateModelConfig(file.config as ModelConfig);
  const dtype = (values.dtype ?? 'float64') as 'float32' | 'float64';
  const backend = createBackend({ dtype, backend: (values.backend as 'ts' | 'wasm' | undefined) ?? (dtype === 'float64' ? 'ts' : 'wasm') });
  const net = new Network(config, backend);
  decodeParamsInto(net.params, file.params, path);
  decodeMasksInto(net.masks, file.masks, path);
  const { seq, B } = readSequenceFile(values.data, net.inputSize, net.loss);
  const name = String(values.learner ?? 'bptt');
  const learner = createLearner(name, net, { batchSize: B, window: values.window ? Number(values.window) : undefined });
  learner.startSequence();
  net.zeroGrads();
  let loss = 0;
  for (let t = 0; t < seq.x.length; t++) loss += learner.step(seq.x[t]!, seq.target[t]!, seq.mask[t]!);
  learner.flush();
  const grads: Record<string, unknown> = {};
  for (const p of net.grads.names()) grads[p] = encodePlain(net.grads.get(p), [...net.grads.shape(p)]);
  const text = JSON.stringify({ loss, grads });
  if (typeof values.out === 'string') writeFileSync(values.out, text + '\n');
  else console.log(text);
}

export async function gradcheckCommand(argv: string[]): Promise<void> {
  process.exitCode = runGradcheck(argv);
}

/**
 * The gradcheck command on a learner table (default: the library's): prints the claims table (pass/FAIL, each
 * row judged by its own exactness claims) and the alignment table (cosine and norm ratio, informational);
 * returns 1 when a claim fails. `--json`: { checks: [{ learner, model, claim, span, relErr, tolerance, pass }],
 * alignment: [{ model, learner, layer, relErr, cosine, normRatio, exact }] }.
 */
export function runGradcheck(argv: string[], table?: readonly LearnerInfo[]): number {
  const { values } = parse('gradcheck', argv, {
    models: { type: 'string' }, learners: { type: 'string' }, json: { type: 'boolean' }, layers: { type: 'string' },
    hidden: { type: 'string' }, steps: { type: 'string' }, seeds: { type: 'string' },
  });
  const list = (v: unknown): string[] | undefined => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);
  const int = (v: unknown, what: string, dflt: number): number => {
    if (v === undefined) return dflt;
    const k = Number(v);
    if (!Number.isInteger(k) || k < 1) throw new ConfigError(`onward gradcheck: --${what} must be a positive integer, got '${String(v)}'`);
    return k;
  };
  const learners = list(values.learners), rows = table ?? learnerTable;
  for (const name of learners ?? []) if (!rows.some((l) => l.name === name)) throw new UnknownNameError('learner', name, rows.map((l) => l.name));
  const { checks, alignment } = gradcheck({
    models: list(values.models), learners, layers: int(values.layers, 'layers', 2),
    hidden: int(values.hidden, 'hidden', 4), T: int(values.steps, 'steps', 6), seeds: int(values.seeds, 'seeds', 1), ...(table ? { table } : {}),
  });
  const failed = checks.filter((c) => !c.pass);
  if (values.json) {
    console.log(JSON.stringify({
      checks,
      alignment: alignment.map(({ model, learner, layer, relErr, cosine, normRatio, exact }) => ({ model, learner, layer, relErr, cosine, normRatio, exact })),
    }));
    return failed.length ? 1 : 0;
  }
  const seeds = int(values.seeds, 'seeds', 1);
  console.log(`exactness claims (each learner judged by the claims of its row; float64${seeds > 1 ? `, the worst of ${seeds} random networks` : ''}):\n`);
  console.log(formatTable(['learner', 'model', 'claim', 'steps', 'rel. error', 'tolerance', 'check'],
    checks.map((c) => [c.learner, c.model, c.claim, c.span, c.relErr.toExponential(2), c.tolerance === 0 ? 'bit for bit' : c.tolerance.toExponential(0), c.pass ? 'ok' : 'FAIL'])));
  console.log(`\nalignment with BPTT per layer (informational${seeds > 1 ? `; over ${seeds} random networks: the largest relative error, the mean cosine and norm ratio` : ''}; masked weights excluded):\n`);
  console.log(formatTable(['model', 'learner', 'layer', 'rel. error', 'cosine', 'rel. norm', 'claimed exact'],
    alignment.map((r) => [r.model, r.learner, r.layer, r.relErr.toExponential(2), r.cosine.toFixed(6), r.normRatio.toFixed(4), r.exact ? 'yes' : ''])));
  console.log(failed.length === 0
    ? `\nall ${checks.length} checks of the learners' exactness claims pass`
    : `\n${failed.length} of ${checks.length} exactness checks FAIL: ${[...new Set(failed.map((f) => `${f.learner} on ${f.model} (${f.claim})`))].join('; ')}`);
  return failed.length ? 1 : 0;
}
