/**
 * Limits as data: how big a file each reader accepts, how far a compressed file may inflate, and how much
 * memory the sizes a user (or a file) declares may imply before anything is allocated. A file of 2 kB that
 * declares `layers: 1000000`, a link to /dev/zero given as a model file, or `--batch 200000` must end in a
 * typed error that names the value, the limit and how to raise it — not in a process that grows until the
 * machine runs out of memory.
 *
 * One limits object for the whole process: `setLimits({...})` in the API, `--max-memory SIZE` on the command
 * line (SIZE in bytes or with a unit: 512M, 4G). The estimates are deliberately simple upper bounds (float64,
 * four copies of every parameter: values, gradients, two optimizer moments); they refuse what could never fit,
 * and the limit is there to be raised by someone who knows their machine.
 *
 * No file system here (browsers import core); `files.ts` applies the file limits in Node.
 */
import { formatBytes } from './bytes.js';
import { ConfigError, LimitError } from './errors.js';

// the messages' byte counts (core/bytes.ts), also where the wasm backend imports them with the limits
export { formatBytes };

/** the kinds of file the project reads, each with its own size limit */
export type FileKind = 'model' | 'config' | 'sequence' | 'idx' | 'results';

export interface Limits {
  /** bytes the declared sizes of a model, a batch and a task may imply together (`--max-memory`) */
  maxMemory: number;
  /** bytes of each kind of file a reader accepts before reading it */
  fileBytes: Record<FileKind, number>;
  /** bytes a gzip-compressed IDX file may inflate to */
  inflatedBytes: number;
  /** held-out batches of one evaluation (each a whole forward pass over a batch) */
  maxEvalBatches: number;
}

const MiB = 2 ** 20,
  GiB = 2 ** 30;
/** the longest text a file reader turns into one string (V8's limit is 2^29 − 24 characters) */
const MAX_TEXT = 2 ** 29 - 2 ** 20;

/** the defaults (documented in the README's hardening section) */
export const defaultLimits: Readonly<Limits> = Object.freeze({
  maxMemory: 4 * GiB,
  // JSON files become JS values several times their text's size (and V8 strings end near 512 MiB): model files
  // 256 MiB (≈ 12 M parameters in decimal JSON), sequence files and results 64 MiB; IDX files are bytes
  fileBytes: Object.freeze({ model: 256 * MiB, config: 1 * MiB, sequence: 64 * MiB, idx: 256 * MiB, results: 64 * MiB }),
  inflatedBytes: 1 * GiB,
  maxEvalBatches: 100_000,
});

/** the flag or field that raises each limit, for the error messages */
export const limitFlags: Readonly<Record<string, string>> = {
  maxMemory: '--max-memory SIZE (API: setLimits({maxMemory}))',
  fileBytes: 'setLimits({fileBytes: {KIND: bytes}}) (or --max-memory SIZE, which raises every file limit to at least SIZE)',
  inflatedBytes: 'setLimits({inflatedBytes}) (or --max-memory SIZE)',
  maxEvalBatches: 'setLimits({maxEvalBatches})',
};

let current: Limits = copy(defaultLimits);

function copy(l: Readonly<Limits>): Limits {
  return { ...l, fileBytes: { ...l.fileBytes } };
}

/** the limits in force */
export function getLimits(): Readonly<Limits> {
  return current;
}

const positive = (what: string, v: unknown): number => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    throw new ConfigError(`limits: ${what} must be a positive number of bytes, got ${JSON.stringify(v)}`);
  return v;
};

/** change some limits (unknown fields are refused); returns the limits now in force. `setLimits(defaultLimits)` restores them. */
export function setLimits(
  change: Partial<Omit<Limits, 'fileBytes'>> & { fileBytes?: Partial<Record<FileKind, number>> },
): Readonly<Limits> {
  if (!change || typeof change !== 'object')
    throw new ConfigError('limits: expected an object {maxMemory?, fileBytes?, inflatedBytes?, maxEvalBatches?}');
  const next = copy(current);
  for (const key of Object.keys(change)) {
    const v = (change as Record<string, unknown>)[key];
    if (key === 'fileBytes') {
      if (!v || typeof v !== 'object')
        throw new ConfigError('limits: fileBytes must be an object {model?, config?, sequence?, idx?, results?}');
      for (const kind of Object.keys(v)) {
        if (!Object.hasOwn(next.fileBytes, kind))
          throw new ConfigError(`limits: unknown file kind '${kind}'; kinds: ${Object.keys(next.fileBytes).join(', ')}`);
        const bytes = positive(`fileBytes.${kind}`, (v as Record<string, unknown>)[kind]);
        if (kind !== 'idx' && bytes > MAX_TEXT)
          throw new ConfigError(`limits: fileBytes.${kind} can be at most ${MAX_TEXT} bytes (a text file is read into one string)`);
        next.fileBytes[kind as FileKind] = bytes;
      }
    } else if (key === 'maxMemory' || key === 'inflatedBytes' || key === 'maxEvalBatches') {
      next[key] = positive(key, v);
    } else {
      throw new ConfigError(`limits: unknown limit '${key}'; limits: maxMemory, fileBytes, inflatedBytes, maxEvalBatches`);
    }
  }
  current = next;
  return current;
}

/**
 * `--max-memory SIZE`: the memory limit, and every file and inflation limit raised to at least SIZE (a user
 * who allows 16 GiB of memory means to read a model file of more than 1 GiB).
 */
export function setMaxMemory(size: string | number): Readonly<Limits> {
  const bytes = parseBytes(size, '--max-memory');
  const fileBytes: Record<FileKind, number> = { ...current.fileBytes };
  // a text file is read into one string, which V8 ends just below 512 MiB: text limits stop there
  for (const k of Object.keys(fileBytes) as FileKind[])
    fileBytes[k] = Math.max(fileBytes[k], k === 'config' ? fileBytes[k] : Math.min(bytes, k === 'idx' ? Infinity : MAX_TEXT));
  return setLimits({ maxMemory: bytes, inflatedBytes: Math.max(current.inflatedBytes, bytes), fileBytes });
}

const units: Record<string, number> = {
  '': 1,
  b: 1,
  k: 2 ** 10,
  kb: 2 ** 10,
  kib: 2 ** 10,
  m: MiB,
  mb: MiB,
  mib: MiB,
  g: GiB,
  gb: GiB,
  gib: GiB,
  t: 2 ** 40,
  tb: 2 ** 40,
  tib: 2 ** 40,
};

/** '4G', '512MiB', '1e9' → bytes; `flag` names the option in errors */
export function parseBytes(size: string | number, flag: string): number {
  if (typeof size === 'number') return positive(flag, size);
  const m = /^\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([a-z]*)\s*$/i.exec(String(size));
  const unit = m ? units[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined)
    throw new ConfigError(`${flag} expects a size in bytes, optionally with a unit (K, M, G, T), e.g. 8G; got '${size}'`);
  const bytes = Number(m[1]) * unit;
  if (!(bytes > 0) || !Number.isFinite(bytes)) throw new ConfigError(`${flag} must be a positive size, got '${size}'`);
  return bytes;
}

/** refuse `bytes` of memory implied by `what` (e.g. "hidden 5000 × layers 2") above the memory limit */
export function checkMemory(bytes: number, what: string): void {
  const limit = current.maxMemory;
  if (!(bytes <= limit)) {
    throw new LimitError(
      `${what} implies about ${formatBytes(bytes)} of memory, above the limit of ${formatBytes(limit)}; ` +
        `if the machine has the memory, raise it with ${limitFlags.maxMemory}`,
    );
  }
}

/** refuse a count above a limit; `flag` says how to raise it */
export function checkCount(value: number, limit: number, what: string, flag: string): void {
  if (!(value <= limit)) throw new LimitError(`${what} is ${value}, above the limit of ${limit}; raise it with ${flag}`);
}

/** the sizes of a model that decide its memory (a subset of ModelConfig; core knows no models) */
export interface ModelSizes {
  model: string;
  inputSize: number;
  hidden: number;
  layers: number;
  outputSize: number;
  stateSize?: number;
  decorrelate?: boolean;
}

/**
 * An upper bound on the number of parameters of a model: four gates per recurrent unit (lstm has the most),
 * an H×H and an H×in matrix each, biases; the lru stack's encoder, blocks (complex B and C of N×H, a GLU of
 * 2H×H, a norm) and decoder; decorrelation matrices in×in.
 */
export function parameterBound(c: ModelSizes): number {
  const H = c.hidden,
    L = c.layers,
    I = c.inputSize,
    O = c.outputSize;
  if (c.model === 'lru') {
    const N = c.stateSize ?? Math.max(1, Math.floor(H / 2));
    return I * H + H + L * (4 * N * H + 3 * N + 2 * H * H + 6 * H) + H * O + O;
  }
  const first = I,
    rest = H;
  let n = 4 * H * (first + H + 2) + (L - 1) * 4 * H * (rest + H + 2) + H * O + O;
  if (c.decorrelate) n += first * first + (L - 1) * rest * rest + L * H * H + H * H;
  return n;
}

/**
 * A lower bound on the number of parameters of a model, for checking a file against the sizes its config
 * declares before building anything: every recurrent layer holds an H×H recurrent matrix (held at zero, but
 * stored, when recurrent synapses are off); every lru block a complex N×H input matrix.
 */
export function parameterFloor(c: ModelSizes): number {
  if (c.model === 'lru') return c.layers * 2 * (c.stateSize ?? Math.max(1, Math.floor(c.hidden / 2))) * c.hidden;
  return c.layers * c.hidden * c.hidden;
}

/** bytes of objects per layer besides its numbers (modules, views, caches, a learner's per-layer parts): measured ≈ 12 kB for a gru layer with bptt, bounded generously */
export const LAYER_OVERHEAD_BYTES = 64 * 1024;

/**
 * bytes a model's declared sizes imply: four float64 copies of every parameter (values, gradient, two optimizer
 * moments) and the objects of every layer (so `layers: 100000` of width 3 is refused too: small numbers, but
 * a hundred thousand modules)
 */
export function modelBytes(c: ModelSizes): number {
  return 32 * parameterBound(c) + LAYER_OVERHEAD_BYTES * c.layers;
}

/** describe a model's sizes for an error message */
export function describeModel(c: ModelSizes): string {
  return (
    `model ${c.model} with hidden ${c.hidden}, layers ${c.layers}, input ${c.inputSize}, output ${c.outputSize}` +
    (c.stateSize !== undefined ? `, stateSize ${c.stateSize}` : '')
  );
}

/** check a model's declared sizes against the memory limit, before any buffer is allocated */
export function checkModelMemory(c: ModelSizes, extraBytes = 0, extraWhat = ''): void {
  checkMemory(modelBytes(c) + extraBytes, describeModel(c) + extraWhat);
}

/** bytes one generated batch of B sequences of T steps takes (inputs, targets, masks in float64) */
export function batchBytes(B: number, T: number, inputSize: number, targetWidth: number): number {
  return 8 * B * T * (inputSize + targetWidth + 1);
}

/**
 * The memory a run needs for its activations: a batch of B sequences of T steps (inputs, targets, masks)
 * and, per time step kept, a handful of H-wide buffers per layer for each sequence of the batch.
 */
export function runBytes(c: ModelSizes, B: number, T: number, targetWidth: number): number {
  return batchBytes(B, T, c.inputSize, targetWidth) + 8 * B * c.layers * Math.max(c.hidden, c.stateSize ?? 0) * 16;
}

/**
 * Run `build` and turn an allocation failure (a typed array too large, WebAssembly memory that cannot grow)
 * into a typed error naming what was being built.
 */
export function guardAllocation<T>(what: string, build: () => T): T {
  try {
    return build();
  } catch (e) {
    throw allocationError(what, e);
  }
}

/** an allocation failure as a LimitError naming `what`; any other error unchanged */
export function allocationError(what: string, e: unknown): unknown {
  if (!isAllocationFailure(e)) return e;
  return new LimitError(
    `${what}: the memory could not be allocated (${(e as Error).message}); use smaller sizes ` +
      `(batch, hidden, layers) or a machine with more memory (the declared-size limit is ${limitFlags.maxMemory})`,
  );
}

/** whether an error is the engine saying it cannot allocate (RangeError from typed arrays or Memory.grow) */
export function isAllocationFailure(e: unknown): boolean {
  if (!(e instanceof RangeError)) return false;
  return /allocation failed|Invalid typed array length|Array buffer allocation|WebAssembly\.Memory|Memory\.grow|could not allocate|Out of memory|Invalid array length/i.test(
    e.message,
  );
}
