/**
 * The perturbation engine behind `wp`, `np`, `anp` and `tanp` (seed 004: J. García Fernández, S. Keemink,
 * M. van Gerven, "Gradient-free training of recurrent neural networks using random perturbations",
 * Frontiers in Neuroscience 18:1439155, 2024; code jesusgf96/NP_RNNs). No traces, no backward pass: at every
 * step a clean and a noisy forward pass run side by side and a scalar loss difference per sample,
 *   δL_b = (mask_b / B)·(ℓ(ỹ_b) − ℓ(y_b)),
 * is turned into a gradient estimate. Perturbed "nodes" are the preactivation blocks every module with
 * parameters hands to ctx.preactivationHook: for a recurrent layer W_ih·x̂ + b_ih and W_hh·ŷ_{t−1} + b_hh (2·G·n per
 * sample — perturbing both synapse groups works for every unit model without knowing how its channels combine;
 * for a plain rnn a = preIh + preHh so its noise variance is 2σ²); for an LRU layer its state
 * h_t = λ⊙h_{t−1} + γ⊙B·x_t (Re and Im, N each: ν, θ, γ and B act there) and its output Re(C·h_t) + D⊙x_t
 * (H: C and D); for a GLU its two maps W1·x + b1 and W2·x + b2 (before the sigmoid); for LayerNorm and dense
 * layers their outputs. Modules without parameters (dropout, GELU, pooling) are passed through; the noisy
 * pass replays the clean pass's dropout masks (its generator copies the clean one at the start of each step),
 * so δL sees the injected noise only. With
 * ĝ_a = the estimate of ∂L_t/∂a for a block a, each module turns ĝ into its parameters' gradients from its own
 * cached inputs (ExposesPreactivations.accumulateFromPreactivations: for synapses weights += ĝ_aᵀ·p, biases
 * += Σ_b ĝ_a, p the clean presynaptic input — local outer products only).
 * Estimators (ε ~ N(0, σ²I) injected noise, a and ã clean and noisy preactivations, m_l = nodes per sample
 * of layer l):
 *   node      ĝ_a = (δL_b/σ²)·ε_b                      (NP; E[ĝ] = ∂L_t/∂a to first order in σ)
 *   activity  ĝ_a = m_l·δL_b·δa_b/‖δa_b‖²,  δa = ã − a  (ANP: the measured change, per layer and sample)
 *   weight    ĝ_θ = (Σ_b δL_b/σ²)·Ε,  Ε ~ N(0, σ²I) added to every trained parameter for the noisy pass (WP)
 * Normalisation vs the authors' code: they multiply NP by δL·ξ (ξ = ε/σ) and ANP by √N·δL·δa/‖δa‖²_F with
 * N = Σ layer widths and the norm over the whole batch; here the scales make E[ĝ] ≈ ∇ (when δa = ε), so the
 * learning rates mean the same as for gradient learners — the difference is a constant factor in η. Their
 * δL is a batch mean; here each sample's own δL_b multiplies its own perturbation (less variance).
 * `carry`: the noisy pass keeps its own recurrent state (so δa includes all earlier noise propagated
 * through the recurrence — ANP "in time"); otherwise it restarts every step from the clean state.
 * Decorrelation (model option `decorrelate`, rate `decorrelationRate` λ): after every step each layer's
 * decorrelating matrix moves by D ← D − λ·offdiag((1/B)·x̂ᵀx̂)·D (Ahmad, Schrader, van Gerven 2023; the
 * authors' code since 2024-10-01), x̂ = D·x the layer's clean decorrelated input.
 * Exactness: stochastic estimates of the instantaneous gradient ∂L_t/∂θ (state at t−1 held fixed); no
 * credit reaches earlier steps. Never exact; variance grows with the number of perturbed units.
 * Noise: normals by the ziggurat (Rng.fillNormalZiggurat; Box–Muller cost more than an inference step at
 * gru n=128 B=1); a state saved before it (no `sampler` field) resumes with Box–Muller, drawing what it would have.
 * Cost per step: two forward passes (2× inference), outer products of the size of the weights, O(B·nodes)
 * for noise and norms; decorrelation adds B·m² + m³ per m×m matrix. Memory: the noisy pass's recurrent
 * state (B·(S+1)·n per layer), independent of the sequence length; wp also a copy of the parameters.
 */
import type { Buf, FloatArray } from '../backend/backend.js';
import { ConfigError, UnsupportedError } from '../core/errors.js';
import type { Network } from '../model/network.js';
import { exposesPreactivations, type ExposesPreactivations, type ModuleCache, type RecurrentState } from '../modules/module.js';
import { elementBytes } from '../core/bytes.js';
import { ForwardPass } from '../model/forward.js';
import { countParams } from '../modules/module.js';
import { Rng } from '../core/rng.js';
import type { Learner, LearnerOptions, LearnerState } from './learner.js';

export type Estimator = 'weight' | 'node' | 'activity';

export interface PerturbationRule {
  name: string;
  estimator: Estimator;
  /** the noisy pass carries its own recurrent state from step to step */
  carry: boolean;
}

/** the default noise scale σ (the authors' noise_std) */
export const defaultNoise = 1e-3;

interface Slot {
  module: ExposesPreactivations;
  index: number;
  /** recorded preactivation blocks of the clean and of the noisy pass (B × size each) */
  clean: Buf[];
  noisy: Buf[];
  /** the injected noise per block */
  noise: Buf[];
  /** the estimate of ∂L/∂(block) */
  dPre: Buf[];
  /** nodes per sample over all blocks (m_l) */
  nodes: number;
  /** block widths per sample */
  sizes: readonly number[];
  /** the decorrelating matrices with their (clean) inputs and scratch: C = offdiag(x̂ᵀx̂)/B and C·D */
  decorrelators: { D: Buf; input: Buf; width: number; C: Buf; CD: Buf }[];
}

export class PerturbationLearner implements Learner {
  readonly name: string;
  readonly batchSize: number;
  readonly noise: number;
  readonly decorrelationRate: number;
  private readonly clean: ForwardPass;
  private readonly noisy: ForwardPass;
  private readonly cleanCaches: ModuleCache[];
  private readonly noisyCaches: ModuleCache[];
  private readonly slots: Slot[];
  private readonly slotOf = new Map<ExposesPreactivations, Slot>();
  private readonly deltaL: Float64Array;
  /** per sample: the clean and the noisy masked loss; and this step's clean loss L_t */
  private readonly cleanLoss: Float64Array;
  private readonly noisyLoss: Float64Array;
  private stepLoss = 0;
  /** wp: the parameters while the noisy pass runs, its noise, and which entries are trained (1) */
  private readonly paramCopy: Buf | null;
  private readonly weightNoise: Buf | null;
  private readonly trained: Buf | null;
  /** resumed from a state saved before ziggurat noise: keep drawing Box–Muller normals (see LearnerState.sampler) */
  private boxMuller = false;

  constructor(
    readonly network: Network,
    options: LearnerOptions,
    readonly rule: PerturbationRule,
  ) {
    this.name = rule.name;
    const be = network.backend,
      B = (this.batchSize = options.batchSize);
    this.noise = options.noise ?? defaultNoise;
    this.decorrelationRate = options.decorrelationRate ?? 0;
    if (!(this.noise >= 0 && Number.isFinite(this.noise)))
      throw new ConfigError(`${rule.name}: noise σ must be a finite number ≥ 0, got ${this.noise}`);
    if (!(this.decorrelationRate >= 0 && Number.isFinite(this.decorrelationRate))) {
      throw new ConfigError(`${rule.name}: decorrelation rate must be a finite number ≥ 0, got ${this.decorrelationRate}`);
    }
    this.clean = new ForwardPass(network, B, options.seed ?? 0);
    this.noisy = new ForwardPass(network, B, options.seed ?? 0);
    // one generator for everything the learner samples (the one saved with its state); the noisy pass's own
    // draws (dropout masks) replay the clean pass's, from a copy taken at the start of every step
    this.noisy.ctx.rng = new Rng(0);
    this.cleanCaches = network.modules.map((m) => m.createCache(be, B));
    this.noisyCaches = network.modules.map((m) => m.createCache(be, B));
    const injectNodes = rule.estimator !== 'weight';
    this.slots = [];
    network.modules.forEach((m, index) => {
      // a module without parameters needs no estimate (dropout, GELU, pooling); wp perturbs the parameters
      // themselves, so it needs a module's blocks only for its decorrelators
      if (countParams(m.paramSpecs()) === 0 || (!injectNodes && !exposesPreactivations(m))) return;
      if (!exposesPreactivations(m))
        throw new UnsupportedError(`${rule.name}: module '${m.kind}' (${network.prefixes[index]}) exposes no preactivations to perturb`);
      const mk = (): Buf[] => m.preSizes.map((s) => be.alloc(B * s));
      const decorrelators = m.decorrelators(this.cleanCaches[index]!).map(({ D, input }) => {
        const width = Math.round(Math.sqrt(D.length));
        return { D, input, width, C: be.alloc(width * width), CD: be.alloc(width * width) };
      });
      const slot: Slot = {
        module: m,
        index,
        clean: mk(),
        noisy: mk(),
        noise: mk(),
        dPre: mk(),
        nodes: m.preSizes.reduce((a, s) => a + s, 0),
        sizes: m.preSizes,
        decorrelators,
      };
      this.slotOf.set(m, slot);
      this.slots.push(slot);
    });
    if (injectNodes) {
      this.clean.ctx.preactivationHook = (m, first, pre) => {
        const slot = this.slotOf.get(m);
        if (!slot) return;
        for (let k = 0; k < pre.length; k++) be.copy(pre[k]!, slot.clean[first + k]!);
      };
      this.noisy.ctx.preactivationHook = (m, first, pre) => {
        const slot = this.slotOf.get(m);
        if (!slot) return;
        for (let k = 0; k < pre.length; k++) {
          const p = pre[k]!;
          if (this.noise > 0) {
            const e = slot.noise[first + k]!;
            this.drawNoise(e.data);
            be.axpy(1, e, p);
          }
          be.copy(p, slot.noisy[first + k]!);
        }
      };
    }
    this.deltaL = new Float64Array(B);
    this.cleanLoss = new Float64Array(B);
    this.noisyLoss = new Float64Array(B);
    if (rule.estimator === 'weight') {
      this.paramCopy = be.alloc(network.size);
      this.weightNoise = be.alloc(network.size);
      this.trained = be.alloc(network.size);
      be.fill(this.trained, 1);
      // decorrelating matrices are not trained by the loss; pruned synapses stay at zero
      for (const name of network.params.names()) {
        if (/(^|\.)decor(_ih|_hh)?$/.test(name)) be.fill(this.trainedView(name), 0);
      }
      for (const [name, mask] of network.masks) be.mul(this.trainedView(name), mask, this.trainedView(name));
    } else {
      this.paramCopy = this.weightNoise = this.trained = null;
    }
  }

  /** N(0, σ²) noise into `out` from the learner's generator */
  private drawNoise(out: FloatArray): void {
    const rng = this.clean.ctx.rng;
    if (this.boxMuller) rng.fillNormal(out, 0, this.noise);
    else rng.fillNormalZiggurat(out, 0, this.noise);
  }

  private trainedView(name: string): Buf {
    const e = this.network.params.entry(name);
    return this.trained!.view(e.offset, e.size);
  }

  get output(): Buf {
    return this.clean.output;
  }

  startSequence(): void {
    this.clean.resetStates();
    this.noisy.resetStates();
  }

  step(x: ArrayLike<number>, target: ArrayLike<number> | null, mask: ArrayLike<number> | null): number {
    const net = this.network,
      be = net.backend;
    this.clean.load(x);
    be.copy(this.clean.input, this.noisy.input);
    this.noisy.ctx.rng.copyFrom(this.clean.ctx.rng);
    if (!this.rule.carry) this.copyStates(this.clean.states, this.noisy.states);
    this.clean.run(this.cleanCaches);
    this.runNoisy();
    this.stepLoss = 0;
    if (target) {
      this.lossDifferences(target, mask);
      if (this.noise > 0) this.estimate();
    }
    if (this.decorrelationRate > 0) this.decorrelate();
    return this.stepLoss;
  }

  private runNoisy(): void {
    const be = this.network.backend,
      params = this.network.params.flat;
    if (this.rule.estimator !== 'weight') {
      this.noisy.run(this.noisyCaches);
      return;
    }
    const E = this.weightNoise!;
    this.drawNoise(E.data);
    be.mul(E, this.trained!, E);
    be.copy(params, this.paramCopy!);
    be.axpy(1, E, params);
    this.noisy.run(this.noisyCaches);
    be.copy(this.paramCopy!, params); // restored exactly (a copy, not a subtraction)
  }

  /** δL_b per sample into deltaL, and the clean pass's loss into stepLoss (targets checked by the loss) */
  private lossDifferences(target: ArrayLike<number>, mask: ArrayLike<number> | null): void {
    const B = this.batchSize,
      loss = this.network.loss;
    this.stepLoss = loss.evaluate(B, this.clean.output, target, mask, null);
    loss.sampleLosses(B, this.clean.output, target, mask, this.cleanLoss);
    loss.sampleLosses(B, this.noisy.output, target, mask, this.noisyLoss);
    for (let b = 0; b < B; b++) this.deltaL[b] = (this.noisyLoss[b]! - this.cleanLoss[b]!) / B;
  }

  private estimate(): void {
    const net = this.network,
      be = net.backend,
      B = this.batchSize,
      s2 = this.noise * this.noise;
    if (this.rule.estimator === 'weight') {
      let dL = 0;
      for (let b = 0; b < B; b++) dL += this.deltaL[b]!;
      be.axpy(dL / s2, this.weightNoise!, net.grads.flat);
      return;
    }
    const node = this.rule.estimator === 'node';
    for (const slot of this.slots) {
      const sizes = slot.sizes;
      for (let b = 0; b < B; b++) {
        const dL = this.deltaL[b]!;
        let coef: number;
        if (node) {
          coef = dL / s2;
        } else {
          let norm2 = 0;
          for (let k = 0; k < sizes.length; k++) {
            const n = sizes[k]!,
              c = slot.clean[k]!.data,
              v = slot.noisy[k]!.data;
            for (let i = b * n; i < (b + 1) * n; i++) norm2 += (v[i]! - c[i]!) ** 2;
          }
          coef = norm2 > 0 ? (slot.nodes * dL) / norm2 : 0;
        }
        for (let k = 0; k < sizes.length; k++) {
          const n = sizes[k]!,
            d = slot.dPre[k]!.data;
          if (node) {
            const e = slot.noise[k]!.data;
            for (let i = b * n; i < (b + 1) * n; i++) d[i] = coef * e[i]!;
          } else {
            const c = slot.clean[k]!.data,
              v = slot.noisy[k]!.data;
            for (let i = b * n; i < (b + 1) * n; i++) d[i] = coef * (v[i]! - c[i]!);
          }
        }
      }
      be.macs += B * slot.nodes * (node ? 1 : 2); // the estimate's multiply-adds (the norm and the scaling)
      slot.module.accumulateFromPreactivations(this.cleanCaches[slot.index]!, slot.dPre);
    }
  }

  /** D ← D − λ·offdiag((1/B)·x̂ᵀx̂)·D for every decorrelating matrix, from the clean pass */
  private decorrelate(): void {
    const be = this.network.backend,
      B = this.batchSize;
    for (const slot of this.slots) {
      for (const { D, input, width: m, C, CD } of slot.decorrelators) {
        be.gemm(true, false, m, m, B, 1 / B, input, input, 0, C);
        const c = C.data;
        for (let i = 0; i < m; i++) c[i * m + i] = 0;
        be.gemm(false, false, m, m, m, 1, C, D, 0, CD);
        be.axpy(-this.decorrelationRate, CD, D);
      }
    }
  }

  private copyStates(from: (RecurrentState | null)[], to: (RecurrentState | null)[]): void {
    const be = this.network.backend;
    for (let i = 0; i < from.length; i++) {
      const s = from[i];
      if (!s) continue;
      be.copy(s.s, to[i]!.s);
      be.copy(s.y, to[i]!.y);
    }
  }

  flush(): void {
    // every step's estimate was added when the step ran
  }

  private noisyStateBufs(): Buf[] {
    return this.noisy.states.filter((s): s is RecurrentState => s !== null).flatMap((s) => [s.s, s.y]);
  }

  stateBytes(): number {
    // the noisy pass's own recurrent state (it is what carries the noise through time)
    let n = 0;
    for (const b of this.noisyStateBufs()) n += b.length;
    return n * elementBytes(this.network.backend.dtype);
  }

  saveState(): LearnerState {
    const state = this.clean.saveState(this.noisyStateBufs());
    return this.boxMuller ? state : { ...state, sampler: 'ziggurat' };
  }

  loadState(state: LearnerState): void {
    this.clean.loadState(state, this.noisyStateBufs(), this.name);
    this.boxMuller = state.sampler !== 'ziggurat';
  }
}
