/**
 * The Learner interface: every learning rule consumes one time step at a time.
 *
 *   learner.startSequence()                 // a new sequence: states (and traces) start from zero
 *   learner.step(x_t, target_t, mask_t)     // forward; accumulate this step's share of the gradient
 *   learner.flush()                         // complete the gradient of the steps so far (BPTT sweeps back here)
 *
 * Gradients are added into network.grads (L = (1/B) Σ_b Σ_t mask ℓ); the trainer applies an optimizer
 * and zeroes them every `updateEvery` steps or at the end of each sequence.
 */
import type { Buf } from '../backend/backend.js';
import type { RngState } from '../core/rng.js';
import type { Network } from '../model/network.js';
import type { ExactnessClaim } from './claims.js';
import type { Recipe } from './compose.js';

export interface LearnerState {
  /** recurrent states per recurrent module, flattened */
  states: number[][];
  /** learner-specific arrays (influence matrices, traces), flattened */
  traces: number[][];
  /** the generator of the learner's own sampling (dropout masks, perturbations) */
  rng: RngState;
  /**
   * how the learner's noise draws normals from rng: 'ziggurat' (perturbation learners since issue 18); absent in
   * states saved before, whose noise was Box–Muller — a resumed old run keeps drawing the numbers it would have
   */
  sampler?: 'ziggurat';
}

export interface Learner {
  readonly name: string;
  readonly network: Network;
  readonly batchSize: number;
  /** the prediction of the last step (B × outputSize) */
  readonly output: Buf;
  startSequence(): void;
  /** returns this step's contribution to L; target and mask may be null when the step has no loss */
  step(x: ArrayLike<number>, target: ArrayLike<number> | null, mask: ArrayLike<number> | null): number;
  flush(): void;
  /** bytes the rule keeps to compute its gradient (traces, influence matrices, stored activations) */
  stateBytes(): number;
  saveState(): LearnerState;
  loadState(state: LearnerState): void;
  /** the rule's own statistics since the last call (activity, operation counts, ...), for metrics logs */
  stats?(): Record<string, number>;
}

export interface LearnerOptions {
  batchSize: number;
  /** seed of the learner's own generator (dropout, perturbations); default 0 */
  seed?: number;
  /** tbptt: the truncation window k */
  window?: number;
  /** osttp: 'centered' (default) or 'raw' target projection (learners/signals/target-projection.ts) */
  projection?: 'centered' | 'raw';
  /** osttp: project the target at scored steps only (default) or at every step, masked ones included */
  targetTiming?: 'scored' | 'every-step';
  /** perturbation learners: the noise scale σ (default 1e-3) */
  noise?: number;
  /** perturbation learners on decorrelated models: the decorrelation rate λ (default 0: D stays fixed) */
  decorrelationRate?: number;
  /** eprop, ostl: the low-pass filter κ on the eligibility traces (default 0: none) */
  kappa?: number;
  /** rflo: the feedback of the output error, 'random' (default) or 'transposed' (backprop at t) */
  feedback?: 'random' | 'transposed';
  /** pp-prop: the exponential smoothing α of its input and output factors (default 0.5) */
  traceDecay?: number;
  /** dni: the learning rate of the synthetic gradient's linear maps (default 0.01; 0: fixed at zero, tbptt) */
  syntheticLr?: number;
}

/** one option a learner reads from LearnerOptions, with its default (undefined: required) */
export interface LearnerOptionInfo {
  name: keyof LearnerOptions;
  default?: number | string;
  description: string;
}

export interface LearnerInfo {
  name: string;
  description: string;
  /** exact: equals BPTT's gradient over the same steps on every parameter of every model it supports */
  exact: boolean;
  /** where it is exact (model conditions, which parameters), checked by check/oracle.ts checkClaim */
  claims: readonly ExactnessClaim[];
  /** trace × signal of a composed row (learners/compose.ts); absent for bptt and the perturbation learners */
  recipe?: Recipe;
  /** the row is another row under the name of its paper (the same recipe and options) */
  aliasOf?: string;
  /** the options it reads beyond the batch size */
  options?: readonly LearnerOptionInfo[];
  /** by model: the reason the row does not run on it */
  refusals?: Readonly<Record<string, string>>;
  /** the gradient comes from a reverse sweep over stored steps at flush (bptt family), not step by step */
  reverse?: boolean;
  /** unit models it supports */
  models: readonly string[];
  /** credit stays within a time step (no temporal credit assignment): it cannot learn tasks that need memory of errors */
  instantaneous?: boolean;
  create(network: Network, options: LearnerOptions): Learner;
}
