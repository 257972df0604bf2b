// The README's streaming example, runnable: `npx tsx examples/stream.ts [steps]` (the test suite runs it with few
// steps; experiments/stream-memory.ts runs it for a million and reports the memory).
//
// A live signal arrives one value at a time; the network predicts the next value before it arrives, then learns
// from it — one unbroken sequence, batch 1, an update after every sample, memory fixed when the stream starts.
import { OnlineStream, Rng, type StreamSample } from '../src/index.js';

/** a live signal: two sines whose frequencies drift slowly, plus noise — one value per tick, forever */
export async function* liveSignal(seed = 0): AsyncGenerator<number> {
  const rng = new Rng(seed);
  let phase1 = 0,
    phase2 = 0;
  for (let t = 0; ; t++) {
    phase1 += 0.2 + 0.05 * Math.sin(t / 5000); // the period wanders between ~25 and ~42 ticks
    phase2 += 0.53;
    yield Math.sin(phase1) + 0.5 * Math.sin(phase2) + rng.normal(0, 0.05);
  }
}

/** turn values into samples: the input is v_t, the target v_{t+1} — a sample is complete when the next value arrives */
export async function* nextValue(values: AsyncIterable<number>): AsyncGenerator<StreamSample> {
  let previous: number | undefined;
  for await (const v of values) {
    if (previous !== undefined) yield { x: [previous], target: [v] };
    previous = v;
  }
}

export interface StreamReport {
  /** mean squared error of the predictions over the first and the last complete `window` of samples */
  first: number;
  last: number;
  /** the same for "the next value equals this one", the forecast to beat */
  persistence: number;
  steps: number;
  stateBytes: number;
}

export function createStream(): OnlineStream {
  return new OnlineStream({
    model: {
      model: 'lru',
      inputSize: 1,
      hidden: 16,
      stateSize: 16,
      layers: 1,
      outputSize: 1,
      loss: { kind: 'mse' },
      rMin: 0.5,
      rMax: 0.99,
    },
    learner: 'online-lru',
    optimizer: { name: 'adam', lr: 3e-3, clip: 1 },
    updateEvery: 1,
    seed: 0,
  });
}

export async function streamExample(steps = 20_000, window = 1000, onStep?: (stream: OnlineStream) => void): Promise<StreamReport> {
  const stream = createStream();
  let err = 0,
    naive = 0;
  const report: StreamReport = { first: NaN, last: NaN, persistence: NaN, steps: 0, stateBytes: stream.stateBytes() };
  for await (const { x, target } of nextValue(liveSignal(1))) {
    const { step, prediction } = stream.push(x, target); // predict v_{t+1}, then learn from it
    err += (prediction[0]! - target![0]!) ** 2;
    naive += (x[0]! - target![0]!) ** 2;
    if (step % window === 0) {
      if (step === window) report.first = err / window;
      report.last = err / window;
      report.persistence = naive / window;
      err = naive = 0;
    }
    onStep?.(stream);
    if (step === steps) break; // a live stream never ends by itself: stop here (a checkpoint could resume it)
  }
  report.steps = stream.step;
  return report;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const steps = Number(process.argv[2] ?? 20_000);
  const r = await streamExample(steps);
  console.log(
    `${r.steps} samples: prediction MSE ${r.first.toFixed(4)} over the first 1000 → ${r.last.toFixed(4)} over the last 1000 ` +
      `(the persistence forecast "next = this one": ${r.persistence.toFixed(4)}); the learner keeps ${r.stateBytes} bytes of traces`,
  );
}
