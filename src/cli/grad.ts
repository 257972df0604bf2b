/**
 * `onward grad`: a model file and a sequence file in, the loss and the gradient of every parameter out
 * (by name), computed by the chosen learner — `--dtype float64 --backend ts` is the oracle path.
 * `onward gradcheck`: the table of every learner against BPTT and of BPTT against finite differences.
 */
import { createBackend } from '../backend/index.js';
import { ConfigError } from '../core/errors.js';
import { writeTextFile } from '../core/files.js';
import { createLearner } from '../learners/index.js';
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
  if (typeof values.out === 'string') writeTextFile(values.out, text + '\n');
  else console.log(text);
}

export async function gradcheckCommand(argv: string[]): Promise<void> {
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
  const rows = gradcheck({
    models: list(values.models), learners: list(values.learners), layers: int(values.layers, 'layers', 2),
    hidden: int(values.hidden, 'hidden', 4), T: int(values.steps, 'steps', 6), seeds: int(values.seeds, 'seeds', 1),
  });
  if (!values.json && (values.seeds ?? '1') !== '1') console.log(`over ${values.seeds} random networks: the largest relative error, the mean cosine and norm ratio\n`);
  if (values.json) {
    console.log(JSON.stringify(rows.map(({ model, learner, layer, param, relErr, cosine, normRatio, refused }) => ({ model, learner, layer, param, relErr, cosine, normRatio, ...(refused ? { refused } : {}) }))));
    return;
  }
  console.log(formatTable(['model', 'learner', 'layer', 'rel. error', 'cosine', 'rel. norm', 'exact', 'check'],
    rows.map((r) => [r.model, r.learner, r.layer, r.relErr.toExponential(2), r.cosine.toFixed(6), r.normRatio.toFixed(4), r.exact ? 'yes' : 'no',
      r.refused ? 'refused' : r.learner.startsWith('bptt') ? (r.relErr <= 1e-6 ? 'ok' : 'FAIL') : r.exact ? (r.relErr <= 1e-9 ? 'ok' : 'FAIL') : 'approximate'])));
  const refused = rows.filter((r) => r.refused);
  const failed = rows.filter((r) => !r.refused && r.exact && r.relErr > (r.learner.startsWith('bptt') ? 1e-6 : 1e-9));
  for (const r of refused) console.log(`refused: ${r.learner} × ${r.model}: ${r.refused}`);
  const compared = rows.filter((r) => !r.refused && !r.learner.startsWith('bptt')).length;
  console.log(failed.length > 0 ? `\n${failed.length} exact comparisons out of tolerance`
    : compared === 0 ? '\nno requested learner supports the requested models: nothing was compared with BPTT (BPTT agrees with central finite differences to ≤ 1e-6)'
      : `\nevery exact learner compared agrees with BPTT to ≤ 1e-9 (float64); BPTT agrees with central finite differences to ≤ 1e-6` +
        (refused.length ? `; ${refused.length} requested pair${refused.length > 1 ? 's' : ''} refused (above)` : ''));
  if (failed.length) process.exitCode = 1;
}
