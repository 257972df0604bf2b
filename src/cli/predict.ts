/**
 * `onward predict --model-file m.json --data seq.json`: a model's outputs for the sequences of a sequence
 * file ({x: T×B×d}; y and mask, when present, are ignored), T×B×o — logits for classification models.
 */
import { readJsonFile, writeTextFile } from '../core/files.js';
import { ConfigError, FileFormatError } from '../core/errors.js';
import { loadModel } from '../model/load.js';
import type { Sequence } from '../model/predict.js';
import { parse } from './args.js';
import { defineCommand, type OptionTable } from './command.js';
import { printResult } from './json.js';

const predictOptions = {
  'model-file': { type: 'string', value: 'FILE', help: "the model file (a run's model.json, or an imported one)" },
  data: { type: 'string', value: 'FILE', help: 'the sequences: {x: T×B×inputSize} (a sequence file, as onward data writes)' },
  out: { type: 'string', value: 'FILE', help: 'write {output: T×B×o} here instead of stdout' },
  json: { type: 'boolean', help: 'print the result envelope: {modelFile, T, B, outputSize, output} (docs/cli.md)' },
} as const satisfies OptionTable;

/** the x of a sequence file, checked to be T×B×d numbers */
export function readSequenceInputs(path: string): Sequence {
  const json = readJsonFile(path, 'sequence'); // bounded: a FIFO or /dev/zero is refused
  const x = (json as { x?: unknown } | null)?.x;
  const ok =
    Array.isArray(x) && x.every((s) => Array.isArray(s) && s.every((r) => Array.isArray(r) && r.every((v) => typeof v === 'number')));
  if (!ok) throw new FileFormatError(`${path}: 'x' must be a T×B×d array of numbers`);
  return x as number[][][];
}

async function predictRun(argv: string[]): Promise<void> {
  const { values } = parse('predict', argv, predictOptions);
  if (typeof values['model-file'] !== 'string' || typeof values.data !== 'string') {
    throw new ConfigError('onward predict needs --model-file m.json and --data seq.json');
  }
  const model = loadModel(values['model-file']);
  const x = readSequenceInputs(values.data);
  const output = model.predict(x);
  if (values.json) {
    printResult('predict', {
      modelFile: values['model-file'],
      T: output.length,
      B: output[0]?.length ?? 0,
      outputSize: model.outputSize,
      output,
    });
    return;
  }
  const text = JSON.stringify({ output });
  if (typeof values.out === 'string') writeTextFile(values.out, text + '\n');
  else console.log(text);
}

export const predictCommand = defineCommand({
  name: 'predict',
  summary: "a model's outputs (T×B×o) for the sequences of a file; no learner, no task",
  usage: '--model-file m.json --data seq.json [--json]',
  options: predictOptions,
  run: predictRun,
});
