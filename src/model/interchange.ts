/**
 * Model files ⇄ safetensors, with PyTorch's names where PyTorch has the same model (docs/interchange.md).
 *
 * rnn, gru and lstm stacks are PyTorch's nn.RNN (tanh), nn.GRU and nn.LSTM with a linear readout applied at
 * every step — same gate order, same two biases — so their tensors take the names of a module
 * `{rnn: nn.GRU(d, n, L), fc: nn.Linear(n, o)}`:
 *
 *   layers.<l>.weight_ih  ↔  rnn.weight_ih_l<l>        readout.weight  ↔  fc.weight
 *   layers.<l>.weight_hh  ↔  rnn.weight_hh_l<l>        readout.bias    ↔  fc.bias
 *   layers.<l>.bias_ih    ↔  rnn.bias_ih_l<l>
 *   layers.<l>.bias_hh    ↔  rnn.bias_hh_l<l>
 *
 * Every other model (and any other parameter, e.g. decorrelation matrices) keeps the project's names. Synapse
 * masks travel as `masks.<name>`. The metadata holds the model config as JSON (`onward.config`), so an
 * exported file imports back to the same model; a file from PyTorch without it is read by its names and shapes.
 */
import { ConfigError, FileFormatError } from '../core/errors.js';
import type { LossSpec } from '../modules/loss.js';
import { LIBRARY, MODEL_FORMAT, MODEL_VERSION, decodeArray, encodePlain, type EncodedArray, type ModelFile } from './format.js';
import { validateModelConfig, type ModelConfig } from './network.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsDType, type Tensor } from './safetensors.js';

export type NameScheme = 'pytorch' | 'onward';

const torchModels: Readonly<Record<string, number>> = { rnn: 1, gru: 3, lstm: 4 }; // gate blocks G

/** whether a model's tensors take PyTorch's names */
export function hasTorchNames(config: ModelConfig): boolean {
  return config.model in torchModels;
}

/** the exported name of a parameter under a scheme */
export function exportName(name: string, scheme: NameScheme): string {
  if (scheme === 'onward') return name;
  const m = /^layers\.(\d+)\.(weight_ih|weight_hh|bias_ih|bias_hh)$/.exec(name);
  if (m) return `rnn.${m[2]}_l${m[1]}`;
  if (name === 'readout.weight' || name === 'readout.bias') return `fc.${name.slice(8)}`;
  return name;
}

/** the project's name of an exported tensor */
export function projectName(name: string): string {
  const m = /^rnn\.(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)$/.exec(name);
  if (m) return `layers.${m[2]}.${m[1]}`;
  if (name === 'fc.weight' || name === 'fc.bias') return `readout.${name.slice(3)}`;
  return name;
}

export interface ExportOptions {
  /** F32 (what PyTorch uses; exact for a float32 run's weights) or F64 (exact always) */
  dtype?: SafetensorsDType;
  /** default: 'pytorch' for rnn/gru/lstm, 'onward' otherwise */
  names?: NameScheme;
}

export function modelToSafetensors(file: ModelFile, options: ExportOptions = {}): Uint8Array {
  const config = file.config as ModelConfig;
  const dtype = options.dtype ?? 'F32';
  const scheme = options.names ?? (hasTorchNames(config) ? 'pytorch' : 'onward');
  if (scheme === 'pytorch' && !hasTorchNames(config))
    throw new ConfigError(`PyTorch names are for rnn, gru and lstm stacks; a ${config.model} model keeps onward's names (names 'onward')`);
  const tensors = new Map<string, Tensor>();
  const add = (name: string, enc: EncodedArray, what: string): void => {
    const { shape, values } = decodeArray(enc, what);
    tensors.set(name, { shape, dtype, values });
  };
  for (const [name, enc] of Object.entries(file.params)) add(exportName(name, scheme), enc, `parameter '${name}'`);
  for (const [name, enc] of Object.entries(file.masks ?? {})) add(`masks.${exportName(name, scheme)}`, enc, `mask '${name}'`);
  return encodeSafetensors(tensors, {
    format: 'onward.model',
    'onward.version': String(MODEL_VERSION),
    'onward.library': LIBRARY,
    'onward.names': scheme,
    'onward.config': JSON.stringify(config),
  });
}

export interface ImportOptions {
  /** a file without onward's metadata: the loss of its readout (default mse) */
  loss?: LossSpec;
}

export function safetensorsToModel(bytes: Uint8Array, source: string, options: ImportOptions = {}): ModelFile<ModelConfig> {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  let config: ModelConfig;
  if (metadata['onward.config']) {
    try {
      config = JSON.parse(metadata['onward.config']) as ModelConfig;
    } catch (e) {
      throw new FileFormatError(`${source}: metadata 'onward.config' is not JSON (${(e as Error).message})`);
    }
  } else config = inferTorchConfig(tensors, source, options.loss ?? { kind: 'mse' });
  validateModelConfig(config);
  const params: Record<string, EncodedArray> = {},
    masks: Record<string, EncodedArray> = {};
  for (const [name, t] of tensors) {
    if (name.startsWith('masks.')) masks[projectName(name.slice(6))] = encodePlain(t.values, t.shape);
    else params[projectName(name)] = encodePlain(t.values, t.shape);
  }
  return {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    library: LIBRARY,
    config,
    params,
    ...(Object.keys(masks).length ? { masks } : {}),
  };
}

/** the model config of a PyTorch {rnn: nn.RNN/GRU/LSTM, fc: nn.Linear} state dict, from its names and shapes */
function inferTorchConfig(tensors: ReadonlyMap<string, Tensor>, source: string, loss: LossSpec): ModelConfig {
  const need = (name: string): Tensor => {
    const t = tensors.get(name);
    if (!t)
      throw new FileFormatError(
        `${source}: no onward metadata and no '${name}': import reads onward exports and PyTorch {rnn: nn.RNN|GRU|LSTM, fc: nn.Linear} state dicts`,
      );
    return t;
  };
  const ih0 = need('rnn.weight_ih_l0'),
    hh0 = need('rnn.weight_hh_l0'),
    fc = need('fc.weight');
  const n = hh0.shape[1]!,
    G = hh0.shape[0]! / n;
  const model = Object.entries(torchModels).find(([, g]) => g === G)?.[0];
  if (!model)
    throw new FileFormatError(
      `${source}: rnn.weight_hh_l0 is ${formatPair(hh0.shape)}: ${G} gate blocks of ${n}, which is none of rnn (1), gru (3), lstm (4)`,
    );
  let layers = 0;
  while (tensors.has(`rnn.weight_ih_l${layers}`)) layers++;
  const outputSize = fc.shape[0]!;
  return { model, inputSize: ih0.shape[1]!, hidden: n, layers, outputSize, loss };
}

function formatPair(shape: number[]): string {
  return shape.join('×');
}
