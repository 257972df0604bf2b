/**
 * The model-file format (docs/design.md §7), with no file system: encoding and decoding arrays, parameters and masks,
 * and checking a file's envelope. Browsers use this module directly; `io.ts` adds reading and writing files
 * in Node (and re-exports everything here).
 *
 *   {format: "onward.model", version: 1, library, config, params: {name: {shape, data}}}
 * plus, in a checkpoint, `checkpoint: {...}` with optimizer state, learner state, RNG states and counters.
 *
 * Arrays are `{shape, data: [numbers]}` (readable, editable) or `{shape, dtype: "f64" | "f32", base64}`
 * (compact and exact; used for optimizer moments and learner traces, and for every parameter of
 * BINARY_FROM entries or more: a weight matrix of a float32 run costs 5.3 bytes per number as f32 base64
 * instead of ~20 as decimal text, and f32 is chosen only when every value is a float32 number, so exactly). JSON has no NaN, Infinity or −0, so
 * these are written in `data` as the strings "NaN", "Infinity", "-Infinity", "-0" and read back
 * as numbers — parameters must still be finite when loaded, and a file with NaN weights is refused by name.
 */
import { bytesFromBase64, bytesToBase64 } from '../core/base64.js';
import { FileFormatError, NonFiniteError, OnwardError, show } from '../core/errors.js';
import { formatShape, shapeSize } from '../core/shapes.js';
import { parameterFloor, type ModelSizes } from '../core/limits.js';
import type { ParamStore } from '../core/params.js';

export const MODEL_FORMAT = 'onward.model';
export const MODEL_VERSION = 1;
export const LIBRARY = 'onward 0.1.0';

export type EncodedArray = { shape: number[]; data: (number | string)[] } | { shape: number[]; dtype: 'f64' | 'f32'; base64: string };

/** the task a model was trained on, recorded in its model file so that the file alone can be evaluated */
export interface ModelTask {
  name: string;
  preset: string;
  settings: Record<string, number>;
}

export interface ModelFile<C = unknown, K = unknown> {
  format: typeof MODEL_FORMAT;
  version: number;
  library: string;
  config: C;
  /** the task, preset and task settings of the run that trained it (absent in files of older versions) */
  task?: ModelTask;
  params: Record<string, EncodedArray>;
  /** synapse masks (0 or 1 per entry) of sparse models */
  masks?: Record<string, EncodedArray>;
  checkpoint?: K;
}

export function encodePlain(values: ArrayLike<number>, shape: number[] = [values.length]): EncodedArray {
  const data: (number | string)[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // JSON has no NaN, ±Infinity or −0; write them as strings so a checkpoint resumes bit for bit
    data[i] = Object.is(v, -0) ? '-0' : Number.isFinite(v) ? v : String(v);
  }
  return { shape, data };
}

export function encodeBase64(values: ArrayLike<number>, shape: number[] = [values.length]): EncodedArray {
  const f = Float64Array.from(values);
  return { shape, dtype: 'f64', base64: bytesToBase64(new Uint8Array(f.buffer)) };
}

/** decode an array; `what` names it in errors */
export function decodeArray(enc: unknown, what: string): { shape: number[]; values: Float64Array } {
  if (!enc || typeof enc !== 'object')
    throw new FileFormatError(`${what}: expected an array object {shape, data} or {shape, dtype, base64}`);
  const e = enc as Record<string, unknown>;
  const shape = e.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
    throw new FileFormatError(`${what}: 'shape' must be an array of non-negative integers`);
  const n = shapeSize(shape);
  let values: Float64Array;
  if (Array.isArray(e.data)) {
    values = new Float64Array(e.data.length);
    e.data.forEach((v, i) => {
      if (typeof v === 'number') values[i] = v;
      else if (v === 'NaN' || v === 'Infinity' || v === '-Infinity' || v === '-0') values[i] = Number(v);
      else throw new FileFormatError(`${what}: element ${i} is ${JSON.stringify(v)}, not a number`);
    });
  } else if (typeof e.base64 === 'string' && (e.dtype === 'f64' || e.dtype === 'f32')) {
    let bytes: Uint8Array;
    try {
      bytes = bytesFromBase64(e.base64);
    } catch {
      throw new FileFormatError(`${what}: 'base64' holds characters outside the base64 alphabet`);
    }
    const width = e.dtype === 'f64' ? 8 : 4;
    if (bytes.length !== n * width)
      throw new FileFormatError(`${what}: base64 holds ${bytes.length} bytes, shape ${formatShape(shape)} needs ${n * width}`);
    values = e.dtype === 'f64' ? new Float64Array(bytes.buffer) : Float64Array.from(new Float32Array(bytes.buffer)); // a fresh, aligned buffer
  } else {
    throw new FileFormatError(`${what}: expected 'data' (numbers) or 'dtype' ('f64' | 'f32') with 'base64'`);
  }
  if (values.length !== n) throw new FileFormatError(`${what}: ${values.length} numbers for shape ${formatShape(shape)} (${n})`);
  return { shape, values };
}

/** parameters with at least this many entries are stored as base64 (small ones stay readable decimals) */
export const BINARY_FROM = 1024;

/** base64 in the narrowest float type that holds every value exactly (f32 for a float32 run's weights) */
export function encodeExact(values: ArrayLike<number>, shape: number[] = [values.length]): EncodedArray {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Math.fround(v) !== v && !Number.isNaN(v)) return encodeBase64(values, shape);
  }
  return { shape, dtype: 'f32', base64: bytesToBase64(new Uint8Array(Float32Array.from(values).buffer)) };
}

export function encodeParams(params: ParamStore, binaryFrom = BINARY_FROM): Record<string, EncodedArray> {
  const out: Record<string, EncodedArray> = {};
  for (const name of params.names()) {
    const v = params.get(name),
      shape = [...params.shape(name)];
    out[name] = v.length >= binaryFrom ? encodeExact(v, shape) : encodePlain(v, shape);
  }
  return out;
}

/** load every parameter of the store from a file's `params`, refusing missing, extra, misshapen or non-finite ones */
export function decodeParamsInto(params: ParamStore, encoded: unknown, file: string): void {
  if (!encoded || typeof encoded !== 'object') throw new FileFormatError(`${file}: 'params' is missing`);
  const names = params.names();
  const given = Object.keys(encoded);
  const missing = names.filter((n) => !given.includes(n));
  const extra = given.filter((n) => !names.includes(n));
  if (missing.length || extra.length) {
    throw new FileFormatError(
      `${file}: the parameters do not match the model config` +
        (missing.length ? `; missing: ${missing.join(', ')}` : '') +
        (extra.length ? `; unexpected: ${extra.join(', ')}` : ''),
    );
  }
  for (const name of names) {
    const { shape, values } = decodeArray((encoded as Record<string, unknown>)[name], `${file}: parameter '${name}'`);
    const want = params.shape(name);
    if (shape.length !== want.length || shape.some((d, i) => d !== want[i])) {
      throw new FileFormatError(`${file}: parameter '${name}' has shape ${formatShape(shape)}, the model needs ${formatShape(want)}`);
    }
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new NonFiniteError(`${file}: parameter '${name}' element ${bad} is ${values[bad]}; weights must be finite`);
    params.set(name, values);
  }
}

/** the masks of a sparse network, for a model file (undefined when it has none) */
export function encodeMasks(
  masks: ReadonlyMap<string, { data: ArrayLike<number>; length: number }>,
): Record<string, EncodedArray> | undefined {
  if (masks.size === 0) return undefined;
  const out: Record<string, EncodedArray> = {};
  for (const [name, m] of masks) out[name] = encodePlain(m.data);
  return out;
}

/** load a file's masks into the network's, refusing missing, extra, misshapen or non-0/1 entries */
export function decodeMasksInto(
  masks: ReadonlyMap<string, { data: { set(v: ArrayLike<number>): void }; length: number }>,
  encoded: unknown,
  file: string,
): void {
  const given = encoded && typeof encoded === 'object' ? Object.keys(encoded) : [];
  const names = [...masks.keys()];
  const missing = names.filter((n) => !given.includes(n)),
    extra = given.filter((n) => !names.includes(n));
  if (missing.length || extra.length) {
    throw new FileFormatError(
      `${file}: the synapse masks do not match the model config` +
        (missing.length ? `; missing: ${missing.join(', ')}` : '') +
        (extra.length ? `; unexpected: ${extra.join(', ')}` : ''),
    );
  }
  for (const name of names) {
    const { values } = decodeArray((encoded as Record<string, unknown>)[name], `${file}: mask '${name}'`);
    const m = masks.get(name)!;
    if (values.length !== m.length)
      throw new FileFormatError(`${file}: mask '${name}' has ${values.length} entries, the model needs ${m.length}`);
    const bad = values.findIndex((v) => v !== 0 && v !== 1);
    if (bad >= 0) throw new FileFormatError(`${file}: mask '${name}' entry ${bad} is ${values[bad]}; masks hold 0 or 1`);
    m.data.set(values);
  }
}

/** parse and check the envelope of a model file's text; `source` names it in errors (a path, or a download) */
export function parseModelFile(text: string, source: string): ModelFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FileFormatError(`model file '${source}' is not valid JSON (${(e as Error).message}); it may be truncated or corrupt`);
  }
  const f = json as Partial<ModelFile>;
  if (!f || typeof f !== 'object' || f.format !== MODEL_FORMAT) {
    throw new FileFormatError(`'${source}' is not an onward model file (format must be '${MODEL_FORMAT}')`);
  }
  if (f.version !== MODEL_VERSION)
    throw new FileFormatError(`'${source}' has model-file version ${show(f.version)}; this onward reads version ${MODEL_VERSION}`);
  if (!f.config || typeof f.config !== 'object') throw new FileFormatError(`'${source}' has no 'config'`);
  if (!f.params || typeof f.params !== 'object' || Array.isArray(f.params)) throw new FileFormatError(`'${source}' has no 'params'`);
  checkDeclaredSizes(f.config as Record<string, unknown>, f.params as Record<string, unknown>, source);
  return f as ModelFile;
}

/**
 * A file's config declares sizes (hidden, layers, …) that decide how much memory the model takes; its params
 * hold the numbers. A small file declaring a huge model is refused here, before anything is built from it.
 */
function checkDeclaredSizes(config: Record<string, unknown>, params: Record<string, unknown>, source: string): void {
  const sizes = ['inputSize', 'hidden', 'layers', 'outputSize'] as const;
  if (typeof config.model !== 'string' || !sizes.every((k) => Number.isInteger(config[k]) && (config[k] as number) >= 1)) return; // the model config check names it
  if (config.stateSize !== undefined && !(Number.isInteger(config.stateSize) && (config.stateSize as number) >= 1)) return;
  let held = 0;
  for (const enc of Object.values(params)) held += heldNumbers(enc);
  const floor = parameterFloor(config as unknown as ModelSizes);
  if (floor > held) {
    throw new FileFormatError(
      `'${source}': its config declares a ${config.model} model with hidden ${config.hidden} and layers ${config.layers}` +
        `${config.stateSize !== undefined ? ` (stateSize ${config.stateSize})` : ''}, at least ${floor} parameters, but its params hold ${held} numbers; ` +
        'the config or the parameters are damaged',
    );
  }
}

/** how many numbers an encoded array holds, without decoding it (0 for anything malformed) */
function heldNumbers(enc: unknown): number {
  if (!enc || typeof enc !== 'object') return 0;
  const e = enc as Record<string, unknown>;
  if (Array.isArray(e.data)) return e.data.length;
  if (typeof e.base64 === 'string') return Math.floor((e.base64.length * 3) / 4 / (e.dtype === 'f32' ? 4 : 8));
  return 0;
}

/** rethrow anything that is not already a typed error as a FileFormatError about `what` */
export function asFileError(e: unknown, what: string): OnwardError {
  return e instanceof OnwardError ? e : new FileFormatError(`${what}: ${(e as Error).message}`);
}
