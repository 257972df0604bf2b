/**
 * `onward export`: a model file → safetensors (PyTorch's names for rnn/gru/lstm stacks, docs/interchange.md).
 * `onward import`: safetensors (an onward export, or a PyTorch {rnn, fc} state dict) → a model file.
 */
import { readBounded, writeTextAtomic } from '../core/files.js';
import { ConfigError } from '../core/errors.js';
import { modelToSafetensors, safetensorsToModel, type NameScheme } from '../model/interchange.js';
import { readModelFile, writeJsonAtomic } from '../model/io.js';
import type { LossSpec } from '../modules/loss.js';
import { parse } from './args.js';
import { defineCommand, type OptionTable } from './command.js';
import { printResult } from './json.js';

const exportOptions = {
  'model-file': { type: 'string', value: 'FILE', help: 'the model file to export' },
  out: { type: 'string', value: 'FILE', help: 'the safetensors file to write', defaultText: 'the model file with .safetensors' },
  dtype: {
    type: 'string',
    value: 'TYPE',
    help: "float32 (PyTorch's; exact for a float32 run) or float64",
    default: 'float32',
    choices: ['float32', 'float64'],
  },
  names: {
    type: 'string',
    value: 'SCHEME',
    help: 'tensor names: pytorch (rnn/gru/lstm stacks) or onward',
    defaultText: 'pytorch where it applies',
    choices: ['pytorch', 'onward'],
  },
  json: { type: 'boolean', help: 'print the result envelope (docs/cli.md)' },
} as const satisfies OptionTable;

const importOptions = {
  file: { type: 'string', value: 'FILE', help: 'the safetensors file to import' },
  out: { type: 'string', value: 'FILE', help: 'the model file to write', defaultText: 'the file with .model.json' },
  loss: {
    type: 'string',
    value: 'LOSS',
    help: "files without onward metadata: the readout's loss, mse or ce:K (K classes)",
    default: 'mse',
  },
  json: { type: 'boolean', help: 'print the result envelope (docs/cli.md)' },
} as const satisfies OptionTable;

async function exportRun(argv: string[]): Promise<void> {
  const { values } = parse('export', argv, exportOptions);
  if (typeof values['model-file'] !== 'string') throw new ConfigError('onward export needs --model-file m.json');
  const path = values['model-file'];
  const file = readModelFile(path);
  const out = typeof values.out === 'string' ? values.out : path.replace(/(\.model)?\.json$/, '') + '.safetensors';
  const bytes = modelToSafetensors(file, {
    dtype: values.dtype === 'float64' ? 'F64' : 'F32',
    names: values.names as NameScheme | undefined,
  });
  writeTextAtomic(out, bytes, `'${out}'`);
  if (values.json) printResult('export', { modelFile: path, out, bytes: bytes.length });
  else console.log(`${path} → ${out} (${bytes.length} bytes)`);
}

function parseLoss(text: string): LossSpec {
  if (text === 'mse') return { kind: 'mse' };
  const m = /^ce:(\d+)$/.exec(text);
  if (m && Number(m[1]) >= 2) return { kind: 'ce', classes: Number(m[1]) };
  throw new ConfigError(`--loss must be mse or ce:K with K ≥ 2 classes, got '${text}'`);
}

async function importRun(argv: string[]): Promise<void> {
  const { values } = parse('import', argv, importOptions);
  if (typeof values.file !== 'string') throw new ConfigError('onward import needs --file m.safetensors');
  const path = values.file;
  const bytes = new Uint8Array(readBounded(path, 'model', `safetensors file '${path}'`)); // bounded: a regular file within the model-file limit
  const model = safetensorsToModel(bytes, path, { loss: parseLoss(String(values.loss ?? 'mse')) });
  const out = typeof values.out === 'string' ? values.out : path.replace(/\.safetensors$/, '') + '.model.json';
  writeJsonAtomic(out, model);
  if (values.json) printResult('import', { file: path, out, model: model.config.model, parameters: Object.keys(model.params).length });
  else console.log(`${path} → ${out} (${model.config.model}, ${Object.keys(model.params).length} tensors)`);
}

export const exportCommand = defineCommand({
  name: 'export',
  summary: "a model file to safetensors, with PyTorch's names for rnn/gru/lstm stacks",
  usage: '--model-file m.json [--out m.safetensors] [--dtype float32|float64]',
  options: exportOptions,
  run: exportRun,
});

export const importCommand = defineCommand({
  name: 'import',
  summary: 'a safetensors file (an onward export or a PyTorch {rnn, fc} state dict) to a model file',
  usage: '--file m.safetensors [--out m.model.json] [--loss mse|ce:K]',
  options: importOptions,
  run: importRun,
});
