/**
 * The IDX file format (LeCun's MNIST format, also used by Fashion-MNIST): a reader, a writer, and an
 * image-set loader that pairs an images file with its labels file.
 *
 * Layout, all integers big-endian:
 *   bytes 0–1  zero
 *   byte  2    data type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
 *   byte  3    number of dimensions n (≥ 1)
 *   then n uint32 dimension sizes, then the elements in row-major order (big-endian for multi-byte types).
 * A file is read gzip-compressed when it starts with the gzip magic 1f 8b (Debian ships `*.gz` files);
 * otherwise as plain bytes. The length must match the header exactly: a shorter file is reported as
 * truncated, a longer one as having trailing bytes. Every problem is a FileFormatError naming the file.
 * `writeIdx` gzips when the path ends in `.gz` (the tests write their own fixtures with it).
 *
 * Bounded reading: the file must be a regular file within the IDX size limit (core/limits.ts), and a gzip file
 * is never inflated past what its header declares — the header is inflated first, from a small prefix, its
 * array size checked against the inflation limit, and the whole file then inflated with that size as the
 * most output zlib may produce (a small gzip of zeros cannot become gigabytes in memory).
 */
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { FileFormatError, LimitError, ShapeError } from '../core/errors.js';
import { readBounded, writeTextAtomic } from '../core/files.js';
import { formatBytes } from '../core/bytes.js';
import { getLimits, limitFlags } from '../core/limits.js';

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  dims: number[];
  data: IdxData;
}

interface IdxType {
  code: number;
  name: string;
  size: number;
  make(n: number): IdxData;
  get(v: DataView, offset: number): number;
  set(v: DataView, offset: number, value: number): void;
}

const types: readonly IdxType[] = [
  { code: 0x08, name: 'uint8', size: 1, make: (n) => new Uint8Array(n), get: (v, o) => v.getUint8(o), set: (v, o, x) => v.setUint8(o, x) },
  { code: 0x09, name: 'int8', size: 1, make: (n) => new Int8Array(n), get: (v, o) => v.getInt8(o), set: (v, o, x) => v.setInt8(o, x) },
  { code: 0x0b, name: 'int16', size: 2, make: (n) => new Int16Array(n), get: (v, o) => v.getInt16(o), set: (v, o, x) => v.setInt16(o, x) },
  { code: 0x0c, name: 'int32', size: 4, make: (n) => new Int32Array(n), get: (v, o) => v.getInt32(o), set: (v, o, x) => v.setInt32(o, x) },
  {
    code: 0x0d,
    name: 'float32',
    size: 4,
    make: (n) => new Float32Array(n),
    get: (v, o) => v.getFloat32(o),
    set: (v, o, x) => v.setFloat32(o, x),
  },
  {
    code: 0x0e,
    name: 'float64',
    size: 8,
    make: (n) => new Float64Array(n),
    get: (v, o) => v.getFloat64(o),
    set: (v, o, x) => v.setFloat64(o, x),
  },
];

const hex = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`;

function typeOf(data: IdxData): IdxType {
  const name =
    data instanceof Uint8Array
      ? 'uint8'
      : data instanceof Int8Array
        ? 'int8'
        : data instanceof Int16Array
          ? 'int16'
          : data instanceof Int32Array
            ? 'int32'
            : data instanceof Float32Array
              ? 'float32'
              : 'float64';
  return types.find((t) => t.name === name)!;
}

const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** Parse IDX bytes (already decompressed); `file` names the source in error messages. */
export function decodeIdx(bytes: Uint8Array, file = '(bytes)'): IdxArray {
  const bad = (problem: string): FileFormatError => new FileFormatError(`IDX file ${file}: ${problem}`);
  if (bytes.length < 4) throw bad(`truncated file: ${bytes.length} bytes, shorter than the 4-byte magic number`);
  const b0 = bytes[0]!,
    b1 = bytes[1]!,
    code = bytes[2]!,
    nd = bytes[3]!;
  if (b0 !== 0 || b1 !== 0) {
    throw bad(
      `wrong magic number ${[b0, b1, code, nd].map(hex).join(' ')}: an IDX file starts with two zero bytes, a type byte and a dimension count`,
    );
  }
  const type = types.find((t) => t.code === code);
  if (!type)
    throw bad(
      `unsupported data type ${hex(code)} in the magic number; supported: ${types.map((t) => `${hex(t.code)} (${t.name})`).join(', ')}`,
    );
  if (nd === 0) throw bad('the magic number declares 0 dimensions');
  const headerBytes = 4 + 4 * nd;
  if (bytes.length < headerBytes)
    throw bad(`truncated file: ${bytes.length} bytes, but the header of ${nd} dimensions needs ${headerBytes}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < nd; i++) {
    const d = view.getUint32(4 + 4 * i);
    dims.push(d);
    count *= d;
  }
  const expected = headerBytes + count * type.size;
  const shape = `${dims.join('×')} ${type.name}`;
  if (bytes.length < expected) throw bad(`truncated file: ${bytes.length} bytes, but a ${shape} array needs ${expected}`);
  if (bytes.length > expected)
    throw bad(`${bytes.length - expected} trailing bytes after the ${shape} array (file ${bytes.length} bytes, expected ${expected})`);
  if (type.code === 0x08) return { dims, data: new Uint8Array(bytes.subarray(headerBytes)) }; // a copy, detached from a pooled Buffer
  const data = type.make(count);
  for (let i = 0; i < count; i++) data[i] = type.get(view, headerBytes + i * type.size);
  return { dims, data };
}

/** Serialise an array as IDX bytes (uncompressed); the data type follows the typed array's class. */
export function encodeIdx(array: IdxArray): Uint8Array {
  const { dims, data } = array;
  if (dims.length < 1 || dims.length > 255) throw new ShapeError(`IDX: between 1 and 255 dimensions, got ${dims.length}`);
  for (const d of dims)
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff)
      throw new ShapeError(`IDX: dimension sizes must be uint32, got [${dims.join(', ')}]`);
  const count = dims.reduce((a, d) => a * d, 1);
  if (count !== data.length) throw new ShapeError(`IDX: dims [${dims.join(', ')}] hold ${count} elements, data has ${data.length}`);
  const type = typeOf(data);
  const headerBytes = 4 + 4 * dims.length;
  const out = new Uint8Array(headerBytes + count * type.size);
  const view = new DataView(out.buffer);
  out[2] = type.code;
  out[3] = dims.length;
  for (const [i, d] of dims.entries()) view.setUint32(4 + 4 * i, d);
  for (let i = 0; i < count; i++) type.set(view, headerBytes + i * type.size, data[i]!);
  return out;
}

/** the byte length an IDX header declares (header included), or null when the bytes do not hold a whole header */
function declaredLength(head: Uint8Array): number | null {
  if (head.length < 4 || head[0] !== 0 || head[1] !== 0) return null;
  const type = types.find((t) => t.code === head[2]);
  const nd = head[3]!;
  if (!type || nd === 0 || head.length < 4 + 4 * nd) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let count = 1;
  for (let i = 0; i < nd; i++) count *= view.getUint32(4 + 4 * i);
  return 4 + 4 * nd + count * type.size;
}

/** inflate a gzip file no further than its IDX header declares (and the inflation limit allows) */
function inflateBounded(raw: Uint8Array, file: string): Uint8Array {
  const limit = getLimits().inflatedBytes;
  const corrupt = (e: unknown): FileFormatError =>
    new FileFormatError(`IDX file ${file}: corrupt or truncated gzip data: ${(e as Error).message}`);
  // the header first, from growing prefixes of the compressed bytes (each inflates to at most ~1000× its size)
  let declared: number | null = null;
  for (let prefix = 256; declared === null; prefix *= 4) {
    const part = raw.subarray(0, Math.min(prefix, raw.length));
    let head: Uint8Array;
    try {
      head = gunzipSync(part, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: 8 << 20 });
    } catch (e) {
      if (part.length === raw.length) throw corrupt(e);
      continue;
    }
    declared = declaredLength(head);
    if (declared !== null) break;
    if (part.length === raw.length) {
      // all of it and still no header: a gzip error (truncated stream) comes first, then what is wrong with the bytes
      try {
        head = gunzipSync(raw, { maxOutputLength: 8 << 20 });
      } catch (e) {
        throw corrupt(e);
      }
    }
    if (head.length >= 1024 || part.length === raw.length) {
      decodeIdx(head, file); // a header that cannot be read: decodeIdx names the problem
      throw corrupt(new Error('the header cannot be read'));
    }
  }
  if (declared > limit) {
    throw new LimitError(
      `IDX file ${file}: its header declares ${formatBytes(declared)} of data, above the limit of ${formatBytes(limit)} ` +
        `for an inflated IDX file; raise it with ${limitFlags.inflatedBytes}`,
    );
  }
  try {
    return gunzipSync(raw, { maxOutputLength: declared + 1 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new FileFormatError(
        `IDX file ${file}: trailing bytes after the declared ${formatBytes(declared)} array (the gzip data inflates to more; inflation stopped there)`,
      );
    }
    throw corrupt(e);
  }
}

/** Read an IDX file, gzip-compressed or plain; bounded (see the top of this file). */
export function readIdx(file: string): IdxArray {
  let raw: Uint8Array = readBounded(file, 'idx', `IDX file ${file}`);
  if (isGzip(raw)) raw = inflateBounded(raw, file);
  else if (file.endsWith('.gz')) {
    throw new FileFormatError(`IDX file ${file}: named .gz but not gzip-compressed (no 1f 8b header)`);
  }
  return decodeIdx(raw, file);
}

/** Write an IDX file (atomically); gzip-compressed when the path ends in `.gz`. */
export function writeIdx(file: string, array: IdxArray): void {
  const bytes = encodeIdx(array);
  writeTextAtomic(file, file.endsWith('.gz') ? gzipSync(bytes) : bytes, `IDX file ${file}`);
}

/** A labelled image set: `count` images of rows×cols uint8 pixels, stored image after image in raster order. */
export interface ImageSet {
  count: number;
  rows: number;
  cols: number;
  pixels: Uint8Array;
  labels: Uint8Array;
}

/** Read an images file (idx3, uint8: count×rows×cols) and its labels file (idx1, uint8: count) and check they match. */
export function readIdxImageSet(imagesFile: string, labelsFile: string): ImageSet {
  const images = readIdx(imagesFile);
  const labels = readIdx(labelsFile);
  if (!(images.data instanceof Uint8Array))
    throw new FileFormatError(`IDX file ${imagesFile}: images must be unsigned bytes (type 0x08), got ${typeOf(images.data).name}`);
  if (!(labels.data instanceof Uint8Array))
    throw new FileFormatError(`IDX file ${labelsFile}: labels must be unsigned bytes (type 0x08), got ${typeOf(labels.data).name}`);
  if (images.dims.length !== 3)
    throw new FileFormatError(`IDX file ${imagesFile}: images must have 3 dimensions (count×rows×cols), got [${images.dims.join(', ')}]`);
  if (labels.dims.length !== 1)
    throw new FileFormatError(`IDX file ${labelsFile}: labels must have 1 dimension (count), got [${labels.dims.join(', ')}]`);
  const [count, rows, cols] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) {
    throw new FileFormatError(
      `images/labels count mismatch: ${imagesFile} holds ${count} images but ${labelsFile} holds ${labels.dims[0]} labels`,
    );
  }
  if (count === 0 || rows === 0 || cols === 0)
    throw new FileFormatError(`IDX file ${imagesFile}: empty image set (${count}×${rows}×${cols})`);
  return { count, rows, cols, pixels: images.data, labels: labels.data };
}
