/**
 * Inference: a model file in, a ready network out — no learner, no task. `predict` runs whole sequences,
 * `stepper()` one step at a time for streams (it keeps the recurrent state between calls).
 *
 *   const model = modelFromFile(parseModelFile(text, 'm.json'));      // or loadModel('m.json') in Node
 *   const y = model.predict(x);            // x: T × B × inputSize → y: T × B × outputSize
 *   const s = model.stepper(1);  s.step([0.3, 1]);  s.step([0.1, 0]);  s.reset();
 *
 * Outputs are the readout's values: logits for classification models (their largest entry is the predicted
 * class), predictions for regression models. Evaluation mode: dropout off. The default backend is `ts` in
 * float64 (the reference numerics); pass `backend` for another.
 */
import type { Backend } from '../backend/backend.js';
import { createBackend } from '../backend/index.js';
import { ShapeError } from '../core/errors.js';
import type { ModuleCache } from '../modules/module.js';
import { decodeMasksInto, decodeParamsInto, type ModelFile } from './format.js';
import { ForwardPass } from './forward.js';
import { Network, validateModelConfig, type ModelConfig } from './network.js';

/** a sequence as nested arrays: T steps × B samples × width */
export type Sequence = readonly (readonly (readonly number[])[])[];

export interface ModelOptions {
  backend?: Backend;
  /** names the model in errors (a path, a URL) */
  source?: string;
}

/** One-step inference over a batch of B streams; the recurrent state carries from call to call. */
export class Stepper {
  private readonly fwd: ForwardPass;
  private readonly caches: ModuleCache[];

  constructor(
    readonly network: Network,
    readonly B: number,
  ) {
    this.fwd = new ForwardPass(network, B);
    this.fwd.ctx.training = false;
    this.caches = network.modules.map((m) => m.createCache(network.backend, B));
  }

  /** one step: x is B × inputSize (flat), the result B × outputSize (a fresh array) */
  step(x: ArrayLike<number>): Float64Array {
    this.fwd.load(x);
    return Float64Array.from(this.fwd.run(this.caches).data);
  }

  /** start new sequences: the recurrent states return to zero */
  reset(): void {
    this.fwd.resetStates();
  }
}

export class Model {
  constructor(readonly network: Network) {}

  /** a ready model from a parsed model file (or a checkpoint: its training state is ignored) */
  static fromFile(file: ModelFile, options: ModelOptions = {}): Model {
    const source = options.source ?? 'model file';
    const config = validateModelConfig(file.config as ModelConfig);
    const network = new Network(config, options.backend ?? createBackend({ backend: 'ts', dtype: 'float64' }));
    decodeParamsInto(network.params, file.params, source);
    decodeMasksInto(network.masks, file.masks, source);
    network.applyMasks();
    return new Model(network);
  }

  get config(): ModelConfig {
    return this.network.config;
  }

  get inputSize(): number {
    return this.network.inputSize;
  }

  get outputSize(): number {
    return this.network.outputSize;
  }

  /** a stepper over B streams, starting from zero state */
  stepper(B = 1): Stepper {
    if (!Number.isInteger(B) || B < 1) throw new ShapeError(`stepper: B must be a positive integer, got ${B}`);
    return new Stepper(this.network, B);
  }

  /** whole sequences from zero state: T × B × inputSize in, T × B × outputSize out */
  predict(sequence: Sequence): number[][][] {
    const T = sequence.length;
    if (T === 0) return [];
    const B = sequence[0]!.length,
      d = this.inputSize;
    const flat = sequence.map((step, t) => {
      if (step.length !== B) throw new ShapeError(`predict: step ${t} has ${step.length} samples, step 0 has ${B}`);
      const x = new Float64Array(B * d);
      step.forEach((row, b) => {
        if (row.length !== d) throw new ShapeError(`predict: step ${t}, sample ${b} has ${row.length} inputs, the model takes ${d}`);
        x.set(row, b * d);
      });
      return x;
    });
    const o = this.outputSize;
    return this.predictFlat(flat, B).map((y) => Array.from({ length: B }, (_, b) => Array.from(y.subarray(b * o, (b + 1) * o))));
  }

  /** whole sequences as flat steps: T arrays of B × inputSize in, T arrays of B × outputSize out */
  predictFlat(x: readonly ArrayLike<number>[], B: number): Float64Array[] {
    const s = this.stepper(B);
    return x.map((xt) => s.step(xt));
  }
}

/** a ready model from a parsed model file */
export function modelFromFile(file: ModelFile, options: ModelOptions = {}): Model {
  return Model.fromFile(file, options);
}
