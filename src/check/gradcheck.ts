/**
 * `onward gradcheck`: every learner against BPTT, and BPTT against central finite differences, on small
 * float64 networks of every unit model — per layer and overall, as relative error, cosine and relative norm
 * ‖g‖/‖g_bptt‖ (the gradient alignment of approximate learners). A model name with the suffix ':norec'
 * (e.g. 'leaky:norec') builds it without recurrent synapses.
 */
import { TsBackend } from '../backend/ts.js';
import { learnerTable } from '../learners/index.js';
import { Network, type ModelConfig } from '../model/network.js';
import { alignment } from './alignment.js';
import { finiteDifferenceGradient, learnerGradient, randomSequence } from './oracle.js';

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
    for (const [layer, a] of Object.entries(alignment(net, bptt, fd))) rows.push({ model, learner: 'bptt vs finite differences', layer, param: 'all', ...a, exact: true });
    for (const info of learnerTable) {
      if (info.name === 'bptt' || !info.models.includes(unit)) continue;
      if (options.learners && !options.learners.includes(info.name)) continue;
      // tbptt is shown with a window shorter than the sequence, where it is biased
      const g = learnerGradient(info.name, net, seq, B, { options: { window: Math.max(1, Math.floor(T / 2)) } });
      for (const [layer, a] of Object.entries(alignment(net, g, bptt))) rows.push({ model, learner: info.name, layer, param: 'all', ...a, exact: info.exact });
    }
  }
  return rows;
}
