/**
 * Typed errors. Each names the thing that is wrong and, where there is one, the fix,
 * so a user reading a stack trace never has to open the library to understand it.
 * `code` is stable and machine-readable (the CLI prints it in --json mode).
 */
export class OnwardError extends Error {
  readonly code: string = 'ONWARD_ERROR';
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** An array has the wrong length or a matrix the wrong dimensions. */
export class ShapeError extends OnwardError {
  override readonly code = 'SHAPE';
}

/** A configuration value is missing, out of range, or of the wrong type. */
export class ConfigError extends OnwardError {
  override readonly code = 'CONFIG';
}

/** A name (task, model, learner, parameter, kernel) is not known; lists the known ones. */
export class UnknownNameError extends OnwardError {
  override readonly code = 'UNKNOWN_NAME';
  constructor(kind: string, name: string, known: readonly string[]) {
    super(`unknown ${kind} ${typeof name === 'string' ? `'${name}'` : show(name)}; known ${kind}s: ${known.join(', ') || '(none)'}`);
  }
}

/** NaN or ±Infinity where finite numbers are required (inputs, targets, weights). */
export class NonFiniteError extends OnwardError {
  override readonly code = 'NON_FINITE';
}

/** A combination that exists but is not supported, e.g. a learner × model pair. */
export class UnsupportedError extends OnwardError {
  override readonly code: string = 'UNSUPPORTED';
}

/**
 * Something the chosen path needs is not installed (the native backend's FFI package or BLAS library): names
 * the package and how to install it, and the path that works without it.
 */
export class MissingDependencyError extends UnsupportedError {
  override readonly code = 'MISSING_DEPENDENCY';
  constructor(
    readonly dependency: string,
    message: string,
  ) {
    super(message);
  }
}

/** A file that cannot be read as what it claims to be: corrupt, truncated, wrong format or version. */
export class FileFormatError extends OnwardError {
  override readonly code = 'FILE_FORMAT';
}

/**
 * A declared size (layers, hidden, batch, a file's length, …) beyond a limit: names the value, the limit and
 * the flag or limits field that raises it, so a user who means it knows what to change.
 */
export class LimitError extends OnwardError {
  override readonly code: string = 'LIMIT';
}

/** A file or folder that cannot be read or written (missing, a device, no space, no permission): names it and the cause. */
export class FileAccessError extends OnwardError {
  override readonly code = 'FILE_ACCESS';
}

/**
 * Training diverged: a loss, a prediction or the weights became NaN or ±Infinity. Names the step and the
 * quantity; the run stops there, keeping its last good checkpoint.
 */
export class DivergenceError extends OnwardError {
  override readonly code = 'DIVERGED';
  constructor(
    message: string,
    readonly step: number,
    readonly quantity: string,
  ) {
    super(message);
  }
}

/** Another process holds the lock on an output folder (two writers would interleave their records). */
export class LockError extends OnwardError {
  override readonly code = 'LOCKED';
}

/**
 * A value from a file or a caller, for an error message: JSON, at most 80 characters. Never throws — a
 * template string would, for an object with a non-function `toString` key from a damaged file.
 */
export function show(value: unknown): string {
  let text: string;
  try {
    text =
      typeof value === 'number' || typeof value === 'boolean' || value === undefined
        ? String(value)
        : typeof value === 'bigint'
          ? `${value}n`
          : (JSON.stringify(value) ?? typeof value);
  } catch {
    text = Array.isArray(value) ? 'an array' : typeof value;
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * A learner's planned state does not fit: more bytes than the backend's address space (wasm: 4 GiB) or the
 * limit the user set (`--max-memory`). Raised when the learner is built, before anything is allocated;
 * `fits` names the learners that do fit on the same model and batch (filled in by createLearner).
 * A LimitError: a learner's state over the memory limit is one kind of declared size over a limit.
 */
export class MemoryLimitError extends LimitError {
  override readonly code = 'MEMORY_LIMIT';
  fits: string[] = [];
  constructor(
    readonly what: string,
    readonly neededBytes: number,
    readonly limitBytes: number,
    readonly inUseBytes: number,
  ) {
    super(MemoryLimitError.text(what, neededBytes, limitBytes, inUseBytes, []));
  }
  /** the message again, now naming the learner refused and the learners that fit */
  setFits(fits: string[], learner?: string): void {
    this.fits = fits;
    const what = learner && !this.what.startsWith(learner) ? `${learner}: ${this.what}` : this.what;
    this.message = MemoryLimitError.text(what, this.neededBytes, this.limitBytes, this.inUseBytes, fits);
  }
  private static text(what: string, needed: number, limit: number, inUse: number, fits: string[]): string {
    return (
      `${what} needs ${formatBytes(needed)} (${needed} bytes), but the limit is ${formatBytes(limit)} (${limit} bytes)` +
      (inUse > 0 ? ` with ${formatBytes(inUse)} already in use` : '') +
      `; use a smaller model or batch, raise --max-memory if it was set below the address space` +
      (fits.length > 0 ? `, or a learner that fits: ${fits.join(', ')}` : '')
    );
  }
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'unlimited';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes,
    u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

/** A byte count as the user writes it: 1073741824, 1G, 512M, 64k (powers of 1024; B, iB suffixes allowed). */
export function parseBytes(text: string, what = 'a byte count'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(?:i?[bB])?\s*$/.exec(text);
  const v = m ? Number(m[1]) * 1024 ** ' kmgt'.indexOf((m[2] || ' ').toLowerCase()) : NaN;
  if (!(v > 0 && Number.isFinite(v)))
    throw new ConfigError(`${what} must be a positive number of bytes such as 2G, 512M or 1048576, got '${text}'`);
  return Math.floor(v);
}
