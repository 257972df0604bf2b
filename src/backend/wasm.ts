/**
 * The `wasm` backend: float32 kernels written in AssemblyScript with SIMD128 (assembly/kernels.ts).
 *
 * Every buffer lives in the module instance's own WebAssembly.Memory. Buffers are planned when a model
 * or learner is built; a kernel call passes byte addresses and allocates nothing. When an allocation
 * needs more memory the memory grows, which detaches every typed-array view on it: `Buf.data`
 * re-derives its view on demand, so holders of a Buf never see a detached array. Buffers that become
 * unreachable are returned to the allocator by a FinalizationRegistry, so users never free anything.
 */
import type { Buf, DType } from './backend.js';
import { type Activation, BackendBase, type RowOp, checkView } from './base.js';
import { LimitError, MemoryLimitError, ShapeError } from '../core/errors.js';
import { formatBytes } from '../core/limits.js';
import { kernelsWasmBase64 } from './kernels.generated.js';

/** The module's exports, as assembly/kernels.ts declares them (pointers are byte addresses). */
interface Kernels {
  memory: WebAssembly.Memory;
  init(scratch: number): void;
  heapBase(): number;
  scratchBytes(): number;
  tanh(n: number, x: number, out: number): void;
  sigmoid(n: number, x: number, out: number): void;
  exp(n: number, x: number, out: number): void;
  relu(n: number, x: number, out: number): void;
  gelu(n: number, x: number, out: number): void;
  tanhDeriv(n: number, y: number, out: number): void;
  sigmoidDeriv(n: number, y: number, out: number): void;
  reluDeriv(n: number, x: number, out: number): void;
  geluDeriv(n: number, x: number, out: number): void;
  fill(n: number, value: number, x: number): void;
  copy(n: number, x: number, y: number): void;
  scale(n: number, alpha: number, x: number): void;
  axpby(n: number, alpha: number, x: number, beta: number, y: number): void;
  mul(n: number, x: number, y: number, accumulate: number, out: number): void;
  add(n: number, x: number, y: number, out: number): void;
  dot(n: number, x: number, y: number): number;
  sum(n: number, x: number): number;
  gemv(trans: number, M: number, N: number, alpha: number, A: number, x: number, beta: number, y: number): void;
  gemm(transA: number, transB: number, M: number, N: number, K: number, alpha: number, A: number, B: number, beta: number, C: number): void;
  ger(M: number, N: number, alpha: number, x: number, y: number, A: number): void;
  traceUpdateRow(M: number, N: number, a: number, u: number, v: number, e: number): void;
  traceUpdateElem(M: number, N: number, a: number, u: number, v: number, e: number): void;
  traceRowAccumulate(M: number, N: number, a: number, u: number, v: number, l: number, e: number, g: number): void;
  accumulateRows(M: number, N: number, l: number, e: number, g: number): void;
  rowsScaledAdd(R: number, J: number, m: number, n: number, y: number, A: number, T: number): void;
  scaleColumns(M: number, N: number, x: number, v: number, beta: number, out: number): void;
  gruStep(
    B: number,
    n: number,
    sPrev: number,
    preIh: number,
    preHh: number,
    sNext: number,
    y: number,
    dfds: number,
    dfda: number,
    dhds: number,
  ): void;
  complexTraceStep(
    M: number,
    N: number,
    aRe: number,
    aIm: number,
    u: number,
    v: number,
    dRe: number,
    dIm: number,
    eRe: number,
    eIm: number,
    gRe: number,
    gIm: number,
  ): void;
  rowSum(M: number, N: number, A: number, out: number): void;
  rowMax(M: number, N: number, A: number, out: number): void;
  colSum(M: number, N: number, A: number, beta: number, out: number): void;
  softmax(M: number, N: number, A: number, log: number, out: number): void;
  sgdStep(n: number, lr: number, momentum: number, weightDecay: number, grad: number, velocity: number, param: number): void;
  adamStep(
    n: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    bc1: number,
    bc2: number,
    l2: number,
    decay: number,
    grad: number,
    m: number,
    v: number,
    param: number,
  ): void;
}

const ALIGN = 16; // one v128
const PAGE = 65536;
/** wasm32 addresses 65536 pages: 4 GiB */
export const WASM_ADDRESS_SPACE = 65536 * PAGE;

class WasmBuf implements Buf {
  private cached: Float32Array;
  constructor(
    readonly backend: WasmBackend,
    readonly ptr: number,
    readonly length: number,
    readonly root: WasmBuf | null,
  ) {
    this.cached = new Float32Array(backend.memory.buffer, ptr, length);
  }
  get data(): Float32Array {
    const view = this.cached;
    if (view.buffer === this.backend.memory.buffer) return view;
    return (this.cached = new Float32Array(this.backend.memory.buffer, this.ptr, this.length));
  }
  view(offset: number, length: number): Buf {
    checkView(this, offset, length);
    return new WasmBuf(this.backend, this.ptr + offset * 4, length, this.root ?? this);
  }
}

/** First-fit free list over [base, top) of the memory, with coalescing; top grows the memory. */
class Allocator {
  private free: { start: number; size: number }[] = [];
  private top: number;
  inUse = 0;
  /** bytes of address space the allocator may use (the backend's memoryLimit) */
  limit = WASM_ADDRESS_SPACE;
  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
  ) {
    this.top = align(base);
  }
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, align(bytes));
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i]!;
      if (block.size >= size) {
        const start = block.start;
        if (block.size === size) this.free.splice(i, 1);
        else {
          block.start += size;
          block.size -= size;
        }
        this.inUse += size;
        return start;
      }
    }
    const start = this.top;
    const end = start + size;
    const have = this.memory.buffer.byteLength;
    // a typed error instead of grow()'s RangeError, for whatever a learner's own check did not plan
    if (this.inUse + size > this.limit || end > WASM_ADDRESS_SPACE)
      throw new MemoryLimitError(`a buffer of ${bytes / 4} numbers`, bytes, this.limit, this.inUse);
    if (end > have) {
      // grow by at least half again, so a model built buffer by buffer grows the memory a few times, not per
      // buffer — but never past the address space, where grow() would fail although the buffer fits
      const most = WASM_ADDRESS_SPACE / PAGE - have / PAGE;
      const need = Math.ceil((end - have) / PAGE),
        pages = Math.min(most, Math.max(need, Math.ceil(have / 2 / PAGE)));
      try {
        this.memory.grow(pages);
      } catch {
        try {
          this.memory.grow(need); // the half-again margin may not fit where the exact need does
        } catch (e) {
          throw new LimitError(
            `wasm backend: cannot grow its memory from ${formatBytes(have)} to ${formatBytes(end)} (WebAssembly memory is at most 4 GiB): ` +
              `${(e as Error).message}; use smaller sizes (batch, hidden, layers) or the ts backend (--set train.backend=ts)`,
          );
        }
      }
    }
    this.top = end;
    this.inUse += size;
    return start;
  }
  release(start: number, bytes: number): void {
    const size = Math.max(ALIGN, align(bytes));
    this.inUse -= size;
    const list = this.free;
    let i = 0;
    while (i < list.length && list[i]!.start < start) i++;
    list.splice(i, 0, { start, size });
    // coalesce with the next and the previous block
    if (i + 1 < list.length && list[i]!.start + list[i]!.size === list[i + 1]!.start) {
      list[i]!.size += list[i + 1]!.size;
      list.splice(i + 1, 1);
    }
    if (i > 0 && list[i - 1]!.start + list[i - 1]!.size === list[i]!.start) {
      list[i - 1]!.size += list[i]!.size;
      list.splice(i, 1);
      i--;
    }
    // give the last block back to the top, so the next large allocation can reuse it
    const last = list[list.length - 1];
    if (last && last.start + last.size === this.top) {
      this.top = last.start;
      list.pop();
    }
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

function decodeBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

let compiled: WebAssembly.Module | null = null;

/** The compiled kernel module, compiled once per process (synchronously: Node and workers allow it). */
function kernelModule(): WebAssembly.Module {
  return (compiled ??= new WebAssembly.Module(decodeBase64(kernelsWasmBase64) as BufferSource));
}

/** Compile the kernel module asynchronously (browsers' main threads refuse large synchronous compiles). */
export async function compileWasmKernels(): Promise<void> {
  compiled ??= await WebAssembly.compile(decodeBase64(kernelsWasmBase64) as BufferSource);
}

export class WasmBackend extends BackendBase {
  /** 'native' for the subclass that hands large matrix products to OpenBLAS (native.ts) */
  readonly name: 'wasm' | 'native' = 'wasm';
  readonly dtype: DType = 'float32';
  readonly memory: WebAssembly.Memory;
  private readonly k: Kernels;
  private readonly allocator: Allocator;
  private readonly registry: FinalizationRegistry<{ ptr: number; bytes: number }>;

  constructor() {
    super();
    const instance = new WebAssembly.Instance(kernelModule(), {});
    this.k = instance.exports as unknown as Kernels;
    this.memory = this.k.memory;
    this.allocator = new Allocator(this.memory, this.k.heapBase());
    this.k.init(this.allocator.alloc(this.k.scratchBytes()));
    this.registry = new FinalizationRegistry(({ ptr, bytes }) => this.allocator.release(ptr, bytes));
  }

  override get memoryLimit(): number {
    return this.allocator.limit;
  }
  override set memoryLimit(bytes: number) {
    this.allocator.limit = Math.min(bytes, WASM_ADDRESS_SPACE);
  }

  alloc(length: number): Buf {
    if (!(length >>> 0 === length)) throw new ShapeError(`alloc: length must be a non-negative integer, got ${length}`);
    const bytes = length * 4;
    const ptr = this.allocator.alloc(bytes);
    this.k.fill(length, 0, ptr); // reused blocks hold old numbers
    const buf = new WasmBuf(this, ptr, length, null);
    this.registry.register(buf, { ptr, bytes });
    return buf;
  }

  bytesInUse(): number {
    return this.allocator.inUse;
  }

  protected fillRaw(x: Buf, value: number): void {
    this.k.fill(x.length, value, x.ptr);
  }
  protected copyRaw(src: Buf, dst: Buf): void {
    this.k.copy(src.length, src.ptr, dst.ptr);
  }
  protected scaleRaw(alpha: number, x: Buf): void {
    this.k.scale(x.length, alpha, x.ptr);
  }
  protected axpbyRaw(alpha: number, x: Buf, beta: number, y: Buf): void {
    this.k.axpby(x.length, alpha, x.ptr, beta, y.ptr);
  }
  protected axpbyAtRaw(n: number, alpha: number, x: Buf, xOff: number, beta: number, y: Buf, yOff: number): void {
    this.k.axpby(n, alpha, x.ptr + 4 * xOff, beta, y.ptr + 4 * yOff);
  }
  protected mulRaw(x: Buf, y: Buf, out: Buf, accumulate: boolean): void {
    this.k.mul(x.length, x.ptr, y.ptr, accumulate ? 1 : 0, out.ptr);
  }
  protected addRaw(x: Buf, y: Buf, out: Buf): void {
    this.k.add(x.length, x.ptr, y.ptr, out.ptr);
  }
  protected dotRaw(x: Buf, y: Buf): number {
    return this.k.dot(x.length, x.ptr, y.ptr);
  }
  protected sumRaw(x: Buf): number {
    return this.k.sum(x.length, x.ptr);
  }
  protected mapRaw(fn: Activation, x: Buf, out: Buf): void {
    this.k[fn](x.length, x.ptr, out.ptr);
  }

  protected gemvRaw(trans: boolean, M: number, N: number, alpha: number, A: Buf, x: Buf, beta: number, y: Buf): void {
    this.k.gemv(trans ? 1 : 0, M, N, alpha, A.ptr, x.ptr, beta, y.ptr);
  }
  protected gemmRaw(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Buf,
    B: Buf,
    beta: number,
    C: Buf,
  ): void {
    if (K === 1) {
      // a rank-1 update (the perturbation learners' outer products at B = 1): op(A) and op(B) are contiguous
      // vectors whatever the transposes, and the outer-product kernel streams C once instead of packing panels
      if (beta === 0) this.k.fill(M * N, 0, C.ptr);
      else if (beta !== 1) this.k.scale(M * N, beta, C.ptr);
      this.k.ger(M, N, alpha, A.ptr, B.ptr, C.ptr);
      return;
    }
    this.k.gemm(transA ? 1 : 0, transB ? 1 : 0, M, N, K, alpha, A.ptr, B.ptr, beta, C.ptr);
  }
  protected gerRaw(M: number, N: number, alpha: number, x: Buf, y: Buf, A: Buf): void {
    this.k.ger(M, N, alpha, x.ptr, y.ptr, A.ptr);
  }
  protected traceRowRaw(M: number, N: number, a: Buf, u: Buf, v: Buf, e: Buf): void {
    this.k.traceUpdateRow(M, N, a.ptr, u.ptr, v.ptr, e.ptr);
  }
  protected traceRowAccumulateRaw(M: number, N: number, a: Buf, u: Buf, v: Buf, l: Buf, e: Buf, g: Buf): void {
    this.k.traceRowAccumulate(M, N, a.ptr, u.ptr, v.ptr, l.ptr, e.ptr, g.ptr);
  }
  protected accumulateRowsRaw(M: number, N: number, l: Buf, e: Buf, g: Buf): void {
    this.k.accumulateRows(M, N, l.ptr, e.ptr, g.ptr);
  }
  protected rowsScaledAddRaw(R: number, J: number, m: number, n: number, y: Buf, A: Buf, T: Buf): void {
    this.k.rowsScaledAdd(R, J, m, n, y.ptr, A.ptr, T.ptr);
  }
  protected traceElemRaw(M: number, N: number, a: Buf, u: Buf, v: Buf, e: Buf): void {
    this.k.traceUpdateElem(M, N, a.ptr, u.ptr, v.ptr, e.ptr);
  }
  protected complexTraceStepRaw(
    M: number,
    N: number,
    aRe: Buf,
    aIm: Buf,
    u: Buf,
    v: Buf,
    dRe: Buf,
    dIm: Buf,
    eRe: Buf,
    eIm: Buf,
    gRe: Buf,
    gIm: Buf,
  ): void {
    this.k.complexTraceStep(M, N, aRe.ptr, aIm.ptr, u.ptr, v.ptr, dRe.ptr, dIm.ptr, eRe.ptr, eIm.ptr, gRe.ptr, gIm.ptr);
  }
  protected gruStepRaw(
    B: number,
    n: number,
    sPrev: Buf,
    preIh: Buf,
    preHh: Buf,
    sNext: Buf,
    y: Buf,
    dfds: Buf,
    dfda: Buf,
    dhds: Buf,
  ): void {
    this.k.gruStep(B, n, sPrev.ptr, preIh.ptr, preHh.ptr, sNext.ptr, y.ptr, dfds.ptr, dfda.ptr, dhds.ptr);
  }
  protected scaleColumnsRaw(M: number, N: number, x: Buf, v: Buf, beta: number, out: Buf): void {
    this.k.scaleColumns(M, N, x.ptr, v.ptr, beta, out.ptr);
  }
  protected rowReduceRaw(op: RowOp, M: number, N: number, A: Buf, out: Buf): void {
    if (op === 'rowSum') this.k.rowSum(M, N, A.ptr, out.ptr);
    else if (op === 'rowMax') this.k.rowMax(M, N, A.ptr, out.ptr);
    else this.k.softmax(M, N, A.ptr, op === 'logSoftmax' ? 1 : 0, out.ptr);
  }
  protected colSumRaw(M: number, N: number, A: Buf, beta: number, out: Buf): void {
    this.k.colSum(M, N, A.ptr, beta, out.ptr);
  }
  protected sgdRaw(lr: number, momentum: number, weightDecay: number, grad: Buf, velocity: Buf | null, param: Buf): void {
    this.k.sgdStep(param.length, lr, velocity ? momentum : 0, weightDecay, grad.ptr, velocity?.ptr ?? 0, param.ptr);
  }
  protected adamRaw(
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    bc1: number,
    bc2: number,
    l2: number,
    decay: number,
    grad: Buf,
    m: Buf,
    v: Buf,
    param: Buf,
  ): void {
    this.k.adamStep(param.length, lr, beta1, beta2, eps, bc1, bc2, l2, decay, grad.ptr, m.ptr, v.ptr, param.ptr);
  }
}
