/**
 * The safetensors file format (Hugging Face's tensor exchange format, read by PyTorch, JAX, candle, …), for
 * float32 and float64 tensors, without a file system (browsers can use it on a download):
 *
 *   8 bytes   N, the header's length (unsigned 64-bit little-endian)
 *   N bytes   UTF-8 JSON: {name: {dtype: "F32" | "F64", shape: [...], data_offsets: [begin, end]}, …,
 *             "__metadata__": {string: string}} — padded with spaces so the data starts 8-byte aligned
 *   the data  every tensor's bytes, row-major, little-endian, at [begin, end) from the end of the header
 *
 * Readers must not trust a file: every offset is checked to lie in the data, tensors not to overlap, and each
 * tensor's byte count to match its shape and dtype; anything else is a FileFormatError that says what.
 */
import { FileFormatError } from '../core/errors.js';
import { formatShape, shapeSize } from '../core/shapes.js';

export type SafetensorsDType = 'F32' | 'F64';

export interface Tensor {
  shape: number[];
  dtype: SafetensorsDType;
  values: Float64Array;
}

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

const WIDTH: Record<SafetensorsDType, number> = { F32: 4, F64: 8 };
/** a header larger than this is not a model's (the reference reader's own limit is 100 MB) */
const MAX_HEADER = 100_000_000;

export function encodeSafetensors(tensors: ReadonlyMap<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    const bytes = shapeSize(t.shape) * WIDTH[t.dtype];
    if (t.values.length !== shapeSize(t.shape))
      throw new FileFormatError(`safetensors: tensor '${name}' has ${t.values.length} values for shape ${formatShape(t.shape)}`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(padded - json.length));
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors.values()) {
    for (const v of t.values) {
      if (t.dtype === 'F32') view.setFloat32(at, v, true);
      else view.setFloat64(at, v, true);
      at += WIDTH[t.dtype];
    }
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array, source: string): SafetensorsFile {
  const fail = (why: string): never => {
    throw new FileFormatError(`${source}: not a readable safetensors file: ${why}`);
  };
  if (bytes.length < 8) fail(`it has ${bytes.length} bytes, fewer than the 8 of the header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(Math.min(MAX_HEADER, bytes.length - 8)))
    fail(`the header length ${n} exceeds the file (${bytes.length} bytes) or the 100 MB limit`);
  const headerEnd = 8 + Number(n);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, headerEnd))) as Record<string, unknown>;
  } catch (e) {
    return fail(`the header is not UTF-8 JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail('the header is not a JSON object');
  const dataLength = bytes.length - headerEnd;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, Tensor>();
  const spans: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!entry || typeof entry !== 'object') fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(entry as object)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e.dtype !== 'F32' && e.dtype !== 'F64') fail(`tensor '${name}' has dtype ${JSON.stringify(e.dtype)}; onward reads F32 and F64`);
    const dtype = e.dtype as SafetensorsDType;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor '${name}' has no valid shape`);
    const shape = e.shape as number[];
    const off = e.data_offsets;
    if (
      !Array.isArray(off) ||
      off.length !== 2 ||
      !off.every((d) => Number.isInteger(d) && d >= 0) ||
      off[0] > off[1] ||
      off[1] > dataLength
    ) {
      fail(`tensor '${name}' has data_offsets ${JSON.stringify(off)} outside the ${dataLength} data bytes`);
    }
    const [begin, end] = off as [number, number];
    const count = shapeSize(shape);
    if (end - begin !== count * WIDTH[dtype])
      fail(`tensor '${name}' holds ${end - begin} bytes, shape ${formatShape(shape)} in ${dtype} needs ${count * WIDTH[dtype]}`);
    spans.push([begin, end, name]);
    const values = new Float64Array(count);
    const at = headerEnd + begin;
    for (let i = 0; i < count; i++) values[i] = dtype === 'F32' ? view.getFloat32(at + 4 * i, true) : view.getFloat64(at + 8 * i, true);
    tensors.set(name, { shape, dtype, values });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++)
    if (spans[i]![0] < spans[i - 1]![1]) fail(`tensors '${spans[i - 1]![2]}' and '${spans[i]![2]}' overlap`);
  return { tensors, metadata };
}
