/**
 * The records of `onward bench`, one JSON object per line of `results.jsonl`, and the file itself.
 *
 * The file is only ever appended to, and a run's records are appended together when the run ends (one
 * write), so a suite killed at any moment leaves only whole runs behind and a rerun redoes exactly the
 * runs that have no final record. A write that fails part-way (a full disk) is cut back to the file's old
 * length; a last line left without its line end by a crash is dropped with a note (its run is simply redone),
 * and the file is cut back to its last whole record. Any other damage is refused with its line number and the
 * file is never written to: the user decides what to do with it. One process at a time writes into a folder
 * (`lockResults`: a lock file), so two `bench --out SAME` never run everything twice.
 */
import { existsSync, truncateSync } from 'node:fs';
import { dirname } from 'node:path';
import { FileAccessError, FileFormatError } from '../core/errors.js';
import { appendRecords, lockFolder, readTextBounded } from '../core/files.js';

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
  eval: {
    suite: 'string',
    task: 'string',
    model: 'string',
    learner: 'string',
    seed: 'number',
    steps: 'number',
    configId: 'string',
    final: 'boolean',
    step: 'number',
    metric: 'string',
    cosine: 'object',
  },
  'n/a': { suite: 'string', task: 'string', model: 'string', learner: 'string', reason: 'string' },
  skipped: {
    suite: 'string',
    task: 'string',
    model: 'string',
    learner: 'string',
    seed: 'number',
    steps: 'number',
    configId: 'string',
    reason: 'string',
  },
  error: {
    suite: 'string',
    task: 'string',
    model: 'string',
    learner: 'string',
    seed: 'number',
    steps: 'number',
    configId: 'string',
    message: 'string',
  },
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

/**
 * All records of a results file ([] when it does not exist yet). A torn last line (no line end: the writer was
 * killed mid-write) is dropped and cut from the file, with a note through `onNote`; any other damage is a
 * FileFormatError.
 */
export function readResults(path: string, onNote: (note: string) => void = (n) => console.error(n)): BenchRecord[] {
  if (!existsSync(path)) return [];
  let text = readTextBounded(path, 'results');
  const fix = 'the file was left as it is; repair or move it, or pass another --out folder';
  if (text.length > 0 && !text.endsWith('\n')) {
    const keep = text.lastIndexOf('\n') + 1;
    const torn = text.slice(keep);
    text = text.slice(0, keep);
    try {
      truncateSync(path, Buffer.byteLength(text, 'utf8'));
    } catch (e) {
      throw new FileAccessError(`${path}: cannot cut the incomplete last line: ${(e as Error).message}`);
    }
    onNote(
      `note: ${path}: dropped an incomplete last line (${Buffer.byteLength(torn, 'utf8')} bytes without a line end, left by an interrupted write); ` +
        'its run will be done again',
    );
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

/** append records in one write (whole lines only: a failed write is cut back); non-finite numbers are written as null */
export function appendResults(path: string, records: readonly BenchRecord[]): void {
  if (records.length === 0) return;
  appendRecords(path, records.map((r) => JSON.stringify(r)).join('\n') + '\n', `the results file ${path}`);
}

/** take the lock of the results file's folder for this process (a LockError names the process that holds it); returns the release */
export function lockResults(path: string): () => void {
  return lockFolder(dirname(path), `the bench output folder '${dirname(path)}'`);
}
