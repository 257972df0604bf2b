/**
 * `onward gradcheck`: every learner against BPTT, and BPTT against central finite differences, on small
 * float64 networks of every unit model — per layer and overall, as relative error, cosine and relative norm
 * ‖g‖/‖g_bptt‖ (the gradient alignment of approximate learners). A model name with the suffix ':norec'
 * (e.g. 'leaky:norec') builds it without recurrent synapses.
 */
import { TsBackend } from '../backend/ts.js';
import { learnerTable, type LearnerInfo } from '../learners/index.js';
import { appliedIndices, claimApplies, describeClaim, scopeIndices } from '../learners/claims.js';
import { Network, type ModelConfig } from '../model/network.js';
import { alignment as alignmentOf, parameterGroups } from './alignment.js';
import { checkClaim, finiteDifferenceGradient, learnerGradient, randomSequence } from './oracle.js';

/** one learner's alignment with BPTT on one parameter group (informational: the claims are judged elsewhere) */
export interface GradcheckRow {
  model: string;
  learner: string;
  layer: string;
  param: string;
  relErr: number;
  cosine: number;
  /** ‖g‖ / ‖g_reference‖ */
  normRatio: number;
  /** an exactness claim of the row covers every parameter of this group on this model */
  exact: boolean;
  /** a learner × model pair asked for by name that the learner does not support: listed with the reason, never dropped */
  refused?: string;
  /**
   * why relErr, cosine and the norm ratio are no measurement here: the reference is exactly zero on the group
   * (a spiking unit's step has zero derivative almost everywhere, so finite differences see nothing where
   * BPTT's surrogate sees a gradient); relErr, cosine and normRatio are then NaN
   */
  notMeasured?: string;
}

/** one comparison of one exactness claim of one learner row on one unit model */
export interface ClaimResult {
  learner: string;
  model: string;
  /** the claim in words: 'top layer and above, recurrent off' */
  claim: string;
  span: string;
  relErr: number;
  tolerance: number;
  pass: boolean;
}

export interface GradcheckReport {
  /** every claim of every (selected) row, on every (selected) model it states */
  checks: ClaimResult[];
  /** every learner against BPTT per layer: relative error, cosine, norm ratio */
  alignment: GradcheckRow[];
}

export interface GradcheckOptions {
  models?: string[];
  learners?: string[];
  /** called as each model's checks start (index counts models over all seeds), for a progress line */
  onModel?: (model: string, index: number, total: number) => void;
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
  /** the learner rows to check (default: the learner table) — tests hand in deliberately wrong rows */
  table?: readonly LearnerInfo[];
}

// the groups and the comparison are the one alignment measure's (check/alignment.ts), shared with the trainer and bench
export { compare, parameterGroups, pick } from './alignment.js';

export function gradcheck(options: GradcheckOptions = {}): GradcheckReport {
  return { checks: claimChecks(options), alignment: alignment(options) };
}

/** the unit models to look at: --models without ':norec' variants, or every model of the row */
function unitsOf(options: GradcheckOptions): Set<string> | null {
  return options.models ? new Set(options.models.map((m) => m.split(':')[0]!)) : null;
}

/** every claim of every selected row on every selected model it holds on, over `seeds` random networks */
export function claimChecks(options: GradcheckOptions = {}): ClaimResult[] {
  const { seeds = 1, seed = 0, T = 6, B = 2, layers = 2, hidden = 4 } = options;
  const table = options.table ?? learnerTable,
    units = unitsOf(options);
  const out: ClaimResult[] = [];
  for (const info of table) {
    if (options.learners && !options.learners.includes(info.name)) continue;
    for (const claim of info.claims) {
      for (const model of claim.when.models ?? info.models) {
        if (!info.models.includes(model) || (units && !units.has(model))) continue;
        const runs = Array.from({ length: seeds }, (_, k) => checkClaim(info, claim, model, { T, B, layers, hidden, seed: seed + 10 * k }));
        runs[0]!.forEach((c, i) => {
          const worst = runs.reduce((w, run) => (run[i]!.relErr > w.relErr || !run[i]!.pass ? run[i]! : w), c);
          out.push({
            learner: info.name,
            model,
            claim: describeClaim(claim),
            span: c.span,
            relErr: worst.relErr,
            tolerance: c.tolerance,
            pass: runs.every((run) => run[i]!.pass),
          });
        });
      }
    }
  }
  return out;
}

/** every learner against BPTT (and BPTT against finite differences) per parameter group, masked weights excluded */
export function alignment(options: GradcheckOptions = {}): GradcheckRow[] {
  const { seeds = 1, seed = 0 } = options;
  const runs = Array.from({ length: seeds }, (_, k) => alignmentOnce({ ...options, seed: seed + 10 * k }));
  if (seeds === 1) return runs[0]!;
  // the same rows in the same order for every seed: merge them
  return runs[0]!.map((row, r) => {
    // a group no run can measure on one seed is shown as not measured (its numbers are NaN there)
    const notMeasured = runs.map((run) => run[r]!.notMeasured).find((note) => note !== undefined);
    return {
      ...row,
      relErr: Math.max(...runs.map((run) => run[r]!.relErr)),
      cosine: runs.reduce((a, run) => a + run[r]!.cosine, 0) / seeds,
      normRatio: runs.reduce((a, run) => a + run[r]!.normRatio, 0) / seeds,
      ...(notMeasured ? { notMeasured } : {}),
    };
  });
}

/** the models whose BPTT gradient is the true derivative: those of bptt's finite-difference claim */
function smoothModels(): readonly string[] {
  const bptt = learnerTable.find((l) => l.name === 'bptt');
  return bptt?.claims.find((c) => c.against === 'finite-differences')?.when.models ?? [];
}

/**
 * Why the finite-difference comparison measures nothing on a group, or null: the differences are exactly zero
 * there (a step function's derivative under a surrogate), or on 'all' when some layer's are
 */
function finiteDifferenceNote(unit: string, layer: string, fdZero: ReadonlySet<string>): string | null {
  const why = smoothModels().includes(unit) ? 'FD is zero' : 'surrogate: FD is zero';
  if (fdZero.has(layer)) return `n/a (${why})`;
  if (layer === 'all' && fdZero.size > 0) return `n/a (${why} on ${[...fdZero].join(', ')})`;
  return null;
}

function alignmentOnce(options: GradcheckOptions): GradcheckRow[] {
  const { layers = 2, hidden = 4, T = 6, B = 2, seed = 0 } = options;
  const table = options.table ?? learnerTable;
  const models = options.models ?? ['rnn', 'gru', 'lstm', 'leaky', 'leaky:norec', 'lru'];
  const rows: GradcheckRow[] = [];
  for (const [index, model] of models.entries()) {
    options.onModel?.(model, index, models.length);
    const [unit, variant] = model.split(':') as [string, string | undefined];
    const config: ModelConfig = {
      model: unit,
      inputSize: 3,
      hidden,
      layers,
      outputSize: 4,
      loss: { kind: 'ce', classes: 2 },
      ...(variant === 'norec' ? { recurrent: false } : {}),
      ...(unit === 'lru' ? { stateSize: 3, rMin: 0.4, rMax: 0.95 } : {}),
    };
    const net = new Network(config, new TsBackend('float64'), seed + 1);
    const seq = randomSequence(net, T, B, seed + 2);
    const applied = new Set(appliedIndices(net));
    const groups = parameterGroups(net).map((g) => ({ ...g, index: g.index.filter((k) => applied.has(k)) }));
    const bptt = learnerGradient('bptt', net, seq, B);
    const fd = finiteDifferenceGradient(net, seq, B);
    // masked weights (recurrent: false) are zero in both gradients as an update applies them: the same numbers as
    // comparing the applied entries only (`groups`, which decide the exactness flags)
    const fdAlignment = alignmentOf(net, bptt, fd);
    const fdZero = new Set(groups.filter((g) => g.layer !== 'all' && g.index.every((k) => fd[k] === 0)).map((g) => g.layer));
    for (const g of groups) {
      const row: GradcheckRow = {
        model,
        learner: 'bptt vs finite differences',
        layer: g.layer,
        param: 'all',
        ...fdAlignment[g.layer]!,
        exact: false,
      };
      const note = finiteDifferenceNote(unit, g.layer, fdZero);
      rows.push(note ? { ...row, relErr: NaN, cosine: NaN, normRatio: NaN, notMeasured: note } : row);
    }
    for (const info of table) {
      if (info.name === 'bptt') continue;
      if (options.learners && !options.learners.includes(info.name)) continue;
      if (!info.models.includes(unit)) {
        // asked for by name: say it was refused (without --learners the list simply holds the pairs that exist)
        if (options.learners)
          rows.push({
            model,
            learner: info.name,
            layer: 'all',
            param: 'all',
            relErr: NaN,
            cosine: NaN,
            normRatio: NaN,
            exact: false,
            refused: `${info.name} does not support ${unit}; it supports ${info.models.join(', ')}`,
          });
        continue;
      }
      // the parameters some claim of the row covers on this model
      const claimed = new Set(
        info.claims
          .filter((c) => !c.options && (c.against ?? 'bptt') === 'bptt' && claimApplies(c, info.models, config))
          .flatMap((c) => scopeIndices(net, c.params)),
      );
      // tbptt is shown with a window shorter than the sequence, where it is biased
      const gr = learnerGradient(info, net, seq, B, { options: { window: Math.max(1, Math.floor(T / 2)) } });
      const a = alignmentOf(net, gr, bptt);
      for (const grp of groups) {
        rows.push({
          model,
          learner: info.name,
          layer: grp.layer,
          param: 'all',
          ...a[grp.layer]!,
          exact: grp.index.length > 0 && grp.index.every((k) => claimed.has(k)),
        });
      }
    }
  }
  return rows;
}
