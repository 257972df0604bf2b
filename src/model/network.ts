/**
 * The network: a chain of modules applied at every time step, with all parameters in one ParamStore
 * (in chain order, so the parameters of the first k modules are a prefix of the flat vector) and a
 * gradient store of the same layout.
 *
 * For the unit models rnn / gru / lstm the chain is [recurrent layer] × layers → readout (dense), with
 * PyTorch's names: layers.<i>.weight_ih, weight_hh, bias_ih, bias_hh, readout.weight, readout.bias.
 */
import type { Backend } from '../backend/backend.js';
import { ConfigError } from '../core/errors.js';
import { ParamStore, type ParamSpec } from '../core/params.js';
import { Rng } from '../core/rng.js';
import { getUnit } from '../units/index.js';
import { Dense } from '../modules/dense.js';
import { Loss, type LossSpec } from '../modules/loss.js';
import { countParams, type AnyModule } from '../modules/module.js';
import { RecurrentLayer } from '../modules/recurrent.js';

export interface ModelConfig {
  /** unit model: rnn, gru, lstm */
  model: string;
  inputSize: number;
  hidden: number;
  layers: number;
  outputSize: number;
  loss: LossSpec;
}

function positiveInt(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ConfigError(`model config: ${what} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

export function validateModelConfig(config: ModelConfig): ModelConfig {
  getUnit(config.model);
  positiveInt('inputSize', config.inputSize);
  positiveInt('hidden', config.hidden);
  positiveInt('layers', config.layers);
  positiveInt('outputSize', config.outputSize);
  new Loss(config.loss, config.outputSize);
  return config;
}

export class Network {
  readonly modules: AnyModule[];
  readonly prefixes: string[];
  /** parameters of the modules before module i (its tangent's propagated rows) */
  readonly rowsBefore: number[];
  /** parameters of module i */
  readonly ownRows: number[];
  readonly params: ParamStore;
  readonly grads: ParamStore;
  readonly loss: Loss;

  constructor(readonly config: ModelConfig, readonly backend: Backend, seed = 0) {
    validateModelConfig(config);
    const unit = getUnit(config.model);
    this.modules = [];
    this.prefixes = [];
    for (let l = 0; l < config.layers; l++) {
      this.modules.push(new RecurrentLayer(unit, l === 0 ? config.inputSize : config.hidden, config.hidden));
      this.prefixes.push(`layers.${l}.`);
    }
    this.modules.push(new Dense(config.hidden, config.outputSize));
    this.prefixes.push('readout.');
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
}
