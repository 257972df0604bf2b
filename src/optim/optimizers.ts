/**
 * Optimizers as transforms in the style of Optax: an optimizer is a pair of functions, `init(params)`
 * making a state object named after what it holds (`velocity`, `mu`/`nu`, the update `count`) and
 * `update(grads, state, params)` advancing it. All state lives in the state object — nothing hidden in the
 * optimizer — so a checkpoint is the state's numbers. For speed the update writes into `params` and the
 * state's buffers in place with one fused kernel over the flat parameter vector (no per-step allocation).
 *
 *   sgd:   v ← μ·v + g + wd·θ;  θ ← θ − lr·v                                  (PyTorch SGD)
 *   adam:  g ← g + wd·θ; m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;  θ ← θ − lr·m̂/(√v̂ + ε)  (PyTorch Adam)
 *   adamw: θ ← (1 − lr·wd)·θ, then adam without the wd term                     (PyTorch AdamW)
 * clipByGlobalNorm(c) scales g by min(1, c/‖g‖) before the update.
 */
import type { Backend, Buf } from '../backend/backend.js';
import { ConfigError, UnknownNameError, show } from '../core/errors.js';
import type { OptimizerSection } from './options.js';
import { constant, type Schedule } from './schedule.js';

export interface OptimizerState {
  /** updates applied so far */
  count: number;
  /** moment buffers, by name (sgd with momentum: velocity; adam: mu, nu) */
  buffers: Record<string, Buf>;
}

export interface Optimizer {
  readonly name: string;
  init(backend: Backend, size: number): OptimizerState;
  /** one update: reads grads (clipping may rescale them in place), writes params and state */
  update(grads: Buf, state: OptimizerState, params: Buf): void;
  /** the learning rate the next update will use */
  learningRate(state: OptimizerState): number;
}

/**
 * An optimizer as the library builds it: the run config's optimizer options (optim/options.ts: name, momentum,
 * weight decay, clip — here each optional, with the API's own defaults below) and what only the API sets: a
 * learning rate that may be a schedule, and adam's β1, β2, ε.
 */
export interface OptimizerConfig extends Partial<Pick<OptimizerSection, 'momentum' | 'weightDecay' | 'clip'>> {
  name: OptimizerSection['name'];
  lr: number | Schedule;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export const optimizerNames = ['sgd', 'adam', 'adamw'] as const;

export function createOptimizer(config: OptimizerConfig): Optimizer {
  const schedule: Schedule = typeof config.lr === 'function' ? config.lr : constant(config.lr);
  const clip = config.clip ?? 0;
  if (!(clip >= 0)) throw new ConfigError(`clip must be ≥ 0, got ${clip}`);
  const wd = config.weightDecay ?? (config.name === 'adamw' ? 0.01 : 0);
  if (!(wd >= 0)) throw new ConfigError(`weightDecay must be ≥ 0, got ${wd}`);
  const clipGrads = (grads: Buf): void => {
    if (clip > 0) clipByGlobalNorm(grads, clip);
  };
  switch (config.name) {
    case 'sgd': {
      const momentum = config.momentum ?? 0;
      if (!(momentum >= 0 && momentum < 1)) throw new ConfigError(`sgd momentum must be in [0, 1), got ${momentum}`);
      return {
        name: 'sgd',
        init: (be, size): OptimizerState => {
          const buffers: Record<string, Buf> = {};
          if (momentum > 0) buffers.velocity = be.alloc(size);
          return { count: 0, buffers };
        },
        update(grads, state, params) {
          clipGrads(grads);
          params.backend.sgdStep(schedule(state.count), momentum, wd, grads, state.buffers.velocity ?? null, params);
          state.count++;
        },
        learningRate: (state) => schedule(state.count),
      };
    }
    case 'adam':
    case 'adamw': {
      const beta1 = config.beta1 ?? 0.9,
        beta2 = config.beta2 ?? 0.999,
        eps = config.eps ?? 1e-8;
      if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1))
        throw new ConfigError(`adam betas must be in [0, 1), got ${beta1}, ${beta2}`);
      const decoupled = config.name === 'adamw';
      return {
        name: config.name,
        init: (be, size) => ({ count: 0, buffers: { mu: be.alloc(size), nu: be.alloc(size) } }),
        update(grads, state, params) {
          clipGrads(grads);
          const t = state.count + 1;
          params.backend.adamStep(
            schedule(state.count),
            beta1,
            beta2,
            eps,
            1 - beta1 ** t,
            1 - beta2 ** t,
            decoupled ? 0 : wd,
            decoupled ? wd : 0,
            grads,
            state.buffers.mu!,
            state.buffers.nu!,
            params,
          );
          state.count++;
        },
        learningRate: (state) => schedule(state.count),
      };
    }
    default:
      throw new UnknownNameError('optimizer', show((config as { name: unknown }).name), optimizerNames);
  }
}

/** g ← g·min(1, maxNorm/‖g‖); returns the norm before clipping */
export function clipByGlobalNorm(grads: Buf, maxNorm: number): number {
  const be = grads.backend;
  const norm = Math.sqrt(be.dot(grads, grads));
  if (norm > maxNorm) be.scale(maxNorm / norm, grads);
  return norm;
}
