/**
 * The training worker: one run at a time (episodes or a stream), trained in slices of ~30 ms between which the
 * worker answers the page (pause, resume, single step, send the model). A chart point comes at a fixed share of
 * the run (schedule.ts); between points a tick says how far it is. The wasm backend compiles its module
 * synchronously here, which workers allow.
 */
import { PlaygroundRun, catalogue, type Session } from './run.js';
import { PlaygroundStream } from './stream-run.js';
import { describeError } from './errors.js';
import { advance, pointEvery } from './schedule.js';
import type { FromWorker, ToWorker } from './protocol.js';

interface WorkerScope {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;

const SLICE_MS = 30;
const TICK_MS = 250;
let run: Session | null = null;
let every = 1;
let paused = false;
let looping = false;
let lastTick = 0;

const post = (m: FromWorker): void => scope.postMessage(m);
const fail = (e: unknown): void => post({ type: 'error', ...describeError(e) });

/** a macrotask boundary, so messages from the page are handled between slices */
function yieldToMessages(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

async function loop(): Promise<void> {
  if (looping) return;
  looping = true;
  try {
    while (run && !paused && !run.done) {
      const p = advance(run, SLICE_MS, every);
      if (p) post({ type: 'progress', progress: p });
      else if (performance.now() - lastTick >= TICK_MS) {
        lastTick = performance.now();
        post({ type: 'tick', step: run.step });
      }
      await yieldToMessages();
    }
  } catch (e) {
    fail(e);
  } finally {
    looping = false;
  }
}

scope.onmessage = (event) => {
  const m = event.data;
  try {
    switch (m.type) {
      case 'catalogue':
        post({ type: 'catalogue', catalogue: catalogue() });
        break;
      case 'start': {
        run = m.spec.mode === 'stream' ? new PlaygroundStream(m.spec) : new PlaygroundRun(m.spec);
        every = pointEvery(run.steps);
        paused = m.paused === true;
        post({ type: 'started', ...run.info(), pointEvery: every, backend: run.backend });
        post({ type: 'progress', progress: run.progress() });
        void loop();
        break;
      }
      case 'pause':
        paused = true;
        break;
      case 'resume':
        paused = false;
        void loop();
        break;
      case 'step':
        // one training batch (stream: one task sequence), then a point — while paused
        if (run && paused && !run.done) {
          run.trainFor(0, run.step + 1);
          post({ type: 'progress', progress: run.progress() });
        }
        break;
      case 'model':
        if (run) post({ type: 'model', text: run.modelText() });
        break;
    }
  } catch (e) {
    fail(e);
  }
};
