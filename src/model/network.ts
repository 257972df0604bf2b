/**
 * The network: a chain of modules applied at every time step, with residual additions, and all
 * parameters in one ParamStore (in chain order, so the parameters of the first k modules are a prefix of
 * the flat vector) and a gradient store of the same layout.
 *
 * rnn / gru / lstm:  [recurrent layer] × layers → readout (dense), PyTorch's names:
 *   layers.<i>.weight_ih, weight_hh, bias_ih, bias_hh, readout.weight, readout.bias.
 * lru (the online-LRU paper's stack, pre-norm):
 *   encoder (dense) → [LayerNorm → LRU → GELU → dropout → GLU → dropout → + block input] × layers
 *   → (pool_st) → decoder (dense);  names encoder.*, layers.<i>.norm.*, layers.<i>.lru.*, layers.<i>.glu.*, decoder.*
 *
 * The chain also knows how to take one time step's derivatives in both directions (backwardStep,
 * tangentStep): learners supply what happens inside recurrent modules; the network walks the chain and the
 * residual additions.
 */
import type { Backend, Buf } from '../backend/backend.js';
import type { ModelName, NameOr } from '../core/names.js';
import { ConfigError, show } from '../core/errors.js';
import { checkModelMemory } from '../core/limits.js';
import { ParamStore, type ParamSpec } from '../core/params.js';
import { Rng } from '../core/rng.js';
import { createUnit, getUnit, unitModels } from '../units/index.js';
import { Dense } from '../modules/dense.js';
import { Dropout } from '../modules/dropout.js';
import { Gelu } from '../modules/gelu.js';
import { Glu } from '../modules/glu.js';
import { LayerNorm } from '../modules/layernorm.js';
import { Loss, type LossSpec } from '../modules/loss.js';
import { LruLayer } from '../modules/lru.js';
import {
  countParams,
  type AnyModule,
  type ModuleCache,
  type RecurrentModule,
  type RecurrentState,
  type StepContext,
} from '../modules/module.js';
import { CumMeanPool } from '../modules/pool.js';
import { RecurrentLayer } from '../modules/recurrent.js';

export interface ModelConfig {
  /** rnn, gru, lstm (a stack of recurrent layers) or lru (the LRU stack architecture) */
  model: NameOr<ModelName>;
  inputSize: number;
  /** units per layer; for lru the model width H (d_model) */
  hidden: number;
  layers: number;
  outputSize: number;
  loss: LossSpec;
  /** lru: complex states per layer N (d_hidden); default hidden/2 */
  stateSize?: number;
  /** lru: |λ| at initialisation uniform on [rMin, rMax] by area; phases in [0, maxPhase) */
  rMin?: number;
  rMax?: number;
  maxPhase?: number;
  /** lru: dropout probability in each block */
  dropout?: number;
  /** lru: 'pool_st' for sequence classification with a per-step loss; 'none' for per-step outputs */
  pooling?: 'none' | 'pool_st';
  /** egru, snu, lif: the pseudo-/surrogate derivative's height γ and (half-)width w */
  dampening?: number;
  width?: number;
  /**
   * Parameter sparsity of the recurrent weights (weight_hh, and weight_ih with maskInput): the fraction kept.
   * 'static' draws a random mask at initialisation (the sparse-RTRL paper); 'magnitude' starts dense and
   * the trainer prunes the smallest weights on a schedule. Masked weights are exactly zero, always.
   */
  density?: number;
  maskMethod?: 'static' | 'magnitude';
  maskInput?: boolean;
  /**
   * false: no recurrent synapses — weight_hh is held at exactly zero by an all-zero mask (stored with the
   * model like any mask), so each layer is diagonal in time (a layer sees its own past only through its
   * units' own states). Default true.
   */
  recurrent?: boolean;
  /**
   * rnn / gru / lstm / egru: every layer decorrelates its inputs with a learned matrix D (identity at the
   * start, updated by the perturbation learners' decorrelation rule, never by gradient): parameters
   * layers.<i>.decor_ih, decor_hh, readout.decor.
   */
  decorrelate?: boolean;
}

export const modelNames = [...Object.keys(unitModels), 'lru'];

function positiveInt(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new ConfigError(`model config: ${what} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

export function validateModelConfig(config: ModelConfig): ModelConfig {
  if (!config || typeof config !== 'object' || Array.isArray(config))
    throw new ConfigError(
      `model config: expected an object {model, inputSize, hidden, layers, outputSize, loss}, got ${JSON.stringify(config)}`,
    );
  if (typeof config.model !== 'string') throw new ConfigError(`model config: model must be a model name, got ${show(config.model)}`);
  if (config.model !== 'lru') getUnit(config.model);
  positiveInt('inputSize', config.inputSize);
  positiveInt('hidden', config.hidden);
  positiveInt('layers', config.layers);
  positiveInt('outputSize', config.outputSize);
  if (config.stateSize !== undefined) positiveInt('stateSize', config.stateSize);
  if (config.density !== undefined && !(typeof config.density === 'number' && config.density > 0 && config.density <= 1)) {
    throw new ConfigError(`model config: density must be in (0, 1], got ${show(config.density)}`);
  }
  if (config.maskMethod !== undefined && config.maskMethod !== 'static' && config.maskMethod !== 'magnitude') {
    throw new ConfigError(`model config: maskMethod must be 'static' or 'magnitude', got ${show(config.maskMethod)}`);
  }
  if (config.recurrent !== undefined && typeof config.recurrent !== 'boolean') {
    throw new ConfigError(`model config: recurrent must be true or false, got ${JSON.stringify(config.recurrent)}`);
  }
  if (config.recurrent === false && config.model === 'lru')
    throw new ConfigError(`model config: recurrent: false applies to recurrent-layer models, not 'lru'`);
  if (config.pooling !== undefined && config.pooling !== 'none' && config.pooling !== 'pool_st') {
    throw new ConfigError(`model config: pooling must be 'none' or 'pool_st', got ${show(config.pooling)}`);
  }
  if (config.decorrelate !== undefined && typeof config.decorrelate !== 'boolean') {
    throw new ConfigError(`model config: decorrelate must be true or false, got ${JSON.stringify(config.decorrelate)}`);
  }
  if (config.decorrelate && config.model === 'lru')
    throw new ConfigError('model config: decorrelate is available for rnn, gru, lstm and egru, not for the lru stack');
  if (!config.loss || typeof config.loss !== 'object')
    throw new ConfigError(`model config: loss must be {kind: 'mse'} or {kind: 'ce', classes}, got ${JSON.stringify(config.loss)}`);
  new Loss(config.loss, config.outputSize);
  checkModelMemory(config); // before any buffer: the declared sizes against the memory limit (core/limits.ts)
  return config;
}

interface Piece {
  module: AnyModule;
  prefix: string;
  /** add the input of module `skipFrom` (a block's input) to this module's output */
  skipFrom?: number;
}

function buildChain(c: ModelConfig): Piece[] {
  const pieces: Piece[] = [];
  if (c.model === 'lru') {
    const H = c.hidden,
      N = c.stateSize ?? Math.max(1, Math.floor(H / 2)),
      p = c.dropout ?? 0;
    pieces.push({ module: new Dense(c.inputSize, H), prefix: 'encoder.' });
    for (let l = 0; l < c.layers; l++) {
      const start = pieces.length;
      pieces.push({ module: new LayerNorm(H), prefix: `layers.${l}.norm.` });
      pieces.push({
        module: new LruLayer(H, N, { rMin: c.rMin ?? 0, rMax: c.rMax ?? 1, maxPhase: c.maxPhase ?? 6.28 }),
        prefix: `layers.${l}.lru.`,
      });
      pieces.push({ module: new Gelu(H), prefix: `layers.${l}.gelu.` });
      pieces.push({ module: new Dropout(H, p), prefix: `layers.${l}.drop1.` });
      pieces.push({ module: new Glu(H), prefix: `layers.${l}.glu.` });
      pieces.push({ module: new Dropout(H, p), prefix: `layers.${l}.drop2.`, skipFrom: start });
    }
    if (c.pooling === 'pool_st') pieces.push({ module: new CumMeanPool(H), prefix: 'pool.' });
    pieces.push({ module: new Dense(H, c.outputSize), prefix: 'decoder.' });
    return pieces;
  }
  const unit = createUnit(c.model, { dampening: c.dampening, width: c.width });
  for (let l = 0; l < c.layers; l++) {
    pieces.push({
      module: new RecurrentLayer(unit, l === 0 ? c.inputSize : c.hidden, c.hidden, c.decorrelate === true),
      prefix: `layers.${l}.`,
    });
  }
  pieces.push({ module: new Dense(c.hidden, c.outputSize, true, c.decorrelate === true), prefix: 'readout.' });
  return pieces;
}

/** What a learner does inside a recurrent module when the network walks one step backward. */
export type RecurrentBackward = (index: number, module: RecurrentModule, cache: ModuleCache, dy: Buf, dx: Buf | null) => void;

/** Buffers for walking one step backward through the chain (made once per learner). */
export interface BackwardWorkspace {
  /** ∂L/∂(output of module i) */
  deltas: Buf[];
  /** for modules that end a residual block: the delta held for the block's input */
  skipDeltas: (Buf | null)[];
}

export class Network {
  readonly modules: AnyModule[];
  readonly prefixes: string[];
  /** skipFrom[i] = j: module i's output gets the input of module j added (residual) */
  readonly skipFrom: (number | null)[];
  /** parameters of the modules before module i (its tangent's propagated rows) */
  readonly rowsBefore: number[];
  /** parameters of module i */
  readonly ownRows: number[];
  readonly params: ParamStore;
  readonly grads: ParamStore;
  readonly loss: Loss;
  /** synapse masks by parameter name (1 = kept, 0 = pruned), present when the config asks for sparsity */
  readonly masks = new Map<string, Buf>();

  constructor(
    readonly config: ModelConfig,
    readonly backend: Backend,
    seed = 0,
  ) {
    validateModelConfig(config);
    const pieces = buildChain(config);
    this.modules = pieces.map((p) => p.module);
    this.prefixes = pieces.map((p) => p.prefix);
    this.skipFrom = pieces.map((p) => p.skipFrom ?? null);
    const specs: ParamSpec[] = [];
    this.rowsBefore = [];
    this.ownRows = [];
    this.modules.forEach((m, i) => {
      const own = m.paramSpecs();
      this.rowsBefore.push(countParams(specs));
      this.ownRows.push(countParams(own));
      for (const s of own) specs.push({ name: this.prefixes[i] + s.name, shape: s.shape });
    });
    this.params = new ParamStore(backend, specs);
    this.grads = this.params.like();
    this.loss = new Loss(config.loss, config.outputSize);
    const rng = new Rng(seed);
    this.modules.forEach((m, i) => {
      m.init(this.params, this.prefixes[i]!, rng);
      m.bind(this.params, this.grads, this.prefixes[i]!);
    });
    if (config.density !== undefined && config.model !== 'lru') {
      const masked = this.params.names().filter((n) => n.endsWith('.weight_hh') || (config.maskInput === true && n.endsWith('.weight_ih')));
      const keep = config.maskMethod === 'magnitude' ? 1 : config.density;
      for (const name of masked) {
        const mask = backend.alloc(this.params.entry(name).size);
        const d = mask.data;
        for (let i = 0; i < d.length; i++) d[i] = keep >= 1 || rng.bernoulli(keep) ? 1 : 0;
        this.masks.set(name, mask);
      }
      this.applyMasks();
    }
    if (config.recurrent === false) {
      for (const name of this.params.names().filter((n) => n.endsWith('.weight_hh'))) {
        const mask = this.masks.get(name) ?? backend.alloc(this.params.entry(name).size);
        backend.fill(mask, 0);
        this.masks.set(name, mask);
      }
      this.applyMasks();
    }
  }

  /** zero the masked weights and their gradients (after every gradient computation and every update) */
  applyMasks(): void {
    for (const [name, mask] of this.masks) {
      this.backend.mul(this.params.buf(name), mask, this.params.buf(name));
      this.backend.mul(this.grads.buf(name), mask, this.grads.buf(name));
    }
  }

  /** fraction of the masked parameters' entries that are kept */
  maskDensity(): number {
    let kept = 0,
      total = 0;
    for (const mask of this.masks.values()) {
      kept += this.backend.sum(mask);
      total += mask.length;
    }
    return total === 0 ? 1 : kept / total;
  }

  /** magnitude pruning: in each masked parameter keep the `density` fraction of entries largest in |w| */
  pruneByMagnitude(density: number): void {
    for (const [name, mask] of this.masks) {
      const w = this.params.buf(name).data,
        m = mask.data;
      const keep = Math.max(1, Math.round(density * w.length));
      const order = Array.from(w, (v, i) => [Math.abs(v) * m[i]!, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
      m.fill(0);
      for (let k = 0; k < keep; k++) m[order[k]![1]] = 1;
    }
    this.applyMasks();
  }

  get inputSize(): number {
    return this.config.inputSize;
  }

  get outputSize(): number {
    return this.config.outputSize;
  }

  /** total number of parameters */
  get size(): number {
    return this.params.size;
  }

  zeroGrads(): void {
    this.backend.fill(this.grads.flat, 0);
  }

  /** one step forward: acts[i] is module i's output; returns the last */
  forwardStep(input: Buf, acts: Buf[], caches: ModuleCache[], states: (RecurrentState | null)[], ctx: StepContext): Buf {
    const mods = this.modules;
    let x = input;
    for (let i = 0; i < mods.length; i++) {
      const m = mods[i]!;
      if (m.recurrent) m.forward(x, acts[i]!, caches[i]!, ctx, states[i]!);
      else m.forward(x, acts[i]!, caches[i]!, ctx);
      const j = this.skipFrom[i];
      if (j !== null && j !== undefined) this.backend.axpy(1, j === 0 ? input : acts[j - 1]!, acts[i]!);
      x = acts[i]!;
    }
    return x;
  }

  createBackwardWorkspace(B: number): BackwardWorkspace {
    const be = this.backend;
    return {
      deltas: this.modules.map((m) => be.alloc(B * m.outSize)),
      skipDeltas: this.modules.map((m, i) => (this.skipFrom[i] !== null ? be.alloc(B * m.outSize) : null)),
    };
  }

  /**
   * One step backward through the chain from ∂L/∂ŷ (dOut): feed-forward modules by their VJP, recurrent
   * ones by the learner's `recurrent`, residual blocks by adding the block output's delta to its input's.
   */
  backwardStep(caches: ModuleCache[], dOut: Buf, ws: BackwardWorkspace, recurrent: RecurrentBackward): void {
    const mods = this.modules,
      be = this.backend,
      top = mods.length - 1;
    be.copy(dOut, ws.deltas[top]!);
    for (let i = top; i >= 0; i--) {
      const m = mods[i]!;
      const dy = ws.deltas[i]!;
      const dx = i > 0 ? ws.deltas[i - 1]! : null;
      const skip = ws.skipDeltas[i];
      if (skip) be.copy(dy, skip); // held until the block's first module has written its input's delta
      if (m.recurrent) recurrent(i, m, caches[i]!, dy, dx);
      else m.backward(caches[i]!, dy, dx);
      // module i is the first of blocks ending at k: add their held deltas to module i's input delta
      if (dx) {
        for (let k = i; k <= top; k++) if (this.skipFrom[k] === i) be.axpy(1, ws.skipDeltas[k]!, dx);
      }
    }
  }
}
