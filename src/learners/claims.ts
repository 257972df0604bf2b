/**
 * Exactness claims as data: where a learner's gradient equals BPTT's, stated on the learner's row of the
 * table so that one oracle (check/oracle.ts: checkClaim) can test every claim of every row and
 * `onward gradcheck` can judge each learner by what it promises instead of by its name.
 *
 * A claim names the parameters it covers and the models it holds on:
 *   params  'all'      every parameter
 *           'top'      the top recurrent module and every module above it (the readout included)
 *           'readout'  the modules above the top recurrent module
 *   when    conditions on the model: unit models, number of layers, recurrent synapses on or off, units per layer,
 *           synapse masks (`density`) present or not
 *   options learner options the claim needs (tbptt: a window at least as long as the sequence)
 * and is checked against BPTT (or, for BPTT itself, against central finite differences) with a relative
 * error bound; tolerance 0 means bit for bit. Weights held at zero by a mask are excluded: an update never
 * applies their gradient.
 */
import type { ModelConfig, Network } from '../model/network.js';
import type { LearnerOptions } from './learner.js';

export type ParamScope = 'all' | 'top' | 'readout';

export interface ModelCondition {
  /** unit models the claim holds on (default: every model of the row) */
  models?: readonly string[];
  /** exactly this many layers (default: any) */
  layers?: number;
  /** recurrent synapses on (true) or off (false); default: either. LRU layers have none: they count as off */
  recurrent?: boolean;
  /** exactly this many units per layer (default: any) */
  hidden?: number;
  /** synapse masks from the model's `density` present (true) or absent (false); default: either */
  sparse?: boolean;
}

export interface ExactnessClaim {
  params: ParamScope;
  when: ModelCondition;
  /** the reference: BPTT (default), another learner of the table, or central finite differences (BPTT's own claim) */
  against?: string;
  options?: Partial<LearnerOptions>;
  /** relative-error bound in float64 (0: bit for bit) */
  tolerance: number;
  /** why the math makes it exact, in one sentence */
  reason: string;
}

/** a model has recurrent synapses unless its config turns them off; LRU layers (diagonal) never have them */
export function hasRecurrentSynapses(config: Pick<ModelConfig, 'model' | 'recurrent'>): boolean {
  return config.model !== 'lru' && config.recurrent !== false;
}

/** does the claim's condition hold for this model (given the row's models)? */
export function claimApplies(
  claim: ExactnessClaim,
  rowModels: readonly string[],
  config: Pick<ModelConfig, 'model' | 'layers' | 'hidden' | 'recurrent' | 'density'>,
): boolean {
  const w = claim.when;
  if (!(w.models ?? rowModels).includes(config.model) || !rowModels.includes(config.model)) return false;
  if (w.layers !== undefined && config.layers !== w.layers) return false;
  if (w.hidden !== undefined && config.hidden !== w.hidden) return false;
  if (w.recurrent !== undefined && hasRecurrentSynapses(config) !== w.recurrent) return false;
  if (w.sparse !== undefined && (config.density !== undefined) !== w.sparse) return false;
  return true;
}

/** the flat parameter indices a scope covers, masked weights (held at zero) excluded */
export function scopeIndices(net: Network, scope: ParamScope): number[] {
  const mods = net.modules;
  let lastRec = -1;
  mods.forEach((m, i) => {
    if (m.recurrent) lastRec = i;
  });
  const first = scope === 'all' ? 0 : scope === 'top' ? Math.max(lastRec, 0) : lastRec + 1;
  const begin = net.rowsBefore[first] ?? net.size;
  return appliedIndices(net).filter((k) => k >= begin);
}

/** the indices of the parameters an update changes: every parameter but the weights a mask holds at zero */
export function appliedIndices(net: Network): number[] {
  const held = new Uint8Array(net.size);
  for (const [name, mask] of net.masks) {
    const e = net.params.entry(name),
      m = mask.data;
    for (let i = 0; i < e.size; i++) if (m[i] === 0) held[e.offset + i] = 1;
  }
  const out: number[] = [];
  for (let k = 0; k < net.size; k++) if (!held[k]) out.push(k);
  return out;
}

/** a short human label: 'top layer and above, 1 layer, recurrent off' */
export function describeClaim(claim: ExactnessClaim): string {
  const p = { all: 'all parameters', top: 'top layer and above', readout: 'readout' }[claim.params];
  const w = claim.when,
    parts: string[] = [p];
  if (w.models) parts.push(w.models.join('/'));
  if (w.layers !== undefined) parts.push(`${w.layers} layer${w.layers === 1 ? '' : 's'}`);
  if (w.hidden !== undefined) parts.push(`${w.hidden} unit${w.hidden === 1 ? '' : 's'}`);
  if (w.recurrent !== undefined) parts.push(`recurrent ${w.recurrent ? 'on' : 'off'}`);
  if (w.sparse !== undefined) parts.push(w.sparse ? 'sparse synapses' : 'dense synapses');
  if (claim.options)
    parts.push(
      Object.entries(claim.options)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' '),
    );
  if (claim.against && claim.against !== 'bptt')
    parts.push(
      `vs ${claim.against === 'finite-differences' ? 'finite differences' : claim.against}${claim.tolerance === 0 ? ' bit for bit' : ''}`,
    );
  return parts.join(', ');
}
