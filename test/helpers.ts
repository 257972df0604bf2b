/** Readable numeric assertions for the test suites. */
import assert from 'node:assert/strict';
import type { Backend } from '../src/backend/backend.js';
import { TsBackend } from '../src/backend/ts.js';
import { WasmBackend } from '../src/backend/wasm.js';
import { NativeBackend, nativeAvailable } from '../src/backend/native.js';

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

/**
 * Assert |actual − expected| ≤ atol + rtol·|expected| elementwise; NaN must meet NaN and ±Infinity the same
 * infinity. The message names the worst element.
 */
export function expectAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { rtol = 1e-6, atol = 1e-6 }: Tolerance = {},
  what = 'values',
): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} ≠ ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!,
      e = expected[i]!;
    if (Number.isNaN(e) || Number.isNaN(a)) {
      assert.ok(Number.isNaN(a) && Number.isNaN(e), `${what}[${i}]: got ${a}, expected ${e}`);
      continue;
    }
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      assert.equal(a, e, `${what}[${i}]: got ${a}, expected ${e}`);
      continue;
    }
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    assert.fail(
      `${what}[${worst}]: got ${actual[worst]}, expected ${expected[worst]} ` +
        `(|diff| ${Math.abs(actual[worst]! - expected[worst]!).toExponential(3)} > atol ${atol} + rtol ${rtol}·|expected|)`,
    );
  }
}

export function expectFinite(values: ArrayLike<number>, what = 'values'): void {
  for (let i = 0; i < values.length; i++) assert.ok(Number.isFinite(values[i]), `${what}[${i}] is ${values[i]}`);
}

/** The backends every kernel runs on, with the tolerance each is held to against a float64 reference. */
export const backendCases: { label: string; make: () => Backend; tol: Required<Tolerance> }[] = [
  { label: 'ts/float64', make: () => new TsBackend('float64'), tol: { rtol: 1e-12, atol: 1e-12 } },
  { label: 'ts/float32', make: () => new TsBackend('float32'), tol: { rtol: 2e-6, atol: 2e-6 } },
  { label: 'wasm/float32', make: () => new WasmBackend(), tol: { rtol: 2e-6, atol: 2e-6 } },
  // OpenBLAS through FFI where it is installed (CI installs it: .ci/run); the same kernel suite as wasm
  ...(nativeAvailable() ? [{ label: 'native/float32', make: () => new NativeBackend(), tol: { rtol: 2e-6, atol: 2e-6 } }] : []),
];

/** Deterministic test data without touching the library's Rng (so a bug there cannot hide here). */
export function testData(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  let s = (seed * 2654435761 + 12345) >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = lo + ((s >>> 0) / 4294967296) * (hi - lo);
  }
  return out;
}

/** Round to float32, so a float32 backend and the float64 reference start from the same inputs. */
export function f32(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(Float32Array.from(values as ArrayLike<number>));
}

/** every comparison of the shared oracle (src/check/oracle.ts oracleChecks / checkClaim) passed */
export function expectChecksPass(
  checks: readonly { span: string; relErr: number; tolerance: number; pass: boolean }[],
  what: string,
): void {
  assert.ok(checks.length > 0, `${what}: no comparison ran`);
  for (const c of checks) assert.ok(c.pass, `${what}, ${c.span}: relative error ${c.relErr} (tolerance ${c.tolerance})`);
}

/** the flat indices of the parameters whose names pass `keep` */
export function paramIndices(
  names: Iterable<string>,
  entry: (name: string) => { offset: number; size: number },
  keep: (name: string) => boolean,
): number[] {
  const out: number[] = [];
  for (const name of names) {
    if (!keep(name)) continue;
    const e = entry(name);
    for (let i = 0; i < e.size; i++) out.push(e.offset + i);
  }
  return out;
}
