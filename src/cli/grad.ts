/**
 * `onward grad`: a model file and a sequence file in, the loss and the gradient of every parameter out
 * (by name), computed by the chosen learner — `--dtype float64 --backend ts` is the oracle path.
 * `onward gradcheck`: every exactness claim of every learner row checked (exit 1 when one fails), and every
 * learner's alignment with BPTT per layer.
 */
import { createBackend } from '../backend/index.js';
import { ConfigError, UnknownNameError } from '../core/errors.js';
import { writeTextFile } from '../core/files.js';
import { createLearner, learnerTable, type LearnerInfo } from '../learners/index.js';
import { decodeMasksInto, decodeParamsInto, encodePlain, readModelFile } from '../model/io.js';
import { Network, validateModelConfig, type ModelConfig } from '../model/network.js';
import { gradcheck } from '../check/gradcheck.js';
import { readSequenceFile } from '../check/sequence-file.js';
import { parse } from './args.js';
import { defineCommand, type OptionTable } from './command.js';
import { printResult } from './json.js';
import { StatusLine } from './progress.js';
import { formatTable } from './table.js';

const gradOptions = {
  'model-file': { type: 'string', value: 'FILE', help: 'the model file (onward.model JSON)' },
  data: { type: 'string', value: 'FILE', help: 'the sequence file: {x: T×B×d, y: T×B×o or class ids T×B, mask?: T×B}' },
  learner: { type: 'string', value: 'NAME', help: 'the learner that computes the gradient', default: 'bptt' },
  dtype: {
    type: 'string',
    value: 'TYPE',
    help: 'float64 (the oracle path) or float32',
    default: 'float64',
    choices: ['float64', 'float32'],
  },
  backend: { type: 'string', value: 'NAME', help: 'ts or wasm', defaultText: 'ts for float64, wasm for float32', choices: ['ts', 'wasm'] },
  window: { type: 'string', value: 'K', help: 'tbptt: the truncation window' },
  out: { type: 'string', value: 'FILE', help: 'write the JSON here instead of stdout' },
} as const satisfies OptionTable;

const gradcheckOptions = {
  models: { type: 'string', value: 'A,B', help: 'models to check', defaultText: 'rnn, gru, lstm, leaky, leaky:norec, lru' },
  learners: { type: 'string', value: 'A,B', help: 'learners to check', defaultText: 'every learner that runs on each model' },
  layers: { type: 'string', value: 'L', help: 'layers of the random networks', default: '2' },
  hidden: { type: 'string', value: 'N', help: 'units per layer', default: '4' },
  steps: { type: 'string', value: 'T', help: 'sequence length', default: '6' },
  seeds: { type: 'string', value: 'N', help: 'random networks per model (rows: largest error, mean cosine)', default: '1' },
  json: { type: 'boolean', help: 'print the result envelope: an array of rows (docs/cli.md)' },
} as const satisfies OptionTable;

async function gradRun(argv: string[]): Promise<void> {
  const { values } = parse('grad', argv, gradOptions);
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
  // the output is a file format of its own (docs/design.md §7), not an envelope: other tools read it
  const text = JSON.stringify({ loss, grads });
  if (typeof values.out === 'string') writeTextFile(values.out, text + '\n');
  else console.log(text);
}

async function gradcheckRun(argv: string[]): Promise<void> {
  process.exitCode = runGradcheck(argv);
}

/**
 * The gradcheck command on a learner table (default: the library's): prints the claims table (pass/FAIL, each
 * row judged by its own exactness claims) and the alignment table (cosine and norm ratio, informational);
 * returns 1 when a claim fails. `--json`: the result envelope (docs/cli.md) of { checks: [{ learner, model,
 * claim, span, relErr, tolerance, pass }], alignment: [{ model, learner, layer, relErr, cosine, normRatio, exact }] }.
 */
export function runGradcheck(argv: string[], table?: readonly LearnerInfo[]): number {
  const { values } = parse('gradcheck', argv, gradcheckOptions);
  const list = (v: unknown): string[] | undefined =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined;
  const int = (v: unknown, what: string, dflt: number): number => {
    if (v === undefined) return dflt;
    const k = Number(v);
    if (!Number.isInteger(k) || k < 1) throw new ConfigError(`onward gradcheck: --${what} must be a positive integer, got '${String(v)}'`);
    return k;
  };
  const learners = list(values.learners),
    rows = table ?? learnerTable;
  for (const name of learners ?? [])
    if (!rows.some((l) => l.name === name))
      throw new UnknownNameError(
        'learner',
        name,
        rows.map((l) => l.name),
      );
  const seedCount = int(values.seeds, 'seeds', 1);
  const status = values.json ? null : new StatusLine('onward gradcheck');
  let started = 0;
  const { checks, alignment } = gradcheck({
    models: list(values.models),
    learners,
    layers: int(values.layers, 'layers', 2),
    hidden: int(values.hidden, 'hidden', 4),
    T: int(values.steps, 'steps', 6),
    seeds: seedCount,
    ...(table ? { table } : {}),
    onModel: (model, _i, total) =>
      status?.update(`model ${++started}/${total * seedCount} (${model}${seedCount > 1 ? `, seed ${Math.ceil(started / total)}` : ''})`),
  });
  status?.done();
  const failed = checks.filter((c) => !c.pass);
  if (values.json) {
    printResult('gradcheck', {
      checks,
      alignment: alignment
        .filter((r) => !r.refused)
        .map(({ model, learner, layer, relErr, cosine, normRatio, exact, notMeasured }) => ({
          model,
          learner,
          layer,
          relErr,
          cosine,
          normRatio,
          exact,
          ...(notMeasured ? { notMeasured } : {}),
        })),
      refused: alignment.filter((r) => r.refused).map(({ model, learner, refused }) => ({ model, learner, reason: refused })),
    });
    return failed.length ? 1 : 0;
  }
  const seeds = int(values.seeds, 'seeds', 1);
  console.log(
    `exactness claims (each learner judged by the claims of its row; float64${seeds > 1 ? `, the worst of ${seeds} random networks` : ''}):\n`,
  );
  console.log(
    formatTable(
      ['learner', 'model', 'claim', 'steps', 'rel. error', 'tolerance', 'check'],
      checks.map((c) => [
        c.learner,
        c.model,
        c.claim,
        c.span,
        c.relErr.toExponential(2),
        c.tolerance === 0 ? 'bit for bit' : c.tolerance.toExponential(0),
        c.pass ? 'ok' : 'FAIL',
      ]),
    ),
  );
  console.log(
    `\nalignment with BPTT per layer (informational${seeds > 1 ? `; over ${seeds} random networks: the largest relative error, the mean cosine and norm ratio` : ''}; masked weights excluded):\n`,
  );
  console.log(
    formatTable(
      ['model', 'learner', 'layer', 'rel. error', 'cosine', 'rel. norm', 'claimed exact'],
      alignment
        .filter((r) => !r.refused)
        .map((r) => [
          r.model,
          r.learner,
          r.layer,
          r.notMeasured ?? r.relErr.toExponential(2),
          r.notMeasured ? 'n/a' : r.cosine.toFixed(6),
          r.notMeasured ? 'n/a' : r.normRatio.toFixed(4),
          r.exact ? 'yes' : '',
        ]),
    ),
  );
  // requested by name but not supported on a requested model: listed, never dropped in silence
  const refused = alignment.filter((r) => r.refused);
  if (refused.length)
    console.log(`\nrefused (requested, not supported):\n${refused.map((r) => `  ${r.learner} × ${r.model}: ${r.refused}`).join('\n')}`);
  console.log(
    failed.length === 0
      ? (checks.length === 0
          ? '\nno exactness claim was checked: no requested learner has a claim on the requested models'
          : `\nall ${checks.length} checks of the learners' exactness claims pass`) +
          (refused.length ? `; ${refused.length} requested pair${refused.length > 1 ? 's' : ''} refused (above)` : '')
      : `\n${failed.length} of ${checks.length} exactness checks FAIL: ${[...new Set(failed.map((f) => `${f.learner} on ${f.model} (${f.claim})`))].join('; ')}`,
  );
  return failed.length ? 1 : 0;
}

export const gradCommand = defineCommand({
  name: 'grad',
  summary: 'loss and the gradient of every parameter, by name, for a model file and a sequence file (JSON)',
  usage: '--model-file m.json --data seq.json [--learner NAME] [options]',
  options: gradOptions,
  run: gradRun,
});

export const gradcheckCommand = defineCommand({
  name: 'gradcheck',
  summary: "every learner row's exactness claims checked against BPTT (exit 1 on a failure), and its alignment per layer",
  options: gradcheckOptions,
  run: gradcheckRun,
});
