/** The table of learners: names as on the command line, what each supports, and how to build it. */
import { ConfigError, MemoryLimitError, UnknownNameError, UnsupportedError } from '../core/errors.js';
import { createBackend } from '../backend/index.js';
import { Network } from '../model/network.js';
import { BpttLearner, createTbptt } from './bptt.js';
import type { Learner, LearnerInfo, LearnerOptions } from './learner.js';
import { createDeepEprop } from './deep-eprop.js';
import { TraceLearner } from './eprop.js';
import { createAnp } from './anp.js';
import { createNp } from './np.js';
import { OnlineLruLearner } from './online-lru.js';
import { createOstl } from './ostl.js';
import { OsttpLearner } from './osttp.js';
import { RtrlLearner } from './rtrl.js';
import { SparseRtrlLearner } from './sparse-rtrl.js';
import { createTanp } from './tanp.js';
import { createWp } from './wp.js';

export type { Learner, LearnerInfo, LearnerOptions, LearnerState } from './learner.js';

const spiking = ['snu', 'lif', 'snu-sigmoid', 'lif-sigmoid'] as const;
const gated = ['rnn', 'gru', 'lstm', 'egru', 'leaky', ...spiking, 'lru'] as const;
const units = ['rnn', 'gru', 'lstm', 'egru', 'leaky', ...spiking] as const;
/** perturbation learners need modules that expose their preactivations: the recurrent-layer stacks */
const unitStacks = ['rnn', 'gru', 'lstm', 'egru'] as const;

export const learnerTable: readonly LearnerInfo[] = [
  {
    name: 'bptt',
    description: 'backpropagation through time over the whole sequence (the reference)',
    exact: true,
    models: gated,
    create: (net, o) => new BpttLearner(net, o),
  },
  {
    name: 'tbptt',
    description: 'truncated BPTT: a backward sweep every k steps (--set window=k), no credit across windows',
    exact: false,
    models: gated,
    create: createTbptt,
  },
  {
    name: 'bptt-detached',
    description: 'BPTT with the state detached every step (tbptt with window 1): the "BP" baseline of the perturbation paper\'s code',
    exact: false,
    instantaneous: true,
    // not on the leaky unit: the contract's Mackey-Glass check (30 updates) is too short for its slow state
    models: ['rnn', 'gru', 'lstm', 'egru', 'lru'],
    create: (net, o) => new BpttLearner(net, o, 'bptt-detached', 1),
  },
  {
    name: 'rtrl',
    description: 'real-time recurrent learning: exact, full influence matrices carried forward, O(n⁴) per step',
    exact: true,
    models: gated,
    create: (net, o) => new RtrlLearner(net, o),
  },
  {
    name: 'deep-rtrl',
    description: 'rtrl on a stack: influence carried across layers (the same rule as rtrl, named as in the papers)',
    exact: true,
    models: gated,
    create: (net, o) => new RtrlLearner(net, o, 'deep-rtrl'),
  },
  {
    name: 'sparse-rtrl',
    description: 'rtrl that skips exact zeros: silent units (EGRU), masked weights, influence still zero; the same gradient as rtrl',
    exact: true,
    models: units,
    create: (net, o) => new SparseRtrlLearner(net, o),
  },
  {
    name: 'deep-eprop',
    description: 'deep e-prop (Millidge 2025): traces carried up the stack through the inter-layer Jacobians, each unit\'s own ∂f/∂s within a layer, signal at the top',
    exact: false,
    models: gated,
    create: createDeepEprop,
  },
  {
    name: 'online-lru',
    description: 'online LRU (Zucchet et al. 2023): exact elementwise traces in each LRU layer × the error backpropagated at time t only',
    exact: false,
    models: ['lru'],
    create: (net, o) => new OnlineLruLearner(net, o, 'online-lru', 'online'),
  },
  {
    name: 'spatial',
    description: 'online-lru without temporal credit: λ gets no gradient, B and γ their instantaneous one (paper baseline)',
    exact: false,
    models: ['lru'],
    create: (net, o) => new OnlineLruLearner(net, o, 'spatial', 'spatial'),
  },
  {
    name: 'truncated1',
    description: 'online-lru with one-step truncated traces (paper baseline)',
    exact: false,
    models: ['lru'],
    create: (net, o) => new OnlineLruLearner(net, o, 'truncated1', 'truncated1'),
  },
  {
    name: 'eprop',
    description: 'e-prop (Bellec et al. 2020): per-synapse eligibility traces (each unit\'s own ∂f/∂s) × the error backpropagated at time t only',
    exact: false,
    models: units,
    create: (net, o) => new TraceLearner(net, o, 'eprop', 'diag', 'backprop'),
  },
  {
    name: 'ostl',
    description: 'OSTL (Bohnstingl et al. 2023): per-layer eligibility traces × the error backpropagated at time t only; exact per layer without recurrent synapses',
    exact: false,
    models: units,
    create: createOstl,
  },
  {
    name: 'osttp',
    description: 'OSTTP (Ortner et al. 2023): OSTL traces × fixed random projections of the target (DRTP) in hidden layers; no weight transport, no update locking',
    exact: false,
    models: units,
    create: (net, o) => new OsttpLearner(net, o),
  },
  {
    name: 'eprop-random',
    description: 'e-prop with random feedback: eligibility traces × the output error through fixed random matrices (no weight transport)',
    exact: false,
    models: units,
    create: (net, o) => new TraceLearner(net, o, 'eprop-random', 'diag', 'random-feedback'),
  },
  {
    name: 'snap1',
    description: 'SnAp-1 (Menick et al. 2021): traces through the diagonal of the full state Jacobian × the error backpropagated at time t',
    exact: false,
    models: units,
    create: (net, o) => new TraceLearner(net, o, 'snap1', 'snap1', 'backprop'),
  },
  {
    name: 'wp',
    description: 'weight perturbation: a noisy forward pass with perturbed weights, gradient ≈ δL·noise/σ² (forward passes only)',
    exact: false,
    instantaneous: true,
    models: unitStacks,
    create: createWp,
  },
  {
    name: 'np',
    description: 'node perturbation: noise on the preactivations, gradient ≈ δL·noise/σ² × clean inputs (forward passes only)',
    exact: false,
    instantaneous: true,
    models: unitStacks,
    create: createNp,
  },
  {
    name: 'anp',
    description: 'activity-based node perturbation per step: the measured preactivation change, normalised (forward passes only)',
    exact: false,
    instantaneous: true,
    models: unitStacks,
    create: createAnp,
  },
  {
    name: 'tanp',
    description: 'activity-based node perturbation in time: the noisy pass keeps its own state, noise carried through the recurrence',
    exact: false,
    instantaneous: true,
    models: unitStacks,
    create: createTanp,
  },
];

export function learnerInfo(name: string): LearnerInfo {
  const info = learnerTable.find((l) => l.name === name);
  if (!info) throw new UnknownNameError('learner', name, learnerTable.map((l) => l.name));
  return info;
}

/** refuse a learner × model pair the learner does not support, naming what it does support */
export function checkSupport(info: LearnerInfo, model: string): void {
  if (!info.models.includes(model)) {
    const others = learnerTable.filter((l) => l.models.includes(model)).map((l) => l.name);
    throw new UnsupportedError(`learner '${info.name}' does not support model '${model}'; it supports: ${info.models.join(', ')}` +
      (others.length ? `; learners for '${model}': ${others.join(', ')}` : ''));
  }
}

export function createLearner(name: string, network: Network, options: LearnerOptions): Learner {
  const info = learnerInfo(name);
  checkSupport(info, network.config.model);
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
    throw new ConfigError(`batch size must be a positive integer, got ${options.batchSize}`);
  }
  try {
    return info.create(network, options);
  } catch (e) {
    if (e instanceof MemoryLimitError && e.fits.length === 0) e.setFits(learnersThatFit(info.name, network, options));
    throw e;
  }
}

/**
 * The learners that can be built on this model and batch within the memory the network's backend has left
 * (for the memory error). Each is built on a copy of the network in a fresh backend with that much room, so
 * the probes leave the user's backend as it was.
 */
function learnersThatFit(refused: string, network: Network, options: LearnerOptions): string[] {
  const be = network.backend, model = network.config.model;
  const free = be.memoryLimit - be.bytesInUse();
  return learnerTable.filter((l) => l.name !== refused && l.models.includes(model)).filter((l) => {
    try {
      const probe = createBackend({ backend: be.name, dtype: be.dtype });
      const copy = new Network(network.config, probe, 0);
      probe.memoryLimit = Math.min(probe.memoryLimit, probe.bytesInUse() + free);
      l.create(copy, options);
      return true;
    } catch {
      return false; // too large, or not for this configuration
    }
  }).map((l) => l.name);
}
