/**
 * The fuzz worker thread: runs cases [from, to) of one seed and reports each one (its outcome, or the
 * untyped error that crashed it) and its memory. A lower memory limit than the default keeps a mutated
 * declared size from taking what the runner would call a blow-up before the limit refuses it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { setLimits } from '../../src/core/limits.js';
import { baseFiles, makeCase, runCase } from './engine.js';

const { seed, from, to } = workerData as { seed: number; from: number; to: number };
setLimits({ maxMemory: 256 * 2 ** 20 });
const bases = baseFiles();
for (let i = from; i < to; i++) {
  const c = makeCase(bases, seed, i);
  parentPort!.postMessage({ type: 'start', index: i, kind: c.kind, what: c.what });
  try {
    const outcome = runCase(c);
    parentPort!.postMessage({ type: 'done', index: i, outcome, rss: process.memoryUsage().rss });
  } catch (e) {
    const err = e as Error;
    parentPort!.postMessage({
      type: 'crash',
      index: i,
      kind: c.kind,
      what: c.what,
      error: `${err?.name}: ${err?.message}`,
      stack: String(err?.stack).split('\n').slice(1, 4).join(' | '),
    });
  }
}
parentPort!.postMessage({ type: 'end' });
