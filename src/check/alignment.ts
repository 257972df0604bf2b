/**
 * The one alignment measure: a learner's gradient against a reference gradient (BPTT's, or finite
 * differences), per parameter group — 'layers.0', …, 'readout', and 'all' — as cosine, relative norm
 * ‖g‖/‖g_ref‖ and relative error. Both gradients are taken as an update applies them: masked weights
 * (pruned, sparse, recurrent: false) get no gradient, so they count in neither. The trainer (alignEvery),
 * the bench suite and gradcheck all measure with this function.
 */
import type { Learner } from '../learners/learner.js';
import type { Network } from '../model/network.js';
import { cosine, relativeError, type Sequence } from './oracle.js';

export interface GroupAlignment {
  cosine: number;
  /** ‖g‖ / ‖g_reference‖ */
  normRatio: number;
  relErr: number;
}

/** per parameter group, the learner's gradient against the reference */
export type Alignment = Record<string, GroupAlignment>;

/** parameter groups by layer: 'layers.0', 'layers.1', …, 'readout', and 'all' (indices into the flat store) */
export function parameterGroups(net: Network): { layer: string; index: number[] }[] {
  const out = new Map<string, number[]>();
  for (const name of net.params.names()) {
    const layer = name
      .split('.')
      .slice(0, name.startsWith('layers.') ? 2 : 1)
      .join('.');
    const e = net.params.entry(name);
    const list = out.get(layer) ?? [];
    for (let i = 0; i < e.size; i++) list.push(e.offset + i);
    out.set(layer, list);
  }
  return [
    ...[...out.entries()].map(([layer, index]) => ({ layer, index })),
    { layer: 'all', index: Array.from({ length: net.size }, (_, i) => i) },
  ];
}

/** relative error, cosine and norm ratio of a gradient against a reference */
export function compare(g: ArrayLike<number>, ref: ArrayLike<number>): GroupAlignment {
  let gg = 0,
    rr = 0;
  for (let i = 0; i < ref.length; i++) {
    gg += g[i]! ** 2;
    rr += ref[i]! ** 2;
  }
  return { relErr: relativeError(g, ref), cosine: cosine(g, ref), normRatio: Math.sqrt(gg) / Math.max(Math.sqrt(rr), 1e-300) };
}

export const pick = (v: ArrayLike<number>, idx: number[]): number[] => idx.map((i) => v[i]!);

/** a gradient as an update applies it: the network's masks zero what they mask (uses network.grads, left zero) */
export function maskedGradient(network: Network, g: ArrayLike<number>): Float64Array {
  network.grads.flat.data.set(g);
  network.applyMasks();
  const out = Float64Array.from(network.grads.flat.data);
  network.zeroGrads();
  return out;
}

/** the alignment of `g` with `reference`, masks applied to both, per parameter group */
export function alignment(network: Network, g: ArrayLike<number>, reference: ArrayLike<number>): Alignment {
  const a = maskedGradient(network, g),
    r = maskedGradient(network, reference);
  const out: Alignment = {};
  for (const grp of parameterGroups(network)) out[grp.layer] = compare(pick(a, grp.index), pick(r, grp.index));
  return out;
}

/** the gradient a learner accumulates over a whole sequence from a fresh start (uses network.grads, left zero) */
export function sequenceGradient(learner: Learner, seq: Sequence): Float64Array {
  const net = learner.network;
  net.zeroGrads();
  learner.startSequence();
  for (let t = 0; t < seq.x.length; t++) learner.step(seq.x[t]!, seq.target[t]!, seq.mask[t]!);
  learner.flush();
  const g = Float64Array.from(net.grads.flat.data);
  net.zeroGrads();
  return g;
}
