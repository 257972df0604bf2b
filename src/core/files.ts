/**
 * Files in Node, the careful way: every reader goes through `readBounded` (a regular file, at most the limit
 * for its kind, read through a file descriptor so a file that grows, a procfs entry or a link to /dev/zero
 * cannot make it read forever); every writer writes a whole file atomically (a temporary file beside it,
 * renamed over it) or appends whole records (cut back to its old length when a write fails half-way); folders
 * are created one level at a time (Node's recursive mkdir spins on procfs); and one lock file per output
 * folder keeps two writers apart. Every failure is a typed error naming the file and the cause.
 *
 * Node only (browsers never import this file).
 */
import {
  type Stats,
  closeSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { FileAccessError, FileFormatError, LimitError, LockError } from './errors.js';
import { formatBytes } from './bytes.js';
import { getLimits, limitFlags, type FileKind } from './limits.js';

const causeOf = (e: unknown): string => {
  const err = e as NodeJS.ErrnoException;
  const known: Record<string, string> = {
    ENOENT: 'no such file or folder',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOSPC: 'no space left on the device',
    EISDIR: 'it is a folder',
    ENOTDIR: 'a part of the path is not a folder',
    EROFS: 'read-only file system',
    EDQUOT: 'disk quota exceeded',
    EEXIST: 'it already exists',
    EMFILE: 'too many open files',
    EIO: 'input/output error',
    EFBIG: 'file too large',
    ENAMETOOLONG: 'name too long',
  };
  return err?.code ? `${known[err.code] ?? err.code} (${err.code})` : String(err?.message ?? e);
};

const kindName: Record<FileKind, string> = {
  model: 'model file',
  config: 'config file',
  sequence: 'sequence file',
  idx: 'IDX file',
  results: 'results file',
};

function typeOfStat(st: Stats): string {
  return st.isDirectory()
    ? 'a folder'
    : st.isFIFO()
      ? 'a FIFO (named pipe)'
      : st.isCharacterDevice()
        ? 'a character device'
        : st.isBlockDevice()
          ? 'a block device'
          : st.isSocket()
            ? 'a socket'
            : 'not a regular file';
}

/**
 * The bytes of a file of `kind`, refusing anything but a regular file and more bytes than the kind's limit.
 * `what` names the file in errors (default: "model file 'PATH'").
 */
export function readBounded(path: string, kind: FileKind, what = `${kindName[kind]} '${path}'`): Buffer {
  const limit = getLimits().fileBytes[kind];
  let st;
  try {
    st = statSync(path); // follows links: a link to /dev/zero is a character device
  } catch (e) {
    throw new FileAccessError(`cannot read ${what}: ${causeOf(e)}`);
  }
  if (!st.isFile()) throw new FileAccessError(`cannot read ${what}: it is ${typeOfStat(st)}, not a regular file`);
  if (st.size > limit) throw tooLarge(what, st.size, limit, kind);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new FileAccessError(`cannot read ${what}: ${causeOf(e)}`);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new FileAccessError(`cannot read ${what}: it is not a regular file`); // swapped since the stat
    // read in chunks up to limit + 1 bytes: a procfs entry reports size 0, a growing file more than it said
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1 << 20, limit + 1 - total));
      if (chunk.length === 0) throw tooLarge(what, total, limit, kind);
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (e) {
        throw new FileAccessError(`cannot read ${what}: ${causeOf(e)}`);
      }
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

function tooLarge(what: string, size: number, limit: number, kind: FileKind): LimitError {
  return new LimitError(
    `${what} holds ${size >= limit ? 'more than ' : ''}${formatBytes(size)}, above the limit of ${formatBytes(limit)} for a ${kindName[kind]}; ` +
      `raise it with ${limitFlags.fileBytes!.replace('KIND', kind)}`,
  );
}

/** the text of a file of `kind` (UTF-8), bounded as `readBounded` */
export function readTextBounded(path: string, kind: FileKind, what?: string): string {
  return readBounded(path, kind, what).toString('utf8');
}

/** parse JSON, turning a syntax error into a FileFormatError naming `what` */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FileFormatError(`${what} is not valid JSON (${(e as Error).message}); it may be truncated or corrupt`);
  }
}

/** read and parse a JSON file of `kind` */
export function readJsonFile(path: string, kind: FileKind, what = `${kindName[kind]} '${path}'`): unknown {
  return parseJson(readTextBounded(path, kind, what), what);
}

/**
 * Create a folder and its parents one level at a time, checking each existing level is a folder — Node's
 * recursive mkdir loops forever on procfs (`--out /proc/x`).
 */
export function ensureDir(dir: string, what = `output folder '${dir}'`): void {
  const full = resolve(dir);
  const missing: string[] = [];
  let p = full;
  for (;;) {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new FileAccessError(`cannot create ${what}: ${p}: ${causeOf(e)}`);
      missing.push(p);
      const up = dirname(p);
      if (up === p) break;
      p = up;
      continue;
    }
    if (!st.isDirectory()) throw new FileAccessError(`cannot create ${what}: '${p}' is ${typeOfStat(st)}, not a folder`);
    break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new FileAccessError(`cannot create ${what}: ${d}: ${causeOf(e)}`);
    }
  }
}

const tmpPattern = /\.tmp-(\d+)-\d+$/;

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** remove `NAME.tmp-PID-*` files beside `path` left by a writer that was killed at the rename */
export function cleanStaleTemps(path: string): void {
  const dir = dirname(path),
    base = basename(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(base + '.tmp-')) continue;
    const m = tmpPattern.exec(n);
    if (m && !alive(Number(m[1]))) rmSync(join(dir, n), { force: true });
  }
}

let tmpCounter = 0;

/**
 * Write a text file whole: a temporary file in the same folder, renamed over the target, so the target is
 * always the old file or the new one, never half of one. Stale temporary files of killed writers are removed.
 */
export function writeTextAtomic(path: string, text: string | Uint8Array, what = `'${path}'`): void {
  ensureDir(dirname(path), `the folder of ${what}`);
  cleanStaleTemps(path);
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}${tmpCounter++}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new FileAccessError(`cannot write ${what}: ${causeOf(e)}`);
  }
}

/** write a file in place (devices and pipes such as /dev/stdout cannot be renamed over), errors typed */
export function writeTextFile(path: string, text: string, what = `'${path}'`): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    st = null;
  }
  if (st && !st.isFile() && !st.isDirectory()) {
    try {
      writeFileSync(path, text);
    } catch (e) {
      throw new FileAccessError(`cannot write ${what}: ${causeOf(e)}`);
    }
    return;
  }
  writeTextAtomic(path, text, what);
}

/**
 * Append whole records (lines) in one write; if the write fails part-way (a full disk), the file is cut back
 * to its old length, so it never ends in half a record.
 */
export function appendRecords(path: string, text: string, what = `'${path}'`): void {
  if (text.length === 0) return;
  let fd: number;
  try {
    fd = openSync(path, 'a');
  } catch (e) {
    throw new FileAccessError(`cannot append to ${what}: ${causeOf(e)}`);
  }
  let size = 0;
  try {
    size = fstatSync(fd).size;
    const bytes = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
  } catch (e) {
    try {
      if (fstatSync(fd).isFile()) ftruncateSync(fd, size);
    } catch {
      /* the cause below is what the user needs */
    }
    throw new FileAccessError(`cannot append to ${what}: ${causeOf(e)}`);
  } finally {
    closeSync(fd);
  }
}

const held = new Map<string, string>();
let exitHook = false;

/**
 * Take the lock of an output folder (`.onward.lock` holding this process's id), so that two processes never
 * write into one folder at once. A lock left by a process that no longer runs is taken over. Released by
 * the returned function, and at the latest when this process exits.
 */
export function lockFolder(dir: string, what = `folder '${dir}'`): () => void {
  const file = join(dir, '.onward.lock');
  const key = resolve(file);
  if (held.has(key)) return () => {}; // this process already holds it (nested use)
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      held.set(key, file);
      if (!exitHook) {
        exitHook = true;
        process.on('exit', releaseAll);
      }
      return () => release(key);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new FileAccessError(`cannot lock ${what}: ${causeOf(e)}`);
    }
    let pid = NaN;
    try {
      pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    } catch {
      /* vanished: try again */
    }
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
      throw new LockError(`${what} is in use by process ${pid} (lock file ${file}); wait for it to finish, or use another output folder`);
    }
    rmSync(file, { force: true }); // stale: its process is gone
  }
  throw new LockError(`${what}: could not take the lock file ${file}; another process keeps taking it`);
}

function release(key: string): void {
  const file = held.get(key);
  if (!file) return;
  held.delete(key);
  rmSync(file, { force: true });
}

function releaseAll(): void {
  for (const key of [...held.keys()]) release(key);
}
