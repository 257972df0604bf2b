/**
 * A run's metrics.jsonl after a resume (Node): the file is cut back to the checkpoint's step — records written
 * after the checkpoint by a run killed before its next one would otherwise repeat — and "seconds" continues
 * from its last evaluation instead of restarting at 0.
 */
import { existsSync } from 'node:fs';
import { readTextBounded, writeTextAtomic } from '../core/files.js';

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** a line of metrics.jsonl: an evaluation ({step, loss, …, seconds}) or an alignment ({step, align}) */
interface MetricsRecord {
  step: number;
  seconds?: number;
  align?: unknown;
}

/**
 * Cut a run's metrics.jsonl back to the checkpoint's `step` (evaluations up to it, alignments measured before
 * it; a torn last line dropped) and return the seconds of its last evaluation, for "seconds" to continue from.
 */
export function continueMetrics(path: string, step: number): number {
  if (!existsSync(path)) return 0;
  const lines = readTextBounded(path, 'results', `metrics file '${path}'`).split('\n');
  const kept: string[] = [];
  let seconds = 0;
  for (const line of lines) {
    if (line.trim() === '') continue;
    let r: MetricsRecord;
    try {
      r = JSON.parse(line) as MetricsRecord;
    } catch {
      continue; // a torn line from a killed write: the run will write it again
    }
    if (!isObject(r) || typeof r.step !== 'number') continue;
    const keep = r.align !== undefined ? r.step < step : r.step <= step;
    if (!keep) continue;
    kept.push(line);
    if (typeof r.seconds === 'number' && Number.isFinite(r.seconds)) seconds = r.seconds;
  }
  writeTextAtomic(path, kept.length ? kept.join('\n') + '\n' : '', `metrics file '${path}'`);
  return seconds;
}
