/**
 * `onward perf --sparse`: what activity and parameter sparsity save exact RTRL on an EGRU, counted and timed.
 *
 * For each width n, one EGRU layer (weight_hh at the given density, a narrow pseudo-derivative) runs the
 * spiral task's sequences under `rtrl` and under `sparse-rtrl` on the same backend. Reported: the
 * multiply-adds per step of each (rtrl's from the backend's counter, sparse-rtrl's from its own count), their
 * ratio, the wall-clock ratio measured in the same run, and how much of the operation saving the clock shows
 * (`(1 − time ratio) / (1 − op ratio)`), with the forward activity, backward-active fraction and influence
 * density of the sequences. The network is at its initialisation (as in the paper's measurements) or, with
 * `trained`, after that many sparse-rtrl updates on the task.
 */
import { createBackend, type BackendName } from '../backend/index.js';
import { Rng } from '../core/rng.js';
import { createLearner } from '../learners/index.js';
import { ForwardPass } from '../model/forward.js';
import { Network, type ModelConfig } from '../model/network.js';
import { createTask } from '../tasks/index.js';
import { applyOverrides, defaultConfig } from '../train/config.js';
import { Trainer } from '../train/trainer.js';

export interface SparsePerfOptions {
  hidden?: number[];
  density?: number;
  width?: number;
  dampening?: number;
  B?: number;
  backend?: BackendName;
  /** train this many updates (sparse-rtrl on spiral, batch 16) before measuring; 0: measure at initialisation */
  trained?: number;
}

export interface SparsePerfRecord {
  n: number;
  density: number;
  width: number;
  B: number;
  T: number;
  rtrlMacsPerStep: number;
  sparseMacsPerStep: number;
  opRatio: number;
  rtrlUsPerStep: number;
  sparseUsPerStep: number;
  timeRatio: number;
  /** (1 − timeRatio) / (1 − opRatio): the share of the operation saving the clock shows */
  savingShown: number;
  forwardActivity: number;
  backwardActive: number;
  influenceDensity: number;
  rtrlStateBytes: number;
  sparseStateBytes: number;
  /** updates trained before measuring */
  trained: number;
  /** the trained network's spiral accuracy (NaN at initialisation) */
  accuracy: number;
}

export function runSparsePerf(options: SparsePerfOptions = {}, onRecord?: (r: SparsePerfRecord) => void): SparsePerfRecord[] {
  const { hidden = [64, 128], density = 0.1, width = 0.1, dampening = 0.7, B = 1, trained = 0 } = options;
  const task = createTask('spiral', 'ci');
  const data = task.batch(B, new Rng(7));
  const T = task.seqLength;
  const records: SparsePerfRecord[] = [];
  for (const n of hidden) {
    const config: ModelConfig = {
      model: 'egru',
      inputSize: task.inputSize,
      hidden: n,
      layers: 1,
      outputSize: task.outputSize,
      loss: task.loss,
      density,
      maskMethod: 'static',
      dampening,
      width,
    };
    // optionally train first, so activity is that of a network doing the task rather than of a random one
    let params: Float64Array | null = null,
      masks = new Map<string, Float64Array>(),
      accuracy = NaN;
    if (trained > 0) {
      const trainer = new Trainer(
        applyOverrides(defaultConfig('spiral', 'ci'), {
          learner: 'sparse-rtrl',
          hidden: n,
          density,
          width,
          dampening,
          steps: trained,
          batch: 16,
          evalEvery: 0,
          seed: 1,
          backend: options.backend ?? 'wasm',
        }),
      );
      while (trainer.step < trained) trainer.trainStep();
      params = Float64Array.from(trainer.network.params.flat.data);
      masks = new Map([...trainer.network.masks].map(([k, m]) => [k, Float64Array.from(m.data)]));
      accuracy = trainer.evaluate().value;
    }
    const timed = (name: string): { us: number; macs: number; bytes: number; stats: Record<string, number> } => {
      const be = createBackend({ backend: options.backend ?? 'wasm' });
      const net = new Network(config, be, 1);
      if (params) {
        net.params.flat.data.set(params);
        for (const [k, m] of masks) net.masks.get(k)!.data.set(m);
      }
      const learner = createLearner(name, net, { batchSize: B });
      const run = (): void => {
        learner.startSequence();
        for (let t = 0; t < T; t++) learner.step(data.x[t]!, data.target[t]!, data.mask[t]!);
        learner.flush();
        net.zeroGrads();
      };
      // the forward pass alone, to take out of rtrl's count
      const fwd = new ForwardPass(net, B);
      const caches = net.modules.map((m) => m.createCache(be, B));
      be.macs = 0;
      for (let t = 0; t < T; t++) {
        fwd.load(data.x[t]!);
        fwd.run(caches);
      }
      const forwardMacs = be.macs;
      run(); // warm-up
      learner.stats?.();
      be.macs = 0;
      const times: number[] = [];
      const start = performance.now();
      while (times.length < 3 || (performance.now() - start < 1000 && times.length < 20)) {
        const t0 = performance.now();
        run();
        times.push(performance.now() - t0);
      }
      const macs = (be.macs / times.length - forwardMacs) / (T * B);
      times.sort((a, b) => a - b);
      return { us: (times[Math.floor(times.length / 2)]! * 1000) / T, macs, bytes: learner.stateBytes(), stats: learner.stats?.() ?? {} };
    };
    const dense = timed('rtrl');
    const sparse = timed('sparse-rtrl');
    const opRatio = sparse.stats.macsPerStep! / dense.macs,
      timeRatio = sparse.us / dense.us;
    const r: SparsePerfRecord = {
      n,
      density,
      width,
      B,
      T,
      rtrlMacsPerStep: dense.macs,
      sparseMacsPerStep: sparse.stats.macsPerStep!,
      opRatio,
      rtrlUsPerStep: dense.us,
      sparseUsPerStep: sparse.us,
      timeRatio,
      savingShown: (1 - timeRatio) / (1 - opRatio),
      forwardActivity: sparse.stats.forwardActivity!,
      backwardActive: sparse.stats.backwardActive!,
      influenceDensity: sparse.stats.influenceDensity!,
      rtrlStateBytes: dense.bytes,
      sparseStateBytes: sparse.bytes,
      trained,
      accuracy,
    };
    records.push(r);
    onRecord?.(r);
  }
  return records;
}
