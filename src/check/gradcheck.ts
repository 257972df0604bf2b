/**
 * `onward gradcheck`: every learner against BPTT, and BPTT against central finite differences, on small
 * float64 networks of every unit model — per layer and overall, as relative error, cosine and relative norm
 * ‖g‖/‖g_bptt‖ (the gradient alignment of approximate learners). A model name with the suffix ':norec'
 * (e.g. 'leaky:norec') builds it without recurrent synapses.
 */
import { TsBackend } from '../backend/ts.js';
import { UnknownNameError } from '../core/errors.js';
import { learnerTable } from '../learners/index.js';
import { Network, type ModelConfig } from '../model/network.js';
import { cosine, finiteDifferenceGradient, learnerGradient, randomSequence, relativeError } from './oracle.js';

export interface GradcheckRow {
  model: string;
  learner: string;
  layer: string;
  param: string;
  relErr: number;
  cosine: number;
  /** ‖g‖ / ‖g_reference‖ */
  normRatio: number;
  exact: boolean;
  /** a requested learner × model pair the learner does not support: listed with the reason, never dropped */
  refused?: string;
}

export interface GradcheckOptions {
  models?: string[];
  learners?: string[];
  layers?: number;
  hidden?: number;
  T?: number;
  B?: number;
  seed?: number;
  /**
   * random networks and sequences per model (default 1): rows then give the largest relative error (what an
   * exactness check needs) and the mean cosine and norm ratio (what alignment comparisons need)
   */
  seeds?: number;
}

/** parameter groups by layer: 'layers.0', 'layers.1', …, 'readout', and 'all' (indices into the flat store) */
export function parameterGroups(net: Network): { layer: string; index: number[] }[] {
  const out = new Map<string, number[]>();
  for (const name of net.params.names()) {
    const layer = name.split('.').slice(0, name.startsWith('layers.') ? 2 : 1).join('.');
    const e = net.params.entry(name);
    const list = out.get(layer) ?? [];
    for (let i = 0; i < e.size; i++) list.push(e.offset + i);
    out.set(layer, list);
  }
  return [...[...out.entries()].map(([layer, index]) => ({ layer, index })), { layer: 'all', index: Array.from({ length: net.size }, (_, i) => i) }];
}

/** relative error, cosine and norm ratio of a gradient against a reference */
export function compare(g: ArrayLike<number>, ref: ArrayLike<number>): { relErr: number; cosine: number; normRatio: number } {
  let gg = 0, rr = 0;
  for (let i = 0; i < ref.length; i++) {
    gg += g[i]! ** 2;
    rr += ref[i]! ** 2;
  }
  return { relErr: relativeError(g, ref), cosine: cosine(g, ref), normRatio: Math.sqrt(gg) / Math.max(Math.sqrt(rr), 1e-300) };
}

export const pick = (v: Float64Array, idx: number[]): number[] => idx.map((i) => v[i]!);

export function gradcheck(options: GradcheckOptions = {}): GradcheckRow[] {
  const { seeds = 1, seed = 0 } = options;
  const runs = Array.from({ length: seeds }, (_, k) => gradcheckOnce({ ...options, seed: seed + 10 * k }));
  if (seeds === 1) return runs[0]!;
  // the same rows in the same order for every seed: merge them
  return runs[0]!.map((row, r) => ({
    ...row,
    relErr: Math.max(...runs.map((run) => run[r]!.relErr)),
    cosine: runs.reduce((a, run) => a + run[r]!.cosine, 0) / seeds,
    normRatio: runs.reduce((a, run) => a + run[r]!.normRatio, 0) / seeds,
  }));
}

function gradcheckOnce(options: GradcheckOptions): GradcheckRow[] {
  const { layers = 2, hidden = 4, T = 6, B = 2, seed = 0 } = options;
  const models = options.models ?? ['rnn', 'gru', 'lstm', 'leaky', 'leaky:norec', 'lru'];
  for (const name of options.learners ?? []) {
    if (!learnerTable.some((l) => l.name === name)) throw new UnknownNameError('learner', name, learnerTable.map((l) => l.name));
  }
  const rows: GradcheckRow[] = [];
  for (const model of models) {
    const [unit, variant] = model.split(':') as [string, string | undefined];
    const config: ModelConfig = {
      model: unit, inputSize: 3, hidden, layers, outputSize: 4, loss: { kind: 'ce', classes: 2 },
      ...(variant === 'norec' ? { recurrent: false } : {}), ...(unit === 'lru' ? { stateSize: 3, rMin: 0.4, rMax: 0.95 } : {}),
    };
    const net = new Network(config, new TsBackend('float64'), seed + 1);
    const seq = randomSequence(net, T, B, seed + 2);
    const bptt = learnerGradient('bptt', net, seq, B);
    const fd = finiteDifferenceGradient(net, seq, B);
    for (const g of parameterGroups(net)) {
      rows.push({ model, learner: 'bptt vs finite differences', layer: g.layer, param: 'all', ...compare(pick(bptt, g.index), pick(fd, g.index)), exact: true });
    }
    for (const info of learnerTable) {
      if (info.name === 'bptt') continue;
      const requested = options.learners?.includes(info.name) ?? false;
      if (options.learners && !requested) continue;
      if (!info.models.includes(unit)) {
        // asked for by name: say it was refused (the default list simply holds the pairs that exist)
        if (requested) rows.push({ model, learner: info.name, layer: 'all', param: 'all', relErr: NaN, cosine: NaN, normRatio: NaN, exact: info.exact, refused: `${info.name} does not support ${unit}; it supports ${info.models.join(', ')}` });
        continue;
      }
      // tbptt is shown with a window shorter than the sequence, where it is biased
      const g = learnerGradient(info.name, net, seq, B, { options: { window: Math.max(1, Math.floor(T / 2)) } });
      for (const grp of parameterGroups(net)) {
        rows.push({ model, learner: info.name, layer: grp.layer, param: 'all', ...compare(pick(g, grp.index), pick(bptt, grp.index)), exact: info.exact });
      }
    }
  }
  return rows;
}
