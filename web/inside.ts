/**
 * A look inside the network while it learns, for the page's "inside" panels:
 * - the outputs of every recurrent layer over the shown sequence (a heat map, or a raster for spiking units),
 * - the size (RMS) of each array a learner carries from step to step (RTRL's influence, e-prop's eligibility traces),
 * - the learner's gradient on one batch against BPTT's on the same batch and parameters, per layer, with the
 *   library's gradient comparison (src/check/gradcheck.ts), so one sees where an online rule is exact and where it drifts.
 * Nothing here changes the run: the alignment uses learner instances of its own and restores the gradient buffer.
 */
import { compare, parameterGroups, pick } from '../src/check/gradcheck.js';
import { createLearner, type Learner, type LearnerOptions } from '../src/learners/index.js';
import type { Network } from '../src/model/network.js';
import type { Batch } from '../src/tasks/index.js';
import { spikingModels } from '../src/units/index.js';
import type { AlignmentView, InsideView, LayerTrace } from './protocol.js';

/** units of a layer shown at most (the heat map has one row per unit) */
export const SHOWN_UNITS = 48;

/** spiking or event units: their outputs are drawn as a raster (egru emits events: its output is zero between them) */
export function isSpiking(model: string): boolean {
  return model === 'egru' || (spikingModels.includes(model) && !model.endsWith('-sigmoid'));
}

/** records the outputs of the network's recurrent modules, one time step after another (batch sample 0) */
export class HiddenRecorder {
  private readonly indices: number[];
  private rows: number[][][];

  constructor(readonly network: Network) {
    this.indices = network.modules.flatMap((m, i) => (m.recurrent ? [i] : []));
    this.rows = this.indices.map(() => []);
  }

  reset(): void {
    this.rows = this.indices.map(() => []);
  }

  /** one time step: acts[i] is module i's output (B × outSize); sample 0's first units are kept */
  add(acts: readonly { data: ArrayLike<number> }[]): void {
    this.indices.forEach((i, k) => {
      const n = this.network.modules[i]!.outSize,
        d = acts[i]!.data,
        row: number[] = [];
      for (let u = 0; u < Math.min(n, SHOWN_UNITS); u++) row.push(d[u]!);
      this.rows[k]!.push(row);
    });
  }

  layers(): LayerTrace[] {
    return this.indices.map((i, k) => {
      const n = this.network.modules[i]!.outSize;
      return { name: this.network.prefixes[i]!.replace(/\.$/, ''), units: Math.min(n, SHOWN_UNITS), total: n, values: this.rows[k]! };
    });
  }
}

const WINDOWED = /^t?bptt/;

/** RMS of each array the learner carries (its checkpoint state's traces; bptt/tbptt carry none, they store a window) */
export function traceSizes(learner: Learner): InsideView['traces'] {
  // the windowed rules keep stored activations, not traces (and their state can only be taken at a flush)
  if (WINDOWED.test(learner.name)) return [];
  return learner.saveState().traces.map((arr, i) => {
    let ss = 0;
    for (const v of arr) ss += v * v;
    return { label: `array ${i + 1}`, rms: arr.length > 0 ? Math.sqrt(ss / arr.length) : 0, numbers: arr.length };
  });
}

/** the first few input features over a sequence (batch sample 0), for drawing the input next to the target */
export function inputRows(data: Batch, features = 16): number[][] {
  return data.x.map((x) => {
    const width = x.length > 0 ? Math.min(features, x.length) : 0;
    return Array.from(x.subarray(0, width));
  });
}

/**
 * The alignment of `learner` with BPTT on `data` (B sequences), from zero states and the parameters as they are:
 * cosine and norm ratio per parameter group (layers.0, …, readout, all). The gradient buffer is saved and restored,
 * so a partial update window of the run is left as it was.
 */
export class AlignmentProbe {
  private learners: { learner: Learner; bptt: Learner } | null = null;

  constructor(
    readonly network: Network,
    readonly learnerName: string,
    readonly options: LearnerOptions,
  ) {}

  measure(data: Batch): AlignmentView {
    const net = this.network;
    this.learners ??= {
      learner: createLearner(this.learnerName, net, this.options),
      bptt: createLearner('bptt', net, { batchSize: this.options.batchSize }),
    };
    const saved = Float64Array.from(net.grads.flat.data);
    const grad = (l: Learner): Float64Array => {
      net.zeroGrads();
      l.startSequence();
      for (let t = 0; t < data.x.length; t++) l.step(data.x[t]!, data.target[t]!, data.mask[t]!);
      l.flush();
      net.applyMasks();
      return Float64Array.from(net.grads.flat.data);
    };
    const g = grad(this.learners.learner),
      ref = grad(this.learners.bptt);
    net.grads.flat.data.set(saved);
    return parameterGroups(net).map((grp) => {
      const { cosine, normRatio } = compare(pick(g, grp.index), pick(ref, grp.index));
      return { layer: grp.layer, cosine, normRatio };
    });
  }
}
