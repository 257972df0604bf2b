/**
 * The training worker: one run at a time (episodes or a stream), trained in slices of ~30 ms between which the worker answers the page
 * (pause, resume, send the model). The wasm backend compiles its module synchronously here, which workers allow.
 */
import { PlaygroundRun, catalogue, type Session } from './run.js';
import { PlaygroundStream } from './stream-run.js';
import type { FromWorker, ToWorker } from './protocol.js';

interface WorkerScope {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;

const SLICE_MS = 30;
const REPORT_MS = 150;
let run: Session | null = null;
let paused = false;
let looping = false;
let lastReport = 0;

const post = (m: FromWorker): void => scope.postMessage(m);
const fail = (e: unknown): void => post({ type: 'error', message: e instanceof Error ? `${e.message}${e.name !== 'Error' ? ` (${e.name})` : ''}` : String(e) });

function report(): void {
  if (!run) return;
  lastReport = performance.now();
  post({ type: 'progress', progress: run.progress(true) });
}

/** a macrotask boundary, so messages from the page are handled between slices */
function yieldToMessages(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

async function loop(): Promise<void> {
  if (looping) return;
  looping = true;
  try {
    while (run && !paused && !run.done) {
      run.trainFor(SLICE_MS);
      if (run.done || performance.now() - lastReport >= REPORT_MS) report();
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
        paused = m.paused === true;
        const info = run.info();
        post({ type: 'started', ...info, backend: run.backend });
        report();
        void loop();
        break;
      }
      case 'pause':
        paused = true;
        report();
        break;
      case 'resume':
        paused = false;
        void loop();
        break;
      case 'model':
        if (run) post({ type: 'model', text: run.modelText() });
        break;
    }
  } catch (e) {
    fail(e);
  }
};
