/**
 * Building a learner from its row's recipe: a trace rule × a signal rule (rules.ts), run by the step loop of
 * composed.ts. Pairings: layer-local traces (diag, snap1, the LRU baselines, the uoro and kf-rtrl estimators)
 * take a signal per layer (backprop at t, random feedback, target projection); traces carried to the output
 * (full, snap2, deep) take the output error.
 */
import { UnsupportedError } from '../core/errors.js';
import type { Network } from '../model/network.js';
import { ComposedLearner } from './composed.js';
import type { LearnerOptions } from './learner.js';
import type { SignalRule, TraceRule } from './rules.js';
import { BackpropAtT } from './signals/backprop-at-t.js';
import { OutputError } from './signals/output.js';
import { RandomFeedbackSignal } from './signals/random-feedback.js';
import { TargetProjectionSignal } from './signals/target-projection.js';
import { createDeepTraces } from './traces/deep-rule.js';
import { FullInfluence } from './traces/full.js';
import { KfRtrlLayer } from './traces/kf-rtrl.js';
import { Snap2Pattern } from './traces/snap2.js';
import { EstimatorLayerRule } from './traces/state-tangent.js';
import { UoroLayer } from './traces/uoro.js';
import { SparseInfluence } from './sparse-rtrl.js';
import { LayerTraceRule, type LayerTraceKind } from './traces/layers.js';

export type TraceKind = 'full' | 'sparse' | 'deep' | 'snap2' | 'uoro' | 'kf-rtrl' | LayerTraceKind;
export type SignalKind = 'backprop' | 'random-feedback' | 'target-projection' | 'output';

export interface Recipe {
  trace: TraceKind;
  signal: SignalKind;
  /** the row reads the `kappa` option: e-prop's low-pass filter on its diag traces (traces/kappa.ts) */
  kappa?: boolean;
}

/** pp-prop's default smoothing α of its factors (learners/options.ts has the same default) */
export const PP_PROP_DECAY = 0.5;

/** the seeds of the fixed random matrices, offset from the learner's seed (kept: checkpoints and results depend on them) */
const FEEDBACK_SEED = 0x5eed,
  PROJECTION_SEED = 0x7a26e7,
  ESTIMATOR_SEED = 0x0e0;

/**
 * The trace rule of a kind. `seed`: the learner's seed, for the rules that draw random numbers (uoro, kf-rtrl:
 * their own stream); options: `kappa`, e-prop's κ filter on the layer-local 'diag' rule (0: none), and
 * `traceDecay`, pp-prop's smoothing α
 */
export function createTrace(
  kind: TraceKind,
  network: Network,
  B: number,
  seed = 0,
  options: { kappa?: number; traceDecay?: number } = {},
): TraceRule {
  const be = network.backend;
  if (options.kappa && kind !== 'diag') throw new UnsupportedError(`the κ filter (kappa) runs on the 'diag' trace rule, not on '${kind}'`);
  if (kind === 'full') return new FullInfluence(network, B);
  if (kind === 'snap2') return new FullInfluence(network, B, new Snap2Pattern(network));
  if (kind === 'uoro') return new EstimatorLayerRule(network, kind, ESTIMATOR_SEED + seed, (l) => new UoroLayer(l, B));
  if (kind === 'kf-rtrl') return new EstimatorLayerRule(network, kind, ESTIMATOR_SEED + seed, (l) => new KfRtrlLayer(l, B));
  // unit-model stacks: column blocks (sparse-rtrl.ts); LRU stacks: the full engine storing the diagonal own rows
  if (kind === 'sparse')
    return network.config.model === 'lru' ? new FullInfluence(network, B, null, 'sparse') : new SparseInfluence(network, B);
  if (kind === 'deep') return createDeepTraces(network, be, B);
  return new LayerTraceRule(network, be, B, kind, { kappa: options.kappa ?? 0, traceDecay: options.traceDecay ?? PP_PROP_DECAY });
}

export function createSignal(kind: SignalKind, network: Network, options: LearnerOptions): SignalRule {
  const B = options.batchSize,
    seed = options.seed ?? 0;
  switch (kind) {
    case 'backprop':
      return new BackpropAtT(network, B);
    case 'random-feedback':
      return new RandomFeedbackSignal(network, B, FEEDBACK_SEED + seed);
    case 'target-projection':
      return new TargetProjectionSignal(
        network,
        B,
        PROJECTION_SEED + seed,
        options.projection !== 'raw',
        options.targetTiming === 'every-step',
      );
    case 'output':
      return new OutputError();
  }
}

/** build the learner of a recipe, refusing models and pairings the rules cannot run on */
export function compose(name: string, network: Network, options: LearnerOptions, recipe: Recipe): ComposedLearner {
  if (network.config.decorrelate && recipe.signal !== 'target-projection') {
    throw new UnsupportedError(`${name} does not support decorrelated models (decorrelate: true); use bptt or a perturbation learner`);
  }
  const trace = createTrace(recipe.trace, network, options.batchSize, options.seed ?? 0, {
    kappa: recipe.kappa ? (options.kappa ?? 0) : 0,
    traceDecay: options.traceDecay ?? PP_PROP_DECAY,
  });
  const wantsOutput = trace.takes === 'output';
  if (wantsOutput !== (recipe.signal === 'output')) {
    throw new UnsupportedError(
      `${name}: the '${recipe.trace}' trace rule takes ${wantsOutput ? 'the output error' : 'a signal per layer'}, not the '${recipe.signal}' signal`,
    );
  }
  return new ComposedLearner(network, options, name, trace, createSignal(recipe.signal, network, options));
}
