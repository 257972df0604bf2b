/**
 * The bench worker thread (threads.ts starts it, for the local pool and for queue workers alike): receives
 * run specs one at a time, runs each, and posts its records back.
 * Messages out: {type: 'probe', probing} around the cost estimate, {type: 'record', record} as records come,
 * then {type: 'done'} or {type: 'error', error, message}.
 */
import { parentPort } from 'node:worker_threads';
import { runBenchmark } from './run.js';
import type { RunSpec } from './plan.js';

const port = parentPort;
if (!port) throw new Error('the bench worker runs in a worker thread');
port.on('message', (spec: RunSpec) => {
  try {
    runBenchmark(
      spec,
      (record) => port.postMessage({ type: 'record', record }),
      (probing) => port.postMessage({ type: 'probe', probing }),
    );
    port.postMessage({ type: 'done' });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    port.postMessage({ type: 'error', error: err.name, message: err.message });
  }
});
