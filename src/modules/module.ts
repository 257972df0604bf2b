/**
 * Network pieces, one time step at a time, for B samples at once (batch-major buffers B×width).
 *
 * Every module provides the derivatives of its step, so every learning rule works with every module:
 * - backward (VJP, for reverse-mode sweeps through time and the learning signals at one step): dx = (∂y/∂x)ᵀ·dy, and it adds (∂y/∂θ)ᵀ·dy to
 *   the gradient views it was bound to;
 * - feed-forward modules: tangent (JVP at one step): for one sample b, propagates R tangent rows: row p of
 *   the result is ∂y/∂θ_p. Parameters are numbered in network order, so a module sees the rows of every
 *   parameter before it (`Rin` rows, propagated through ∂y/∂x) followed by its own (∂y/∂θ_own, immediate).
 *   Tangents are stored as R×width matrices: a parameter-prefix is then a contiguous row block.
 * - recurrent modules: their one-step local partials in the cache (∂f/∂s, ∂f/∂a, ∂h/∂s, …; λ, γ for the LRU), from
 *   which rules that carry sensitivities through time build them (learners/traces/) — no such state lives here;
 * - modules with preactivations (ExposesPreactivations): the blocks, handed to a forward hook as they are made,
 *   and the parameter half of the VJP from a gradient at them.
 *
 * What a module needs to differentiate a step later is kept in a cache object made by createCache; a reverse
 * sweep keeps one cache per step of its window, a forward-mode rule only the current one.
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
   * A forward hook: called by a module that exposes preactivations with some of its blocks right after computing
   * them (before anything reads them), so a caller can record them or change them in place.
   */
  preactivationHook?: PreactivationHook;
}

/** blocks `first`, `first + 1`, … of `module`'s preactivations (B × preSizes[k] each) */
export type PreactivationHook = (module: ExposesPreactivations, first: number, blocks: readonly Buf[]) => void;

/**
 * A module with preactivations: the points where its parameters act linearly on local inputs (a synapse
 * group's W·x + b, a norm's x̂ ⊙ w + b, a linear recurrence's λ·h_{t−1} + γ·B·x). It hands them to
 * ctx.preactivationHook during forward, and turns a gradient at them into its parameters' gradients from its own
 * cached inputs and elementwise parameters only — it reads no weight matrix, so nothing travels backward through
 * a synapse (the parameter half of its VJP at one step, with the state at t−1 held fixed).
 */
export interface ExposesPreactivations {
  /** numbers per sample in each preactivation block, in the order the hook receives them */
  readonly preSizes: readonly number[];
  /** grads += the parameter half of the VJP at the preactivations, for the gradient dPre[k] (B × preSizes[k]) at block k */
  accumulateFromPreactivations(cache: ModuleCache, dPre: readonly Buf[]): void;
  /** decorrelation: each decorrelating matrix D with the decorrelated input x̂ = D·x it produced (cache); [] when off */
  decorrelators(cache: ModuleCache): { D: Buf; input: Buf }[];
}

export function exposesPreactivations(m: object): m is ExposesPreactivations {
  return 'accumulateFromPreactivations' in m && 'preSizes' in m;
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

/** The reverse-time carry of a backward sweep: the gradient with respect to s_t and y_t coming from step t+1. */
export interface RecurrentCarry {
  readonly dS: Buf;
  readonly dY: Buf;
}

export interface RecurrentModule<C extends ModuleCache = ModuleCache> {
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
}

export type AnyModule = Module | RecurrentModule;

export function countParams(specs: readonly ParamSpec[]): number {
  let n = 0;
  for (const s of specs) n += s.shape.reduce((a, d) => a * d, 1);
  return n;
}
