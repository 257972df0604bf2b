/**
 * Network pieces, one time step at a time, for B samples at once (batch-major buffers B×width).
 *
 * Every module provides three derivatives of its step, so every learner works with every module:
 * - backward (VJP, for BPTT and the spatial learning signals): dx = (∂y/∂x)ᵀ·dy, and it adds (∂y/∂θ)ᵀ·dy to
 *   the gradient views it was bound to;
 * - tangent (JVP, for RTRL's forward-mode influence): for one sample b, propagates R tangent rows: row p of
 *   the result is ∂y/∂θ_p. Parameters are numbered in network order, so a module sees the rows of every
 *   parameter before it (`Rin` rows, propagated through ∂y/∂x) followed by its own (∂y/∂θ_own, immediate).
 *   Tangents are stored as R×width matrices: a parameter-prefix is then a contiguous row block.
 *
 * What a module needs to differentiate a step later is kept in a cache object made by createCache; BPTT
 * keeps one cache per step of its window, RTRL only the current one.
 */
import type { Backend, Buf } from '../backend/backend.js';
import type { ParamSpec, ParamStore } from '../core/params.js';
import type { Rng } from '../core/rng.js';

export interface StepContext {
  /** dropout and other train-only behaviour is on */
  training: boolean;
  /** the one seeded generator that everything sampling draws from */
  rng: Rng;
  /**
   * Perturbation learners only: called by a perturbable module with its preactivation blocks right after
   * computing them (before the nonlinearity), so a learner can record them and add noise in place.
   */
  perturb?: PreactivationHook;
}

export type PreactivationHook = (module: Perturbable, pre: readonly Buf[]) => void;

/**
 * A module whose preactivations a perturbation learner can reach (recurrent layers, dense): it hands its
 * preactivation blocks to ctx.perturb during forward, and turns an estimate of ∂L/∂(preactivation) into
 * its parameters' gradients with local outer products only — it reads no weight, so no error travels
 * backward through a synapse.
 */
export interface Perturbable {
  /** numbers per sample in each preactivation block handed to the hook */
  readonly preSizes: readonly number[];
  /** grads += dPre[k]ᵀ·(the block's presynaptic input in the cache) and the bias sums; reads no weight */
  accumulateLocal(cache: ModuleCache, dPre: readonly Buf[]): void;
  /** decorrelation: each decorrelating matrix D with the decorrelated input x̂ = D·x it produced (cache); [] when off */
  decorrelators(cache: ModuleCache): { D: Buf; input: Buf }[];
}

export function isPerturbable(m: object): m is Perturbable {
  return 'accumulateLocal' in m && 'preSizes' in m;
}

export interface ModuleCache {
  readonly B: number;
}

export interface Module<C extends ModuleCache = ModuleCache> {
  readonly kind: string;
  readonly inSize: number;
  readonly outSize: number;
  readonly recurrent: false;
  /** parameter names are local ('weight'); the network prefixes them ('readout.weight') */
  paramSpecs(): ParamSpec[];
  /** write initial values into `params` (names prefixed) */
  init(params: ParamStore, prefix: string, rng: Rng): void;
  /** take the views of the parameters and of their gradient accumulators */
  bind(params: ParamStore, grads: ParamStore, prefix: string): void;
  createCache(be: Backend, B: number): C;
  forward(x: Buf, y: Buf, cache: C, ctx: StepContext): void;
  /** dx may be null when nothing below needs it; parameter gradients are accumulated (+=) */
  backward(cache: C, dy: Buf, dx: Buf | null): void;
  /**
   * One sample: tyIn (Rin×out) = tx (Rin×in) propagated through ∂y/∂x (both null when Rin = 0), and
   * tyOwn (own×out) = ∂y/∂θ_own. The caller makes these views once; a call allocates nothing.
   */
  tangent(b: number, cache: C, tx: Buf | null, tyIn: Buf | null, tyOwn: Buf): void;
}

/** What a recurrent module carries from one step to the next for B samples. */
export interface RecurrentState {
  readonly B: number;
  /** the unit states s_t (B × S·n) */
  readonly s: Buf;
  /** the outputs y_t (B × n), the recurrent synapses' input at t+1 */
  readonly y: Buf;
}

/** The reverse-time carry of BPTT: the gradient with respect to s_t and y_t coming from step t+1. */
export interface RecurrentCarry {
  readonly dS: Buf;
  readonly dY: Buf;
}

/** RTRL's influence of the parameters (rows) on one sample's state, carried across steps. */
export interface Influence {
  readonly rows: number;
  /** bytes this sample's influence holds (for memory reports) */
  readonly bytes: number;
}

export interface RecurrentModule<C extends ModuleCache = ModuleCache, I extends Influence = Influence> {
  readonly kind: string;
  readonly inSize: number;
  readonly outSize: number;
  readonly recurrent: true;
  /** state numbers per sample (S·n) */
  readonly stateSize: number;
  paramSpecs(): ParamSpec[];
  init(params: ParamStore, prefix: string, rng: Rng): void;
  bind(params: ParamStore, grads: ParamStore, prefix: string): void;
  createCache(be: Backend, B: number): C;
  createState(be: Backend, B: number): RecurrentState;
  createCarry(be: Backend, B: number): RecurrentCarry;
  /** one step: reads state (t−1), writes y_t and the state (t) */
  forward(x: Buf, y: Buf, cache: C, ctx: StepContext, state: RecurrentState): void;
  /** reverse step: carry holds ∂L/∂(s_t, y_t) from the future on entry and ∂L/∂(s_{t−1}, y_{t−1}) on exit */
  backward(cache: C, dy: Buf, dx: Buf | null, carry: RecurrentCarry): void;
  /** one sample's influence over `Rin` parameters before this module plus its own (the JVP's carried tangent) */
  createInfluence(be: Backend, Rin: number): I;
  /** the buffers an influence carries from step to step (for checkpoints) */
  influenceBuffers(influence: I): Buf[];
  /** zero an influence (a new sequence starts from a state that does not depend on the parameters) */
  resetInfluence(influence: I): void;
  /** RTRL step for sample b: updates the influence from tx (Rin×in, null when Rin = 0); ty = dy_t/dθ (rows×n) */
  tangent(b: number, cache: C, tx: Buf | null, ty: Buf, influence: I): void;
}

export type AnyModule = Module | RecurrentModule;

export function countParams(specs: readonly ParamSpec[]): number {
  let n = 0;
  for (const s of specs) n += s.shape.reduce((a, d) => a * d, 1);
  return n;
}
