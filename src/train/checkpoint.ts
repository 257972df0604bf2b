/**
 * The one checkpoint assembler of every driver. A model file holds the network (config, parameters, masks)
 * and the task it was trained on; a checkpoint adds what a driver needs to continue bit for bit — the
 * optimizer's state, the learner's state, the device's state (pcm) and, for a stream paused inside an update
 * window, the accumulated gradient — as model-file arrays (base64 float64: exact). The episodic trainer and the
 * stream both write and restore through here, so a paused stream and a paused training run are the same kind
 * of file with a different driver section. No file system here: `files.ts` reads and writes them in Node.
 */
import { FileFormatError, show } from '../core/errors.js';
import type { RngState } from '../core/rng.js';
import type { PcmDevice, PcmDeviceState } from '../hardware/pcm.js';
import type { Learner, LearnerState } from '../learners/learner.js';
import {
  LIBRARY,
  MODEL_FORMAT,
  MODEL_VERSION,
  decodeArray,
  decodeMasksInto,
  decodeParamsInto,
  encodeBase64,
  encodeMasks,
  encodeParams,
  type EncodedArray,
  type ModelFile,
  type ModelTask,
} from '../model/format.js';
import type { ModelConfig, Network } from '../model/network.js';
import { firstNonFinite } from './divergence.js';
import type { OptimizerState } from '../optim/optimizers.js';

export interface EncodedOptimizerState {
  count: number;
  buffers: Record<string, EncodedArray>;
}

export interface EncodedLearnerState {
  states: EncodedArray[];
  traces: EncodedArray[];
  rng: RngState;
  /** see LearnerState.sampler */
  sampler?: 'ziggurat';
}

/** what every driver's checkpoint holds besides its own section */
export interface TrainingState {
  optimizer: EncodedOptimizerState;
  learner: EncodedLearnerState;
  /** device pcm: the conductances, accumulators, clocks and the device's generator */
  device?: PcmDeviceState;
  /** the gradient accumulated over a partial update window (streams) */
  grads?: EncodedArray;
}

/** the parts of a driver that a checkpoint saves and restores */
export interface TrainingParts {
  network: Network;
  learner: Learner;
  optState: OptimizerState;
  device: PcmDevice | null;
}

/** a network as a model file, with the task it was trained on when known */
export function modelFileOf(network: Network, task?: ModelTask): ModelFile<ModelConfig> {
  const masks = encodeMasks(network.masks);
  return {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    library: LIBRARY,
    config: network.config,
    ...(task ? { task: { name: task.name, preset: task.preset, settings: { ...task.settings } } } : {}),
    params: encodeParams(network.params),
    ...(masks ? { masks } : {}),
  };
}

/** the model file and the shared checkpoint state of a driver; `section` is the driver's own */
export function checkpointFileOf<S extends object>(
  parts: TrainingParts,
  task: ModelTask | undefined,
  section: S,
  options: { grads?: boolean } = {},
): ModelFile<ModelConfig, S & TrainingState> {
  const state: TrainingState = {
    optimizer: encodeOptimizerState(parts.optState),
    learner: encodeLearnerState(parts.learner),
    ...(parts.device ? { device: parts.device.saveState() } : {}),
    ...(options.grads ? { grads: encodeBase64(parts.network.grads.flat.data) } : {}),
  };
  return { ...modelFileOf(parts.network, task), checkpoint: { ...section, ...state } };
}

/** restore a driver's parts from a checkpoint file made by `checkpointFileOf`; `source` names it in errors */
export function restoreCheckpoint(
  parts: TrainingParts,
  file: ModelFile,
  state: TrainingState,
  source: string,
  options: { grads?: boolean } = {},
): void {
  const net = parts.network;
  decodeParamsInto(net.params, file.params, source);
  decodeMasksInto(net.masks, file.masks, source);
  decodeOptimizerStateInto(parts.optState, state.optimizer, source);
  decodeLearnerStateInto(parts.learner, state.learner, source);
  if (parts.device) {
    if (!state.device) throw new FileFormatError(`${source}: the run uses device pcm but the checkpoint holds no device state`);
    parts.device.loadState(state.device);
    net.applyMasks();
  } else if (state.device) {
    throw new FileFormatError(`${source}: the checkpoint holds a pcm device state but the run has no device; resume it with device pcm`);
  }
  if (options.grads) {
    const grads = decodeArray(state.grads, `${source}: accumulated gradient`).values;
    if (grads.length !== net.size)
      throw new FileFormatError(`${source}: accumulated gradient has ${grads.length} numbers, the model has ${net.size}`);
    net.grads.flat.data.set(grads);
  }
}

export function encodeOptimizerState(state: OptimizerState): EncodedOptimizerState {
  const buffers: Record<string, EncodedArray> = {};
  for (const [k, b] of Object.entries(state.buffers)) buffers[k] = encodeBase64(b.data);
  return { count: state.count, buffers };
}

/** restore an optimizer state in place; `source` names the file in errors */
export function decodeOptimizerStateInto(state: OptimizerState, enc: EncodedOptimizerState, source: string): void {
  if (!enc || typeof enc !== 'object' || !enc.buffers) throw new FileFormatError(`${source}: the optimizer state is missing`);
  if (!Number.isSafeInteger(enc.count) || enc.count < 0)
    throw new FileFormatError(`${source}: optimizer update count ${show(enc.count)} is not a count`);
  state.count = enc.count;
  for (const [k, b] of Object.entries(state.buffers)) {
    const e = Object.hasOwn(enc.buffers, k) ? enc.buffers[k] : undefined;
    if (!e) throw new FileFormatError(`${source}: optimizer state '${k}' is missing`);
    const { values } = decodeArray(e, `${source}: optimizer ${k}`);
    if (values.length !== b.length)
      throw new FileFormatError(`${source}: optimizer ${k} has ${values.length} numbers, expected ${b.length}`);
    // a healthy run's moments are finite (a diverged run stops before it checkpoints): this is damage, not a learning rate
    const bad = firstNonFinite(values);
    if (bad >= 0)
      throw new FileFormatError(
        `${source}: optimizer state '${k}' element ${bad} is ${values[bad]}; the checkpoint's optimizer state is corrupt`,
      );
    b.data.set(values);
  }
}

export function encodeLearnerState(learner: Learner): EncodedLearnerState {
  const ls = learner.saveState();
  return {
    states: ls.states.map((a) => encodeBase64(a)),
    traces: ls.traces.map((a) => encodeBase64(a)),
    rng: ls.rng,
    ...(ls.sampler ? { sampler: ls.sampler } : {}),
  };
}

export function decodeLearnerStateInto(learner: Learner, enc: EncodedLearnerState, source: string): void {
  if (!enc || typeof enc !== 'object' || !Array.isArray(enc.states) || !Array.isArray(enc.traces)) {
    throw new FileFormatError(`${source}: the learner state is missing`);
  }
  const finite =
    (what: string) =>
    (a: unknown, i: number): number[] => {
      const values = decodeArray(a, `${source}: learner ${what} ${i}`).values;
      const bad = firstNonFinite(values);
      if (bad >= 0)
        throw new FileFormatError(
          `${source}: learner ${what} ${i} element ${bad} is ${values[bad]}; the checkpoint's learner state is corrupt`,
        );
      return Array.from(values);
    };
  if (enc.sampler !== undefined && enc.sampler !== 'ziggurat')
    throw new FileFormatError(`${source}: the learner state's sampler is '${String(enc.sampler)}', expected 'ziggurat' or none`);
  const state: LearnerState = {
    states: enc.states.map(finite('state')),
    traces: enc.traces.map(finite('trace')),
    rng: enc.rng,
    ...(enc.sampler ? { sampler: enc.sampler } : {}),
  };
  learner.loadState(state);
}
