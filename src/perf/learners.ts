/**
 * `onward perf --learners`: time, memory and multiply-accumulates per step of each learner on one model,
 * next to the inference step alone (the forward pass with nothing kept for learning).
 *
 * Memory: `stateBytes` is what the rule keeps to compute its gradient (BPTT: the stored steps of the
 * sequence; RTRL: the influence matrices), not gradient accumulators or optimizer state, which every
 * trainer has. `usPerStep` of BPTT includes its backward sweep, amortised over the sequence.
 */
import { createBackend, type BackendName } from '../backend/index.js';
import { Rng } from '../core/rng.js';
import { ParallelLearner, createThreadedLearner, defaultThreads } from '../train/parallel.js';
import { ForwardPass } from '../model/forward.js';
import { elementBytes } from '../core/bytes.js';
import { Network, type ModelConfig } from '../model/network.js';

export interface LearnerPerfRecord {
  learner: string;
  model: string;
  B: number;
  T: number;
  /** threads the learner's batch was split over (absent: one; inference always runs on one) */
  threads?: number;
  usPerStep: number;
  inferenceUsPerStep: number;
  paramBytes: number;
  stateBytes: number;
  inferenceStateBytes: number;
  macsPerStep: number;
  inferenceMacsPerStep: number;
}

export interface LearnerPerfOptions {
  learners?: string[];
  model?: string;
  hidden?: number;
  layers?: number;
  /** lru: complex states per layer */
  stateSize?: number;
  inputSize?: number;
  outputSize?: number;
  B?: number[];
  T?: number[];
  /** 'wasm' (default), 'ts' or 'native' (wasm with OpenBLAS's matrix products) */
  backend?: BackendName;
  /** the most bytes a learner's backend may hold (a learner whose state needs more is refused when built) */
  maxMemory?: number;
  /** worker threads the batch is split over (train/parallel.ts); default: the cores for B ≥ 8, else 1 (defaultThreads) */
  threads?: number;
}

/**
 * The models measured by default: for gru a single layer of 32 units; for lru the copy task's `paper`
 * model of the online-LRU paper (4 layers, d_model 128, 64 complex states, 8 inputs, 7×2 outputs).
 */
export function perfDefaults(model: string): Required<Omit<LearnerPerfOptions, 'backend' | 'maxMemory' | 'threads'>> {
  if (model === 'lru') {
    return {
      learners: ['online-lru', 'spatial', 'truncated1', 'bptt'],
      model,
      hidden: 128,
      layers: 4,
      stateSize: 64,
      inputSize: 8,
      outputSize: 14,
      B: [1, 50],
      T: [48, 480],
    };
  }
  return { learners: ['bptt', 'rtrl'], model, hidden: 32, layers: 1, stateSize: 0, inputSize: 8, outputSize: 8, B: [1], T: [100, 10_000] };
}

function inputs(T: number, B: number, d: number, o: number, seed: number): { x: Float64Array[]; y: Float64Array[]; mask: Float64Array } {
  const rng = new Rng(seed);
  const x = Array.from({ length: T }, () => {
    const v = new Float64Array(B * d);
    rng.fillNormal(v);
    return v;
  });
  const y = Array.from({ length: T }, () => {
    const v = new Float64Array(B * o);
    rng.fillNormal(v);
    return v;
  });
  return { x, y, mask: new Float64Array(B).fill(1) };
}

export function runLearnerPerf(options: LearnerPerfOptions = {}, onRecord?: (r: LearnerPerfRecord) => void): LearnerPerfRecord[] {
  const defaults = perfDefaults(options.model ?? 'gru');
  const o = { ...defaults, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const { model, hidden, layers, inputSize, outputSize, learners } = o;
  const config: ModelConfig = {
    model,
    inputSize,
    hidden,
    layers,
    outputSize,
    loss: { kind: 'mse' },
    ...(model === 'lru' ? { stateSize: o.stateSize } : {}),
  };
  const records: LearnerPerfRecord[] = [];
  for (const B of o.B)
    for (const T of o.T) {
      const data = inputs(T, B, inputSize, outputSize, T);
      // inference alone
      const be0 = createBackend({ backend: options.backend ?? 'wasm' });
      const net0 = new Network(config, be0, 1);
      const fwd = new ForwardPass(net0, B);
      fwd.ctx.training = false;
      const caches = net0.modules.map((m) => m.createCache(be0, B));
      const runInference = (): void => {
        fwd.resetStates();
        for (let t = 0; t < T; t++) {
          fwd.load(data.x[t]!);
          fwd.run(caches);
        }
      };
      runInference(); // warm-up
      be0.macs = 0;
      runInference();
      const inferenceMacs = be0.macs / T;
      medianRunMs(runInference);
      const eb = elementBytes(be0.dtype);
      const inferenceStateBytes = fwd.states.reduce((s, st) => s + (st ? (st.s.length + st.y.length) * eb : 0), 0);
      for (const name of learners) {
        const be = createBackend({ backend: options.backend ?? 'wasm', ...(options.maxMemory ? { maxMemory: options.maxMemory } : {}) });
        const net = new Network(config, be, 1);
        const threads = options.threads ?? defaultThreads(B);
        const learner = createThreadedLearner(name, net, { batchSize: B, window: Math.min(T, 32) }, threads);
        const run = (steps: number): number => {
          learner.startSequence();
          let peak = 0;
          for (let t = 0; t < steps; t++) {
            learner.step(data.x[t]!, data.y[t]!, data.mask);
            if (t === steps - 1) peak = learner.stateBytes();
          }
          learner.flush();
          return peak;
        };
        run(Math.min(T, 20)); // warm-up
        be.macs = 0;
        const stateBytes = run(T);
        const macs = be.macs / T;
        // the learner's runs alternate with inference runs, so a machine shared with other work loads both alike
        const [learnerMs, inferenceMs] = pairedMedianMs(() => run(T), runInference);
        const us = (learnerMs * 1000) / T,
          inferenceUs = (inferenceMs * 1000) / T;
        const r: LearnerPerfRecord = {
          learner: name,
          model,
          B,
          threads,
          T,
          usPerStep: us,
          inferenceUsPerStep: inferenceUs,
          paramBytes: net.size * eb,
          stateBytes,
          inferenceStateBytes,
          macsPerStep: macs,
          inferenceMacsPerStep: inferenceMacs,
        };
        if (learner instanceof ParallelLearner) learner.close();
        records.push(r);
        onRecord?.(r);
      }
    }
  return records;
}

/** median wall times of two functions run alternately: at least 5 pairs or 600 ms, whichever is more */
function pairedMedianMs(a: () => unknown, b: () => unknown): [number, number] {
  const ta: number[] = [],
    tb: number[] = [];
  const start = performance.now();
  while (ta.length < 5 || (performance.now() - start < 600 && ta.length < 100)) {
    let t = performance.now();
    a();
    ta.push(performance.now() - t);
    t = performance.now();
    b();
    tb.push(performance.now() - t);
  }
  const median = (v: number[]): number => v.sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
  return [median(ta), median(tb)];
}

/** median wall time of repeated runs: at least 3 runs or 300 ms, whichever is more (one warm run first) */
function medianRunMs(fn: () => unknown): number {
  fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 3 || (performance.now() - start < 300 && times.length < 50)) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
