/**
 * The table of learners: names as on the command line, how each is built (a trace × signal recipe where it
 * is one), the models it runs on and why it refuses the others, where it is exact (claims, checked by
 * check/oracle.ts), its options with defaults, and the rows that are aliases of others. `onward list`, the
 * bench plan, the playground's pickers and the tests read it.
 */
import { ConfigError, MemoryLimitError, UnknownNameError, UnsupportedError } from '../core/errors.js';
import type { LearnerName, NameOr } from '../core/names.js';
import { createBackend } from '../backend/index.js';
import { Network } from '../model/network.js';
import { BpttLearner, createTbptt } from './bptt.js';
import type { Learner, LearnerInfo, LearnerOptionInfo, LearnerOptions } from './learner.js';
import type { ExactnessClaim } from './claims.js';
import type { Recipe } from './compose.js';
import { createDeepEprop, deepEpropRecipe } from './deep-eprop.js';
import { compose } from './compose.js';
import { epropKappaRecipe, epropRandomRecipe, epropRecipe, snap1Recipe } from './eprop.js';
import { createAnp } from './anp.js';
import { createNp } from './np.js';
import { lruRow, spatialRecipe, truncated1Recipe } from './online-lru.js';
import { createOstl } from './ostl.js';
import { OsttpLearner, osttpRecipe } from './osttp.js';
import { RtrlLearner, rtrlRecipe } from './rtrl.js';
import { createRflo, rfloRecipe } from './rflo.js';
import { ppPropRecipe } from './pp-prop.js';
import { createThreeFactor, threeFactorRecipe } from './three-factor.js';
import { createDni } from './dni.js';
import { SparseRtrlLearner } from './sparse-rtrl.js';
import { createTanp } from './tanp.js';
import { createWp } from './wp.js';
import { learnerOptionInfo } from './options.js';

export type { Learner, LearnerInfo, LearnerOptionInfo, LearnerOptions, LearnerState } from './learner.js';
export type { ExactnessClaim, ModelCondition, ParamScope } from './claims.js';
export type { Recipe, SignalKind, TraceKind } from './compose.js';
export { hasModulator, type ModulatedLearner } from './three-factor.js';

const spiking = ['snu', 'lif', 'snu-sigmoid', 'lif-sigmoid', 'alif', 'alif-sigmoid'] as const;
const minimal = ['mgu', 'mingru', 'minlstm'] as const;
/** gated units of the wider literature (issue 22) */
const refined = ['ur-lstm'] as const;
const gated = ['rnn', 'gru', 'lstm', 'egru', 'leaky', ...spiking, ...minimal, ...refined, 'lru'] as const;
const units = ['rnn', 'gru', 'lstm', 'egru', 'leaky', ...spiking, ...minimal, ...refined] as const;
/** rate units whose own dynamics is a fixed leak (rnn: the leak-free case τ = 1) — RFLO's models */
const rateUnits: readonly string[] = ['rnn', 'leaky'];

/** float64 relative error within which an exact rule must meet BPTT (rounding of a different summation order) */
const EXACT = 1e-9;

/** BPTT checked against central finite differences: the models whose derivative is the true one (no surrogate) */
const smooth = ['rnn', 'gru', 'lstm', 'leaky', 'snu-sigmoid', 'lif-sigmoid', 'alif-sigmoid', ...minimal, ...refined, 'lru'] as const;

const readoutExact: ExactnessClaim = {
  params: 'readout',
  when: {},
  tolerance: EXACT,
  reason: 'the readout above the top recurrent layer has no path through time: its VJP at each step is its whole gradient',
};
/** e-prop's per-layer traces (diag, snap1) × the signal backpropagated at time t */
const layerLocalExact: ExactnessClaim[] = [
  {
    params: 'all',
    when: { layers: 1, recurrent: false, models: units },
    tolerance: EXACT,
    reason: "without recurrent synapses the state Jacobian is each unit's own ∂f/∂s: the traces are the layer's RTRL sensitivities",
  },
  {
    params: 'top',
    when: { recurrent: false },
    tolerance: EXACT,
    reason: "the top layer's traces are exact without recurrent synapses and its signal has no path through time above it",
  },
  readoutExact,
];

/** perturbation learners need every module with parameters to expose its preactivations: every model does */
const perturbable = gated;

const seedOption: LearnerOptionInfo = {
  name: 'seed',
  default: 0,
  description: "the learner's own generator (dropout masks, perturbations, fixed random matrices)",
};
const windowOption = learnerOptionInfo('window', true);
const perturbationOptions: LearnerOptionInfo[] = [seedOption, learnerOptionInfo('noise'), learnerOptionInfo('decorrelationRate')];
const osttpOptions: LearnerOptionInfo[] = [seedOption, learnerOptionInfo('projection'), learnerOptionInfo('targetTiming')];

const kappaOption = learnerOptionInfo('kappa');
/** the κ filter at 0 builds no filter: the row is e-prop, bit for bit */
const kappaZero = (against: string): ExactnessClaim => ({
  params: 'all',
  when: {},
  against,
  options: { kappa: 0 },
  tolerance: 0,
  reason: 'with κ = 0 the filter ē = κ·ē + e is the identity and none is built: the same products in the same order',
});

/** the reason a row refuses each of the given models */
const refuse = (reason: string, models: readonly string[]): Record<string, string> => Object.fromEntries(models.map((m) => [m, reason]));
const lruTraceRow = (why: string) => refuse(why, units);
/** snap2 = the full influence with a sparsity pattern; uoro and kf-rtrl = random estimators per layer × backprop at t */
const snap2Recipe: Recipe = { trace: 'snap2', signal: 'output' };
const uoroRecipe: Recipe = { trace: 'uoro', signal: 'backprop' };
const kfRtrlRecipe: Recipe = { trace: 'kf-rtrl', signal: 'backprop' };
const estimatorSeedOption: LearnerOptionInfo = {
  ...seedOption,
  description: "the learner's own generator (the random signs of its estimates)",
};
const estimatorRefusals = {
  lru: "an LRU layer's recurrence λ is diagonal, so its exact influence is elementwise: O(P) numbers per sample, the size of the estimator's own state (θ̃ or its Kronecker factors) — an unbiased estimate would add variance and save nothing; the exact per-layer rule is online-lru (sparse-rtrl for every layer's influence on the output)",
};

export const learnerTable: readonly LearnerInfo[] = [
  {
    name: 'bptt',
    description: 'backpropagation through time over the whole sequence (the reference)',
    exact: true,
    claims: [
      {
        params: 'all',
        when: { models: smooth },
        against: 'finite-differences',
        tolerance: 1e-6,
        reason:
          'the chain rule run backward over every stored step; checked against central differences where the derivative is the true one (no surrogate)',
      },
    ],
    reverse: true,
    models: gated,
    create: (net, o) => new BpttLearner(net, o),
    options: [seedOption],
  },
  {
    name: 'tbptt',
    description: 'truncated BPTT: a backward sweep every k steps (--set window=k), no credit across windows',
    exact: false,
    claims: [
      {
        params: 'all',
        when: {},
        options: { window: 1_000_000 },
        tolerance: 0,
        reason: 'a window at least as long as the sequence is one backward sweep: bptt, bit for bit',
      },
    ],
    reverse: true,
    models: gated,
    create: createTbptt,
    options: [seedOption, windowOption],
  },
  {
    name: 'bptt-detached',
    description: 'BPTT with the state detached every step (tbptt with window 1): the "BP" baseline of the perturbation paper\'s code',
    exact: false,
    claims: [readoutExact],
    reverse: true,
    instantaneous: true,
    models: gated,
    create: (net, o) => new BpttLearner(net, o, 'bptt-detached', 1),
    options: [seedOption],
  },
  {
    name: 'rtrl',
    description: 'real-time recurrent learning: exact, full influence matrices carried forward, O(n⁴) per step',
    exact: true,
    claims: [
      {
        params: 'all',
        when: {},
        tolerance: EXACT,
        reason: 'forward-mode differentiation of the whole network: the influence of every parameter carried forward exactly',
      },
    ],
    models: gated,
    create: (net, o) => new RtrlLearner(net, o),
    recipe: rtrlRecipe,
    options: [seedOption],
  },
  {
    name: 'deep-rtrl',
    description: 'rtrl on a stack: influence carried across layers (the same rule as rtrl, named as in the papers)',
    exact: true,
    claims: [{ params: 'all', when: {}, tolerance: EXACT, reason: 'the full influence carried across layers (rtrl)' }],
    models: gated,
    create: (net, o) => new RtrlLearner(net, o, 'deep-rtrl'),
    recipe: rtrlRecipe,
    aliasOf: 'rtrl',
    options: [seedOption],
  },
  {
    name: 'sparse-rtrl',
    description:
      "rtrl that skips exact zeros: silent units (EGRU), masked weights, influence still zero, the LRU's diagonal own influence; the same gradient as rtrl",
    exact: true,
    claims: [
      {
        params: 'all',
        when: {},
        against: 'rtrl',
        tolerance: 0,
        reason: 'rtrl with exact zeros skipped: the same products in the same order',
      },
      { params: 'all', when: {}, tolerance: EXACT, reason: 'it is rtrl' },
    ],
    models: gated,
    // unit models: column blocks (silent units, masked synapses, columns still zero); the LRU: its own parameters'
    // influence is diagonal (λ is), so those rows keep one entry instead of N
    create: (net, o) =>
      net.config.model === 'lru' ? compose('sparse-rtrl', net, o, { trace: 'sparse', signal: 'output' }) : new SparseRtrlLearner(net, o),
    options: [seedOption],
    recipe: { trace: 'sparse', signal: 'output' },
  },
  {
    name: 'deep-eprop',
    description:
      "deep e-prop (Millidge 2025): traces carried up the stack through the inter-layer Jacobians, each unit's own ∂f/∂s within a layer, signal at the top",
    exact: false,
    claims: [
      {
        params: 'all',
        when: { recurrent: false },
        tolerance: EXACT,
        reason:
          'on diagonal layers (no recurrent synapses; LRU) the dropped path W_hh·dy_{t−1}/dθ is zero and the inter-layer Jacobians are carried exactly',
      },
    ],
    models: gated,
    create: createDeepEprop,
    recipe: deepEpropRecipe,
    options: [seedOption],
  },
  {
    name: 'online-lru',
    description: 'online LRU (Zucchet et al. 2023): exact elementwise traces in each LRU layer × the error backpropagated at time t only',
    exact: false,
    claims: [
      {
        params: 'top',
        when: {},
        tolerance: EXACT,
        reason: 'the LRU recurrence is elementwise, so its traces are exact; only credit through a later step of a higher layer is dropped',
      },
    ],
    models: ['lru'],
    create: lruRow('online-lru', epropRecipe),
    recipe: epropRecipe,
    refusals: lruTraceRow(
      "the online-LRU paper's name for diag traces × backprop at t on LRU stacks, exact there because the recurrence λ is diagonal; a unit model's recurrent synapses make its state Jacobian dense, where that recipe is an approximation: the row 'eprop'",
    ),
    options: [seedOption],
  },
  {
    name: 'spatial',
    description: 'online-lru without temporal credit: λ gets no gradient, B and γ their instantaneous one (paper baseline)',
    exact: false,
    claims: [readoutExact],
    models: ['lru'],
    create: lruRow('spatial', spatialRecipe),
    recipe: spatialRecipe,
    refusals: lruTraceRow(
      "a baseline defined on the LRU's parameters (λ gets no gradient, B and γ their instantaneous one); a unit model has no λ to freeze",
    ),
    options: [seedOption],
  },
  {
    name: 'truncated1',
    description: 'online-lru with one-step truncated traces (paper baseline)',
    exact: false,
    claims: [readoutExact],
    models: ['lru'],
    create: lruRow('truncated1', truncated1Recipe),
    recipe: truncated1Recipe,
    refusals: lruTraceRow(
      "a baseline defined on the LRU's traces (e^λ := h_{t−1}, e^γ := B x_t, e^B from x_t only); a unit model's traces have no such form",
    ),
    options: [seedOption],
  },
  {
    name: 'eprop',
    description:
      "e-prop (Bellec et al. 2020): per-synapse eligibility traces (each unit's own ∂f/∂s) × the error backpropagated at time t only",
    exact: false,
    claims: layerLocalExact,
    models: gated,
    create: (net, o) => compose('eprop', net, o, epropKappaRecipe),
    recipe: epropKappaRecipe,
    options: [seedOption, kappaOption],
  },
  {
    name: 'ostl',
    description:
      'OSTL (Bohnstingl et al. 2023): per-layer eligibility traces × the error backpropagated at time t only; exact per layer without recurrent synapses',
    exact: false,
    claims: [...layerLocalExact, kappaZero('eprop')],
    models: gated,
    create: createOstl,
    recipe: epropKappaRecipe,
    aliasOf: 'eprop',
    options: [seedOption, kappaOption],
  },
  {
    name: 'osttp',
    description:
      'OSTTP (Ortner et al. 2023): OSTL traces × fixed random projections of the target (DRTP) in hidden layers; no weight transport, no update locking',
    exact: false,
    claims: [
      {
        ...readoutExact,
        when: { models: units },
        reason: "the output layer learns from its own error at each step: BPTT's readout gradient",
      },
    ],
    models: gated,
    create: (net, o) => new OsttpLearner(net, o),
    recipe: osttpRecipe,
    options: osttpOptions,
  },
  {
    name: 'eprop-random',
    description: 'e-prop with random feedback: eligibility traces × the output error through fixed random matrices (no weight transport)',
    exact: false,
    claims: [readoutExact],
    models: gated,
    create: (net, o) => compose('eprop-random', net, o, epropRandomRecipe),
    recipe: epropRandomRecipe,
    options: [seedOption],
  },
  {
    name: 'snap1',
    description: 'SnAp-1 (Menick et al. 2021): traces through the diagonal of the full state Jacobian × the error backpropagated at time t',
    exact: false,
    claims: [
      ...layerLocalExact,
      {
        params: 'all',
        when: { layers: 1, hidden: 1, models: units },
        tolerance: EXACT,
        reason: 'for one unit the diagonal of the state Jacobian is the whole Jacobian',
      },
    ],
    models: gated,
    create: (net, o) => compose('snap1', net, o, snap1Recipe),
    recipe: snap1Recipe,
    options: [seedOption],
  },
  {
    name: 'snap2',
    description:
      'SnAp-2 (Menick et al. 2021): the full influence kept where a parameter reaches within two steps (its unit and the units reading it through a kept recurrent synapse); rtrl with dense recurrent weights',
    exact: false,
    claims: [
      {
        params: 'all',
        when: { sparse: false },
        against: 'rtrl',
        tolerance: 0,
        reason:
          'with dense recurrent weights every unit reaches every other in one step: the two-step pattern is full and nothing is dropped',
      },
      {
        params: 'all',
        when: { sparse: false },
        tolerance: EXACT,
        reason: 'with dense recurrent weights it is rtrl',
      },
      {
        params: 'all',
        when: { recurrent: false },
        tolerance: EXACT,
        reason:
          "without recurrent synapses a layer's own parameters move only the units they write into: the true influence lies inside the pattern",
      },
    ],
    models: gated,
    create: (net, o) => compose('snap2', net, o, snap2Recipe),
    recipe: snap2Recipe,
    options: [seedOption],
  },
  {
    name: 'uoro',
    description:
      "UORO (Tallec & Ollivier 2018): each layer's influence as a rank-one product s̃·θ̃ᵀ refreshed with random signs; unbiased, high variance; × the error backpropagated at t",
    exact: false,
    claims: [readoutExact],
    models: units,
    create: (net, o) => compose('uoro', net, o, uoroRecipe),
    recipe: uoroRecipe,
    refusals: estimatorRefusals,
    options: [estimatorSeedOption],
  },
  {
    name: 'kf-rtrl',
    description:
      "KF-RTRL (Mujika et al. 2018): each synapse block's influence as a Kronecker product u ⊗ A refreshed with random signs; unbiased; × the error backpropagated at t",
    exact: false,
    claims: [readoutExact],
    models: units,
    create: (net, o) => compose('kf-rtrl', net, o, kfRtrlRecipe),
    recipe: kfRtrlRecipe,
    refusals: estimatorRefusals,
    options: [estimatorSeedOption],
  },
  {
    name: 'wp',
    description: 'weight perturbation: a noisy forward pass with perturbed weights, gradient ≈ δL·noise/σ² (forward passes only)',
    exact: false,
    claims: [],
    instantaneous: true,
    models: perturbable.filter((m) => m !== 'leaky'),
    create: createWp,
    refusals: {
      leaky:
        "the estimate (δL/σ²)·E has a variance of about P·‖∇‖² per step, and the noisy pass carries its state: on the leaky unit (s_t = α·s_{t−1} + …, α = σ(leak) up to 0.95 at initialisation) δL_t also holds the weight noise of the last ~1/(1 − α) steps (up to 20), independent of this step's and so pure variance; measured: the loss does not fall in the contract's 300 Mackey-Glass updates",
    },
    options: perturbationOptions,
  },
  {
    name: 'np',
    description: 'node perturbation: noise on the preactivations, gradient ≈ δL·noise/σ² × clean inputs (forward passes only)',
    exact: false,
    claims: [],
    instantaneous: true,
    models: perturbable,
    create: createNp,
    options: perturbationOptions,
  },
  {
    name: 'anp',
    description: 'activity-based node perturbation per step: the measured preactivation change, normalised (forward passes only)',
    exact: false,
    claims: [],
    instantaneous: true,
    models: perturbable,
    create: createAnp,
    options: perturbationOptions,
  },
  {
    name: 'tanp',
    description: 'activity-based node perturbation in time: the noisy pass keeps its own state, noise carried through the recurrence',
    exact: false,
    claims: [],
    instantaneous: true,
    models: perturbable,
    create: createTanp,
    options: perturbationOptions,
  },
  {
    name: 'rflo',
    description:
      'RFLO (Murray 2019): leak-only traces of leaky rate units × the output error through fixed random matrices (no weight transport)',
    exact: false,
    claims: [
      readoutExact,
      {
        params: 'all',
        when: { layers: 1, recurrent: false },
        options: { feedback: 'transposed' },
        tolerance: EXACT,
        reason:
          "with no recurrent synapses the unit's leak is the whole state Jacobian, and transposed feedback makes the signal ∂L_t/∂y_t: RTRL",
      },
      {
        params: 'all',
        when: {},
        against: 'eprop-random',
        tolerance: 0,
        reason: "on rate units RFLO's leak trace is the diag rule and its feedback matrices come from the same seed: eprop-random",
      },
    ],
    models: rateUnits,
    create: createRflo,
    recipe: rfloRecipe,
    refusals: refuse(
      "RFLO's trace decays by the unit's fixed leak (1 − 1/τ); this unit's own dynamics is a gate, a reset or a complex recurrence, not a leak — the same pairing (the unit's own ∂f/∂s × random feedback) is the row 'eprop-random'",
      gated.filter((m) => !rateUnits.includes(m)),
    ),
    options: [seedOption, learnerOptionInfo('feedback')],
  },
  {
    name: 'pp-prop',
    description:
      'pp-prop / ES-D-RTRL (BrainTrace): factorised input × output traces smoothed with α (--set traceDecay=α), memory O(B(I+O)) per layer, × backprop at t',
    exact: false,
    claims: [
      readoutExact,
      {
        params: 'all',
        when: { models: ['rnn'] },
        against: 'eprop',
        options: { traceDecay: 0 },
        tolerance: EXACT,
        reason: "with α = 0 the factorised trace is the immediate ∂f/∂a·p_t, which is e-prop's trace on a unit whose own ∂f/∂s is zero",
      },
      {
        params: 'all',
        when: { models: ['rnn'], layers: 1, recurrent: false },
        options: { traceDecay: 0 },
        tolerance: EXACT,
        reason: 'an rnn layer without recurrent synapses has no path through time: the immediate derivative is its whole gradient',
      },
    ],
    models: units,
    create: (net, o) => compose('pp-prop', net, o, ppPropRecipe),
    recipe: ppPropRecipe,
    refusals: {
      lru: "pp-prop factorises the dense synapse matrices of unit-model layers; an LRU layer's recurrence is elementwise and its traces are already exact at the parameters' size (use online-lru)",
    },
    options: [seedOption, learnerOptionInfo('traceDecay')],
  },
  {
    name: 'three-factor',
    description:
      'three-factor rule: e-prop traces × a modulator the caller supplies after each step (learner.modulate(m)); without one, the loss error (eprop)',
    exact: false,
    claims: [
      ...layerLocalExact,
      {
        params: 'all',
        when: {},
        against: 'eprop',
        tolerance: 0,
        reason: "without a modulator each step learns from the loss's own output error, through e-prop's traces and walk: eprop",
      },
    ],
    models: units,
    create: createThreeFactor,
    recipe: threeFactorRecipe,
    refusals: {
      lru: 'the LRU kernel advances its traces inside the accumulation, so a modulator delivered after the step would advance them twice (not implemented, not a mathematical limit); use online-lru',
    },
    options: [seedOption],
  },
  {
    name: 'dni',
    description:
      'DNI (Jaderberg et al. 2017): tbptt whose truncation points are bootstrapped by a learned synthetic gradient, a linear map of the state',
    exact: false,
    claims: [
      {
        params: 'all',
        when: {},
        options: { syntheticLr: 0, window: 2 },
        against: 'tbptt',
        tolerance: 0,
        reason: 'with η = 0 the synthetic gradient stays at its zero initialisation: every window starts from zero credit, as in tbptt',
      },
      {
        params: 'all',
        when: {},
        options: { window: 1_000_000 },
        tolerance: 0,
        reason: 'a window at least as long as the sequence is never truncated, so no synthetic gradient is used: bptt, bit for bit',
      },
    ],
    reverse: true,
    models: gated,
    create: createDni,
    options: [seedOption, windowOption, learnerOptionInfo('syntheticLr')],
  },
];

export function learnerInfo(name: string): LearnerInfo {
  const info = learnerTable.find((l) => l.name === name);
  if (!info)
    throw new UnknownNameError(
      'learner',
      name,
      learnerTable.map((l) => l.name),
    );
  return info;
}

/** why a learner does not run on a model (its row's stated reason), or null when it does */
export function refusalReason(info: LearnerInfo, model: string): string | null {
  if (info.models.includes(model)) return null;
  return info.refusals?.[model] ?? `'${model}' is not among the models it supports`;
}

/** refuse a learner × model pair the learner does not support, with the row's reason and what it does support */
export function checkSupport(info: LearnerInfo, model: string): void {
  const reason = refusalReason(info, model);
  if (reason !== null) {
    const others = learnerTable.filter((l) => l.models.includes(model)).map((l) => l.name);
    throw new UnsupportedError(
      `learner '${info.name}' does not support model '${model}': ${reason}; it supports: ${info.models.join(', ')}` +
        (others.length ? `; learners for '${model}': ${others.join(', ')}` : ''),
    );
  }
}

export function createLearner(name: NameOr<LearnerName>, network: Network, options: LearnerOptions): Learner {
  const info = learnerInfo(name);
  checkSupport(info, network.config.model);
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
    throw new ConfigError(`batch size must be a positive integer, got ${options.batchSize}`);
  }
  try {
    return info.create(network, options);
  } catch (e) {
    if (e instanceof MemoryLimitError && e.fits.length === 0) e.setFits(learnersThatFit(info.name, network, options), info.name);
    throw e;
  }
}

/**
 * The learners that can be built on this model and batch within the memory the network's backend has left
 * (for the memory error). Each is built on a copy of the network in a fresh backend with that much room, so
 * the probes leave the user's backend as it was.
 */
function learnersThatFit(refused: string, network: Network, options: LearnerOptions): string[] {
  const be = network.backend,
    model = network.config.model;
  const free = be.memoryLimit - be.bytesInUse();
  return learnerTable
    .filter((l) => l.name !== refused && l.models.includes(model))
    .filter((l) => {
      try {
        const probe = createBackend({ backend: be.name, dtype: be.dtype });
        const copy = new Network(network.config, probe, 0);
        probe.memoryLimit = Math.min(probe.memoryLimit, probe.bytesInUse() + free);
        l.create(copy, options);
        return true;
      } catch {
        return false; // too large, or not for this configuration
      }
    })
    .map((l) => l.name);
}
