/**
 * The parts of a checkpoint that every driver shares — the optimizer's state and the learner's state — as
 * model-file arrays (base64 float64: exact), and back. The episodic trainer and the stream both write them,
 * so a paused stream and a paused training run are the same kind of file. No file system here: `files.ts`
 * reads and writes checkpoints in Node.
 */
import { FileFormatError, show } from '../core/errors.js';
import type { RngState } from '../core/rng.js';
import type { Learner, LearnerState } from '../learners/learner.js';
import { decodeArray, encodeBase64, type EncodedArray } from '../model/format.js';
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
}

export function encodeOptimizerState(state: OptimizerState): EncodedOptimizerState {
  const buffers: Record<string, EncodedArray> = {};
  for (const [k, b] of Object.entries(state.buffers)) buffers[k] = encodeBase64(b.data);
  return { count: state.count, buffers };
}

/** restore an optimizer state in place; `source` names the file in errors */
export function decodeOptimizerStateInto(state: OptimizerState, enc: EncodedOptimizerState, source: string): void {
  if (!enc || typeof enc !== 'object' || !enc.buffers) throw new FileFormatError(`${source}: the optimizer state is missing`);
  if (!Number.isSafeInteger(enc.count) || enc.count < 0) throw new FileFormatError(`${source}: optimizer update count ${show(enc.count)} is not a count`);
  state.count = enc.count;
  for (const [k, b] of Object.entries(state.buffers)) {
    const e = enc.buffers[k];
    if (!e) throw new FileFormatError(`${source}: optimizer state '${k}' is missing`);
    const { values } = decodeArray(e, `${source}: optimizer ${k}`);
    if (values.length !== b.length) throw new FileFormatError(`${source}: optimizer ${k} has ${values.length} numbers, expected ${b.length}`);
    // a healthy run's moments are finite (a diverged run stops before it checkpoints): this is damage, not a learning rate
    const bad = firstNonFinite(values);
    if (bad >= 0) throw new FileFormatError(`${source}: optimizer state '${k}' element ${bad} is ${values[bad]}; the checkpoint's optimizer state is corrupt`);
    b.data.set(values);
  }
}

export function encodeLearnerState(learner: Learner): EncodedLearnerState {
  const ls = learner.saveState();
  return { states: ls.states.map((a) => encodeBase64(a)), traces: ls.traces.map((a) => encodeBase64(a)), rng: ls.rng };
}

export function decodeLearnerStateInto(learner: Learner, enc: EncodedLearnerState, source: string): void {
  if (!enc || typeof enc !== 'object' || !Array.isArray(enc.states) || !Array.isArray(enc.traces)) {
    throw new FileFormatError(`${source}: the learner state is missing`);
  }
  const finite = (what: string) => (a: unknown, i: number): number[] => {
    const values = decodeArray(a, `${source}: learner ${what} ${i}`).values;
    const bad = firstNonFinite(values);
    if (bad >= 0) throw new FileFormatError(`${source}: learner ${what} ${i} element ${bad} is ${values[bad]}; the checkpoint's learner state is corrupt`);
    return Array.from(values);
  };
  const state: LearnerState = { states: enc.states.map(finite('state')), traces: enc.traces.map(finite('trace')), rng: enc.rng };
  learner.loadState(state);
}
