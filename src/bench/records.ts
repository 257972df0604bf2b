/**
 * The records of `onward bench`, one JSON object per line of `results.jsonl`, and the file itself.
 *
 * The file is only ever appended to, and a run's records are appended together when the run ends (one
 * write), so a suite killed at any moment leaves only whole runs behind and a rerun redoes exactly the
 * runs that have no final record. A file that does not parse is refused with its line number and never
 * written to: the user decides what to do with it.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { FileFormatError } from '../core/errors.js';

/** what identifies one training run of a suite */
export interface RunKey {
  suite: string;
  task: string;
  model: string;
  learner: string;
  seed: number;
  /** training batches of the run */
  steps: number;
  /**
   * a hash of the run's fully resolved TrainConfig: when a task's defaults or the config change (a merge, an
   * edit), earlier results no longer count as this run and it is run again
   */
  configId: string;
}

/** FNV-1a (32 bit) of the JSON of a config, as 8 hex digits */
export function configId(config: object): string {
  const text = JSON.stringify(config);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** one evaluation point of a run */
export interface EvalRecord extends RunKey {
  kind: 'eval';
  /** the last evaluation of a finished run */
  final: boolean;
  /** training batches completed */
  step: number;
  /** the task's metric name and its value on the held-out batches (null: not finite) */
  metric: string;
  value: number | null;
  loss: number | null;
  /** cosine between this learner's gradient and BPTT's on one fixed batch, per parameter group and 'all' */
  cosine: Record<string, number | null>;
  /** wall time and multiply-accumulates per time step (whole batch) of training since the last point; null at step 0 */
  usPerStep: number | null;
  macsPerStep: number | null;
  /** the most bytes the learner kept for its gradient (learner.stateBytes()) so far */
  stateBytes: number | null;
  /** the same for the inference step alone (the evaluation forward pass) */
  inferenceUsPerStep: number;
  inferenceMacsPerStep: number;
  paramBytes: number;
  batch: number;
  seqLength: number;
  /** the loss went non-finite: training stopped there */
  diverged: boolean;
  /** wall seconds since the run started */
  seconds: number;
  /** the learner's own statistics since the previous point (learner.stats()), when it keeps any */
  learnerStats?: Record<string, number>;
}

/** a learner × model pair the learner does not support: listed, never silently dropped */
export interface NotApplicableRecord {
  kind: 'n/a';
  suite: string;
  task: string;
  model: string;
  learner: string;
  reason: string;
}

/** a run the suite's cost budget excludes (estimated before training, from the backend's MAC counter) */
export interface SkippedRecord extends RunKey {
  kind: 'skipped';
  /** null: the estimate itself did not finish (out of time or memory) */
  estimatedMacs: number | null;
  reason: string;
}

/** a run that failed; it is tried again when the suite is rerun */
export interface ErrorRecord extends RunKey {
  kind: 'error';
  error: string;
  message: string;
}

export type BenchRecord = EvalRecord | NotApplicableRecord | SkippedRecord | ErrorRecord;

export function runKey(k: RunKey): string {
  return `${k.suite}|${k.task}|${k.model}|${k.learner}|${k.seed}|${k.steps}|${k.configId}`;
}

export function pairKey(k: { suite: string; task: string; model: string; learner: string }): string {
  return `${k.suite}|${k.task}|${k.model}|${k.learner}`;
}

/** a run is done when it has a final evaluation or was skipped by the budget (errors are retried) */
export function doneRuns(records: readonly BenchRecord[]): Set<string> {
  const done = new Set<string>();
  for (const r of records) {
    if ((r.kind === 'eval' && r.final) || r.kind === 'skipped') done.add(runKey(r));
  }
  return done;
}

const fieldTypes: Record<BenchRecord['kind'], Record<string, string>> = {
  'eval': { suite: 'string', task: 'string', model: 'string', learner: 'string', seed: 'number', steps: 'number', configId: 'string', final: 'boolean', step: 'number', metric: 'string', cosine: 'object' },
  'n/a': { suite: 'string', task: 'string', model: 'string', learner: 'string', reason: 'string' },
  'skipped': { suite: 'string', task: 'string', model: 'string', learner: 'string', seed: 'number', steps: 'number', configId: 'string', reason: 'string' },
  'error': { suite: 'string', task: 'string', model: 'string', learner: 'string', seed: 'number', steps: 'number', configId: 'string', message: 'string' },
};

/** check one parsed line; returns what is wrong with it, or null */
function problem(value: unknown): string | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const kind = (value as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !(kind in fieldTypes)) return `unknown record kind ${JSON.stringify(kind)}`;
  for (const [field, type] of Object.entries(fieldTypes[kind as BenchRecord['kind']])) {
    const v = (value as Record<string, unknown>)[field];
    if (typeof v !== type || v === null) return `field '${field}' should be a ${type}, got ${JSON.stringify(v)}`;
  }
  return null;
}

/** all records of a results file ([] when it does not exist yet); any damage is a FileFormatError */
export function readResults(path: string): BenchRecord[] {
  if (!existsSync(path)) return [];
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new FileFormatError(`cannot read the results file ${path}: ${(e as Error).message}`);
  }
  const fix = 'the file was left as it is; repair or move it, or pass another --out folder';
  if (text.length > 0 && !text.endsWith('\n')) {
    throw new FileFormatError(`${path}: the last line is incomplete (no line end), so the file is damaged; ${fix}`);
  }
  const records: BenchRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new FileFormatError(`${path}:${i + 1}: not valid JSON (${(e as Error).message}); ${fix}`);
    }
    const why = problem(value);
    if (why) throw new FileFormatError(`${path}:${i + 1}: not a bench record: ${why}; ${fix}`);
    records.push(value as BenchRecord);
  }
  return records;
}

/** append records in one write (whole lines only); non-finite numbers are written as null */
export function appendResults(path: string, records: readonly BenchRecord[]): void {
  if (records.length === 0) return;
  appendFileSync(path, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
}
